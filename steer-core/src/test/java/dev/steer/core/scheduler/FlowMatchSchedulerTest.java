package dev.steer.core.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.testing.Conformance;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The flow-matching scheduler's contract beyond the goldens: config keys, refusals, the image-length rule. */
class FlowMatchSchedulerTest {
    private static final String DEV = "{\"_class_name\": \"FlowMatchEulerDiscreteScheduler\", \"use_dynamic_shifting\": true,"
            + " \"base_shift\": 0.5, \"max_shift\": 1.15, \"base_image_seq_len\": 256, \"max_image_seq_len\": 4096, \"shift\": 3.0}";

    private static FlowMatchEulerDiscreteScheduler scheduler(String json) {
        return (FlowMatchEulerDiscreteScheduler) Schedulers.create(SchedulerType.FLOW_MATCH_EULER, SchedulerConfig.fromJson(json));
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message \"" + e.getMessage() + "\" should mention " + p);
        }
    }

    @Test
    void readsTheFlowMatchingKeysOfTheFluxConfigs() {
        SchedulerConfig dev = SchedulerConfig.load(Conformance.dir("sched-flowmatch-dev").resolve("scheduler_config.json"));
        assertEquals(SchedulerType.FLOW_MATCH_EULER, dev.declaredType());
        assertEquals(3.0, dev.shift());
        assertTrue(dev.useDynamicShifting());
        assertEquals(0.5, dev.baseShift());
        assertEquals(1.15, dev.maxShift());
        assertEquals(256, dev.baseImageSeqLen());
        assertEquals(4096, dev.maxImageSeqLen());
        SchedulerConfig schnell = SchedulerConfig.load(Conformance.dir("sched-flowmatch-schnell").resolve("scheduler_config.json"));
        assertEquals(1.0, schnell.shift());
        assertFalse(schnell.useDynamicShifting());
        // defaults of FlowMatchEulerDiscreteScheduler()
        SchedulerConfig d = SchedulerConfig.defaults();
        assertEquals(1.0, d.shift());
        assertFalse(d.useDynamicShifting());
        assertEquals(0.5, d.baseShift());
        assertEquals(1.15, d.maxShift());
        assertEquals(256, d.baseImageSeqLen());
        assertEquals(4096, d.maxImageSeqLen());
    }

    @Test
    void namesParseToTheFlowMatchType() {
        for (String name : new String[] {"FlowMatchEulerDiscreteScheduler", "flow_match_euler", "flowmatch", "FLOW_MATCH_EULER",
                " FlowMatch "}) {
            assertEquals(SchedulerType.FLOW_MATCH_EULER, SchedulerType.parse(name), name);
        }
        assertFalse(SchedulerType.FLOW_MATCH_EULER.hasAlphasCumprod());
        assertTrue(SchedulerType.DDIM.hasAlphasCumprod());
        assertTrue(SchedulerType.acceptedNames().contains("flowmatch"));
    }

    @Test
    void unsupportedFlowMatchingOptionsAreRefusedByName() {
        assertMentions(assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.fromJson("{\"invert_sigmas\": true}")),
                "invert_sigmas", "true");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.fromJson("{\"shift_terminal\": 0.02}")),
                "shift_terminal", "0.02");
        for (String key : new String[] {"use_karras_sigmas", "use_exponential_sigmas", "use_beta_sigmas"}) {
            assertMentions(assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.fromJson("{\"" + key + "\": true}")),
                    key, "true");
        }
        // the values the FLUX folders write are accepted
        SchedulerConfig.fromJson("{\"invert_sigmas\": false, \"shift_terminal\": null, \"use_beta_sigmas\": false}");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> scheduler("{\"shift\": 0}")), "shift", "0");
        assertMentions(assertThrows(IllegalArgumentException.class,
                () -> scheduler("{\"use_dynamic_shifting\": true, \"base_image_seq_len\": 256, \"max_image_seq_len\": 256}")),
                "base_image_seq_len", "max_image_seq_len");
    }

    @Test
    void dynamicShiftingNeedsTheImageSequenceLength() {
        FlowMatchEulerDiscreteScheduler s = scheduler(DEV);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> s.schedule(8));
        assertMentions(e, "use_dynamic_shifting", "schedule(numInferenceSteps, imageSequenceLength)");
        Scheduler asInterface = s;
        assertThrows(IllegalStateException.class, () -> asInterface.schedule(8));
        assertThrows(IllegalArgumentException.class, () -> s.schedule(8, 0));
        assertThrows(IllegalArgumentException.class, () -> s.schedule(0, 64));
        // the length matters: larger images are shifted towards noise
        float[] small = s.schedule(8, 64).sigmas();
        float[] large = s.schedule(8, 4096).sigmas();
        assertEquals(1f, small[0]);
        assertEquals(1f, large[0]);
        for (int i = 1; i < 8; i++) {
            assertTrue(large[i] > small[i], "sigma " + i + " shifts up with the sequence length");
        }
    }

    @Test
    void muInterpolatesBetweenBaseAndMaxShift() {
        FlowMatchEulerDiscreteScheduler s = scheduler(DEV);
        assertEquals(0.5, s.mu(256), 1e-15);
        assertEquals(1.15, s.mu(4096), 1e-15);
        assertEquals(0.5 + 0.65 * (1024 - 256) / 3840.0, s.mu(1024), 1e-15);
        // FluxPipeline at 1024x1024: 4096 tokens; the sigmas follow e^mu / (e^mu + 1/s - 1)
        FlowMatchSchedule sch = s.schedule(4, 4096);
        double e = Math.exp(1.15);
        for (int i = 0; i < 4; i++) {
            double lin = 1.0 - i * (1.0 - 0.25) / 3;
            assertEquals(e / (e + 1 / lin - 1), sch.sigma(i), 1e-6, "sigma " + i);
        }
    }

    @Test
    void staticShiftMapsSigmasThroughShiftOverOnePlusShiftMinusOne() {
        FlowMatchSchedule sch = scheduler("{\"shift\": 3.0}").schedule(4);
        assertTrue(Double.isNaN(sch.mu()));
        float[] sigmas = sch.sigmas();
        assertEquals(5, sigmas.length);
        for (int i = 0; i < 4; i++) {
            double lin = 1.0 - i * 0.25;
            assertEquals(3 * lin / (1 + 2 * lin), sigmas[i], 1e-7, "sigma " + i);
            assertEquals(sigmas[i] * 1000f, sch.modelTimesteps()[i]);
        }
        assertEquals(0f, sigmas[4]);
        assertArrayEquals(new int[] {1000, 900, 750, 500}, sch.timesteps());
    }

    @Test
    void alphasCumprodIsUnsupportedWithAClearMessage() {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> scheduler(DEV).alphasCumprod());
        assertMentions(e, "alphas_cumprod", "sigmas");
    }

    @Test
    void otherSamplersIgnoreTheImageSequenceLength() {
        SchedulerConfig ddim = SchedulerConfig.load(Conformance.dir("sched-ddim").resolve("scheduler_config.json"));
        for (SchedulerType t : new SchedulerType[] {SchedulerType.DDIM, SchedulerType.EULER, SchedulerType.DPMPP_2M}) {
            Scheduler s = Schedulers.create(t, ddim);
            assertArrayEquals(s.schedule(10).modelTimesteps(), s.schedule(10, 4096).modelTimesteps(), t.name());
            assertThrows(IllegalArgumentException.class, () -> s.schedule(10, 0));
        }
    }

    @Test
    void predictOriginalSampleInvertsTheFlow() {
        // x_t = (1 - sigma) x0 + sigma noise, v = noise - x0  =>  x0 = x_t - sigma v
        Random r = new Random(5);
        float[] x0 = new float[64];
        float[] noise = new float[64];
        for (int j = 0; j < 64; j++) {
            x0[j] = (float) r.nextGaussian();
            noise[j] = (float) r.nextGaussian();
        }
        FlowMatchSchedule sch = scheduler(DEV).schedule(8, 64);
        int i = 3;
        float sigma = sch.sigma(i);
        float[] xt = new float[64];
        float[] v = new float[64];
        for (int j = 0; j < 64; j++) {
            xt[j] = (1 - sigma) * x0[j] + sigma * noise[j];
            v[j] = noise[j] - x0[j];
        }
        Conformance.assertClose("flow-match x0", x0, sch.predictOriginalSample(v, i, xt), 1e-5);
        // the exact velocity carries x_t to the next noise level on the straight line
        for (int k = 0; k < i; k++) {
            sch.step(v, k, xt); // advance the bookkeeping only
        }
        float[] next = sch.step(v, i, xt);
        float sn = sch.sigma(i + 1);
        float[] expected = new float[64];
        for (int j = 0; j < 64; j++) {
            expected[j] = (1 - sn) * x0[j] + sn * noise[j];
        }
        Conformance.assertClose("flow-match step on the line", expected, next, 1e-5);
    }
}
