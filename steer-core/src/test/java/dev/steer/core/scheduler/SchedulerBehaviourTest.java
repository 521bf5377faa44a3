package dev.steer.core.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.testing.Conformance;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Timesteps per spacing (expected values derived by hand from diffusers' set_timesteps), the
 * training schedules, v_prediction, step ordering and DDIM inversion.
 */
class SchedulerBehaviourTest {
    /** SD's schedule: scaled_linear 0.00085..0.012 over 1000 steps. */
    private static final String SD = "\"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085, \"beta_end\": 0.012";

    private static Scheduler scheduler(SchedulerType type, String extraJson) {
        return Schedulers.create(type, SchedulerConfig.fromJson("{" + SD + (extraJson.isEmpty() ? "" : ", " + extraJson) + "}"));
    }

    private static int[] timesteps(SchedulerType type, String extraJson, int n) {
        return scheduler(type, extraJson).schedule(n).timesteps();
    }

    @Test
    void ddimTimesteps() {
        // leading: arange(0, n) * (1000 // n), reversed, + steps_offset
        assertArrayEquals(new int[] {901, 801, 701, 601, 501, 401, 301, 201, 101, 1},
                timesteps(SchedulerType.DDIM, "\"timestep_spacing\": \"leading\", \"steps_offset\": 1", 10));
        assertArrayEquals(new int[] {900, 800, 700, 600, 500, 400, 300, 200, 100, 0},
                timesteps(SchedulerType.DDIM, "", 10)); // DDIM's defaults: leading, offset 0
        // trailing: round(arange(1000, 0, -1000 / n)) - 1; steps_offset is not used
        assertArrayEquals(new int[] {999, 899, 799, 699, 599, 499, 399, 299, 199, 99},
                timesteps(SchedulerType.DDIM, "\"timestep_spacing\": \"trailing\", \"steps_offset\": 1", 10));
        // 1000 / 7 = 142.857...: 1000, 857.14, 714.29, 571.43, 428.57, 285.71, 142.86
        assertArrayEquals(new int[] {999, 856, 713, 570, 428, 285, 142},
                timesteps(SchedulerType.DDIM, "\"timestep_spacing\": \"trailing\"", 7));
        // linspace: round(linspace(0, 999, n)), reversed; 7 steps hit .5 values, which round half to even
        assertArrayEquals(new int[] {999, 888, 777, 666, 555, 444, 333, 222, 111, 0},
                timesteps(SchedulerType.DDIM, "\"timestep_spacing\": \"linspace\"", 10));
        // linspace(0, 999, 7) = 0, 166.5, 333, 499.5, 666, 832.5, 999
        assertArrayEquals(new int[] {999, 832, 666, 500, 333, 166, 0},
                timesteps(SchedulerType.DDIM, "\"timestep_spacing\": \"linspace\"", 7));
    }

    @Test
    void eulerTimestepsAndInitNoiseSigma() {
        Scheduler euler = scheduler(SchedulerType.EULER, "");
        Schedule linspace = euler.schedule(10); // Euler's default spacing
        assertArrayEquals(new int[] {999, 888, 777, 666, 555, 444, 333, 222, 111, 0}, linspace.timesteps());
        // sigma_max = sqrt((1 - ac[999]) / ac[999]); linspace/trailing start from sigma_max itself
        double[] ac = euler.alphasCumprod();
        double sigmaMax = Math.sqrt((1 - ac[999]) / ac[999]);
        assertEquals(sigmaMax, linspace.initNoiseSigma(), 1e-5);
        // fractional timesteps: linspace(0, 999, 3) = 0, 499.5, 999
        Schedule three = euler.schedule(3);
        assertArrayEquals(new float[] {999f, 499.5f, 0f}, three.modelTimesteps());
        assertArrayEquals(new int[] {999, 500, 0}, three.timesteps());

        Schedule leading = scheduler(SchedulerType.EULER, "\"timestep_spacing\": \"leading\", \"steps_offset\": 1").schedule(10);
        assertArrayEquals(new int[] {901, 801, 701, 601, 501, 401, 301, 201, 101, 1}, leading.timesteps());
        // leading: sqrt(sigma_max^2 + 1) over the schedule's sigmas, whose largest is sigma(901)
        double sigma901 = Math.sqrt((1 - ac[901]) / ac[901]);
        assertEquals(Math.sqrt(sigma901 * sigma901 + 1), leading.initNoiseSigma(), 1e-5);

        assertArrayEquals(new int[] {999, 899, 799, 699, 599, 499, 399, 299, 199, 99},
                timesteps(SchedulerType.EULER, "\"timestep_spacing\": \"trailing\"", 10));
    }

    @Test
    void dpmTimesteps() {
        // linspace: round(linspace(0, 999, n + 1)), reversed, the last (0) dropped; 499.5 rounds to 500
        assertArrayEquals(new int[] {999, 899, 799, 699, 599, 500, 400, 300, 200, 100}, timesteps(SchedulerType.DPMPP_2M, "", 10));
        // leading: arange(0, n + 1) * (1000 // (n + 1)) = 0, 90, ..., 900, reversed, last dropped, + offset
        assertArrayEquals(new int[] {901, 811, 721, 631, 541, 451, 361, 271, 181, 91},
                timesteps(SchedulerType.DPMPP_2M, "\"timestep_spacing\": \"leading\", \"steps_offset\": 1", 10));
        assertArrayEquals(new int[] {999, 899, 799, 699, 599, 499, 399, 299, 199, 99},
                timesteps(SchedulerType.DPMPP_2M, "\"timestep_spacing\": \"trailing\"", 10));
        // linspace(0, 999, 8) = 0, 142.71, 285.43, 428.14, 570.86, 713.57, 856.29, 999
        assertArrayEquals(new int[] {999, 856, 714, 571, 428, 285, 143}, timesteps(SchedulerType.DPMPP_2M, "", 7));
    }

    @Test
    void pndmTimestepsRepeatTheSecond() {
        // _timesteps ascending; plms = concat(t[:-1], t[-2:-1], t[-1:]) reversed: n + 1 steps
        assertArrayEquals(new int[] {901, 801, 801, 701, 601, 501, 401, 301, 201, 101, 1},
                timesteps(SchedulerType.PNDM, "\"skip_prk_steps\": true, \"steps_offset\": 1", 10));
        assertArrayEquals(new int[] {999, 899, 899, 799, 699, 599, 499, 399, 299, 199, 99},
                timesteps(SchedulerType.PNDM, "\"skip_prk_steps\": true, \"timestep_spacing\": \"trailing\"", 10));
        assertArrayEquals(new int[] {999, 888, 888, 777, 666, 555, 444, 333, 222, 111, 0},
                timesteps(SchedulerType.PNDM, "\"skip_prk_steps\": true, \"timestep_spacing\": \"linspace\"", 10));
        assertArrayEquals(new int[] {1}, timesteps(SchedulerType.PNDM, "\"skip_prk_steps\": true, \"steps_offset\": 1", 1));
    }

    @Test
    void trainingSchedules() {
        // SD's schedule: the float32 value torch gives (the sched-euler golden pins it through init_noise_sigma)
        double[] sd = scheduler(SchedulerType.DDIM, "").alphasCumprod();
        assertEquals(1000, sd.length);
        assertEquals(0.0046600960, sd[999], 1e-9);
        // DDPM's linear 1e-4..0.02: prod(1 - linspace(1e-4, 0.02, 1000)) = 4.0358e-5 in float64
        double[] linear = Schedulers.create(SchedulerType.DDIM, SchedulerConfig.defaults()).alphasCumprod();
        assertEquals(4.0358e-5, linear[999], 2e-8);
        assertEquals(1 - 1e-4, linear[0], 1e-7);
        // Glide's cosine schedule: alpha_bar(t) = cos((t + 0.008) / 1.008 * pi / 2)^2, betas capped at 0.999
        double[] cos = Schedulers.create(SchedulerType.DDIM, SchedulerConfig.fromJson("{\"beta_schedule\": \"squaredcos_cap_v2\"}"))
                .alphasCumprod();
        assertEquals(0.99995872, cos[0], 1e-7);
        assertEquals(0.49228517, cos[500], 1e-6);
        for (double[] ac : new double[][] {sd, linear, cos}) {
            for (int i = 1; i < ac.length; i++) {
                assertTrue(ac[i] < ac[i - 1] && ac[i] > 0);
            }
        }
    }

    @Test
    void configOfAnotherClassDrivesAnyScheduler() {
        // diffusers' EulerDiscreteScheduler.from_config(ddim_config): leading spacing and offset come along
        Scheduler euler = Schedulers.create(SchedulerType.EULER, SchedulerConfig.load(Conformance.dir("sched-ddim").resolve("scheduler_config.json")));
        Schedule s = euler.schedule(10);
        assertArrayEquals(new int[] {901, 801, 701, 601, 501, 401, 301, 201, 101, 1}, s.timesteps());
        assertTrue(s.initNoiseSigma() > 7 && s.initNoiseSigma() < 14);
        for (SchedulerType t : SchedulerType.values()) {
            if (t != SchedulerType.PNDM) { // the Euler config leaves skip_prk_steps at PNDM's default, false
                assertEquals(t, Schedulers.create(t, SchedulerConfig.load(Conformance.dir("sched-euler").resolve("scheduler_config.json"))).type());
            }
        }
    }

    /** Fake epsilon model of the fixtures. */
    private static float[] eps(float[] x, float t) {
        return SchedulerGoldenTest.fakeModel(x, t);
    }

    /** The v-prediction equivalent of {@link #eps}: v = sqrt(a) eps - sqrt(1 - a) x0 for the VP input x = sqrt(a) x0 + sqrt(1 - a) eps. */
    private static float[] v(float[] x, float t, double alphaBar) {
        float[] e = eps(x, t);
        float[] v = new float[x.length];
        double sa = Math.sqrt(alphaBar);
        double sb = Math.sqrt(1 - alphaBar);
        for (int j = 0; j < x.length; j++) {
            double x0 = (x[j] - sb * e[j]) / sa;
            v[j] = (float) (sa * e[j] - sb * x0);
        }
        return v;
    }

    private static float[] noise(int n, long seed, float scale) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian() * scale;
        }
        return x;
    }

    @Test
    void vPredictionFollowsTheSameTrajectoryAsEpsilon() {
        String[] spacings = {"leading", "trailing", "linspace"};
        for (SchedulerType type : new SchedulerType[] {SchedulerType.DDIM, SchedulerType.EULER, SchedulerType.DPMPP_2M}) {
            for (String spacing : spacings) {
                String common = "\"timestep_spacing\": \"" + spacing + "\", \"steps_offset\": 1, \"clip_sample\": false, \"set_alpha_to_one\": false";
                Scheduler epsSched = scheduler(type, common);
                Scheduler vSched = scheduler(type, common + ", \"prediction_type\": \"v_prediction\"");
                double[] ac = vSched.alphasCumprod();
                Schedule a = epsSched.schedule(10); // whole timesteps for every spacing
                Schedule b = vSched.schedule(10);
                float[] xa = noise(64, 7, a.initNoiseSigma());
                float[] xb = xa.clone();
                int[] t = b.timesteps();
                for (int i = 0; i < a.size(); i++) {
                    float[] ina = a.scaleModelInput(xa, i);
                    float[] inb = b.scaleModelInput(xb, i);
                    float[] va = eps(ina, t[i]);
                    float[] vb = v(inb, t[i], ac[t[i]]);
                    double x0Err = Conformance.maxAbsDiff(a.predictOriginalSample(va, i, xa), b.predictOriginalSample(vb, i, xb));
                    assertTrue(x0Err <= 1e-4, type + " " + spacing + " x0 at step " + i + ": " + x0Err);
                    xa = a.step(va, i, xa);
                    xb = b.step(vb, i, xb);
                }
                Conformance.assertClose(type + " " + spacing + " v vs eps final", xa, xb, 1e-4);
            }
        }
        // PNDM combines raw v outputs of several steps before converting them, so only its first step agrees
        Scheduler epsPndm = scheduler(SchedulerType.PNDM, "\"skip_prk_steps\": true");
        Scheduler vPndm = scheduler(SchedulerType.PNDM, "\"skip_prk_steps\": true, \"prediction_type\": \"v_prediction\"");
        Schedule a = epsPndm.schedule(10);
        Schedule b = vPndm.schedule(10);
        float[] x = noise(64, 3, 1f);
        int t0 = a.timesteps()[0];
        Conformance.assertClose("PNDM v vs eps first step", a.step(eps(x, t0), 0, x), b.step(v(x, t0, vPndm.alphasCumprod()[t0]), 0, x), 1e-5);
    }

    @Test
    void predictOriginalSampleInvertsTheForwardProcess() {
        // x_t = sqrt(a) x0 + sqrt(1 - a) eps: every VP scheduler recovers x0 from (eps, x_t)
        float[] x0 = noise(32, 11, 1f);
        float[] e = noise(32, 12, 1f);
        for (SchedulerType type : SchedulerType.values()) {
            if (!type.hasAlphasCumprod()) {
                continue; // flow matching: FlowMatchSchedulerTest pins its own x0 = x - sigma v
            }
            Scheduler s = scheduler(type, "\"skip_prk_steps\": true, \"clip_sample\": false");
            Schedule sch = s.schedule(10);
            int i = 3;
            int t = sch.timesteps()[i];
            double a = s.alphasCumprod()[t];
            float[] xt = new float[x0.length];
            for (int j = 0; j < xt.length; j++) {
                xt[j] = (float) (Math.sqrt(a) * x0[j] + Math.sqrt(1 - a) * e[j]);
            }
            // Euler's latent is the VP latent scaled by sqrt(sigma^2 + 1) = 1 / sqrt(a)
            float[] sample = xt.clone();
            if (type == SchedulerType.EULER) {
                for (int j = 0; j < xt.length; j++) {
                    sample[j] = (float) (xt[j] / Math.sqrt(a));
                }
            }
            Conformance.assertClose(type + " x0", x0, sch.predictOriginalSample(e, i, sample), 1e-4);
        }
    }

    @Test
    void stepsMustBeTakenInOrder() {
        Schedule s = scheduler(SchedulerType.DPMPP_2M, "").schedule(3);
        float[] x = noise(8, 1, 1f);
        float[] e = noise(8, 2, 1f);
        assertThrows(IllegalStateException.class, () -> s.step(e, 1, x));
        assertThrows(IllegalStateException.class, () -> s.scaleModelInput(x, 1));
        assertSame(x, s.scaleModelInput(x, 0));
        assertSame(x, s.scaleModelInput(x, 0)); // repeatable for the current step
        float[] x1 = s.step(e, 0, x);
        assertEquals(1, s.stepIndex());
        IllegalStateException again = assertThrows(IllegalStateException.class, () -> s.step(e, 0, x1));
        assertTrue(again.getMessage().contains("current step is 1"), again.getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.step(new float[7], 1, x1));
        assertEquals(1, s.stepIndex()); // a refused call changes nothing
        float[] x2 = s.step(e, 1, x1);
        s.step(e, 2, x2);
        assertEquals(3, s.stepIndex());
        IllegalStateException done = assertThrows(IllegalStateException.class, () -> s.step(e, 3, x2));
        assertTrue(done.getMessage().contains("all 3 steps are done"), done.getMessage());
        // x0 estimates do not touch the state
        s.predictOriginalSample(e, 0, x);
        assertThrows(IndexOutOfBoundsException.class, () -> s.predictOriginalSample(e, 3, x));
    }

    @Test
    void schedulesAreIndependentAndTimestepsAreCopies() {
        Scheduler sch = scheduler(SchedulerType.PNDM, "\"skip_prk_steps\": true");
        Schedule a = sch.schedule(5);
        a.timesteps()[0] = -1;
        assertEquals(800, a.timesteps()[0]); // leading, offset 0: 800, 600, 600, 400, 200, 0
        float[] x = noise(16, 5, 1f);
        float[] e = noise(16, 6, 1f);
        a.step(e, 0, x);
        Schedule b = sch.schedule(5);
        assertEquals(0, b.stepIndex());
        assertArrayEquals(a.timesteps(), b.timesteps());
        assertThrows(IllegalArgumentException.class, () -> sch.schedule(0));
        assertThrows(IllegalArgumentException.class, () -> sch.schedule(1001));
        // leading spacing with an offset can leave the training range; diffusers would fail later
        assertThrows(IllegalArgumentException.class, () -> scheduler(SchedulerType.DDIM, "\"steps_offset\": 1").schedule(1000));
    }

    @Test
    void ddimInversionUndoesTheForwardStep() {
        DDIMScheduler ddim = (DDIMScheduler) Schedulers.create(SchedulerType.DDIM,
                SchedulerConfig.load(Conformance.dir("sched-ddim").resolve("scheduler_config.json")));
        Schedule s = ddim.schedule(10); // 901 -> 801 -> ... -> 1
        float[] x801 = noise(64, 21, 1f);
        float[] e = eps(x801, 801f);
        float[] x901 = ddim.invertStep(e, 801, 901, x801);
        // the forward step from 901 with the same model output returns to x801
        Conformance.assertClose("DDIM invert then step", x801, s.step(e, 0, x901), 1e-5);

        // from the clean end (alphas_cumprod[0] with set_alpha_to_one false) to the first timestep
        float[] clean = noise(64, 22, 1f);
        float[] up = ddim.invertStep(e, 0, 1, clean);
        float[] back = ddim.invertStep(e, -1, 1, clean); // negative: the final alpha, here alphas_cumprod[0]
        assertArrayEquals(up, back);
        assertThrows(IllegalArgumentException.class, () -> ddim.invertStep(e, 801, 801, x801));
        assertThrows(IllegalArgumentException.class, () -> ddim.invertStep(e, 901, 1000, x801));
    }
}
