package dev.steer.core.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Reproduces the diffusers {@code FlowMatchEulerDiscreteScheduler} schedules and trajectories of
 * {@code testdata/conformance/sched-flowmatch-schnell} and {@code -dev} as FluxPipeline sets them:
 * FluxPipeline's input sigmas, mu, timesteps and sigmas exactly, the trajectory to 1e-6.
 */
class FlowMatchGoldenTest {
    private static final double TRAJECTORY_TOL = 1e-6;

    @ParameterizedTest
    @CsvSource({"sched-flowmatch-schnell, false", "sched-flowmatch-dev, true"})
    void reproducesFluxPipelineTimestepsSigmasAndMu(String fixture, boolean dynamic) throws IOException {
        FlowMatchEulerDiscreteScheduler scheduler = (FlowMatchEulerDiscreteScheduler) Schedulers.load(Conformance.dir(fixture));
        assertEquals(SchedulerType.FLOW_MATCH_EULER, scheduler.type());
        assertEquals(dynamic, scheduler.usesDynamicShifting());
        JsonObject json = JsonParser.parseString(Files.readString(Conformance.dir(fixture).resolve("schedule.json"))).getAsJsonObject();
        try (SafetensorsFile g = Conformance.golden(fixture)) {
            int n = (int) g.readLongs("input.num_inference_steps")[0];
            int seqLen = (int) g.readLongs("input.image_seq_len")[0];
            assertEquals(json.get("num_inference_steps").getAsInt(), n);

            // FluxPipeline's sigmas before the shift: np.linspace(1, 1/n, n) cast to float32
            double[] lin = Numerics.linspace(1.0, 1.0 / n, n);
            float[] input = new float[n];
            for (int i = 0; i < n; i++) {
                input[i] = (float) lin[i];
            }
            assertArrayEquals(g.readFloats("input.sigmas"), input, fixture + " input.sigmas");

            // calculate_shift in float64: the full-precision value of schedule.json, the float32 one of the golden
            double mu = scheduler.mu(seqLen);
            assertEquals(json.get("mu").getAsDouble(), mu, 0.0, "mu");
            assertEquals(g.readFloats("mu")[0], (float) mu, "mu (float32)");

            FlowMatchSchedule schedule = scheduler.schedule(n, seqLen);
            assertEquals(dynamic ? mu : Double.NaN, schedule.mu());
            assertEquals(n, schedule.size());
            float[] timesteps = g.readFloats("timesteps");
            assertArrayEquals(timesteps, schedule.modelTimesteps(), fixture + " timesteps");
            for (int i = 0; i < n; i++) {
                assertEquals(json.getAsJsonArray("timesteps").get(i).getAsDouble(), schedule.modelTimesteps()[i], 0.0, "schedule.json t" + i);
                assertEquals((int) Math.rint(timesteps[i]), schedule.timesteps()[i], "integer timestep " + i);
            }
            assertArrayEquals(g.readFloats("sigmas"), schedule.sigmas(), fixture + " sigmas");
            assertEquals(0f, schedule.sigma(n));
            if (!dynamic) {
                // without dynamic shifting the length is irrelevant and schedule(n) is allowed
                assertArrayEquals(schedule.sigmas(), scheduler.schedule(n).sigmas());
                assertArrayEquals(schedule.sigmas(), scheduler.schedule(n, 4096).sigmas());
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"sched-flowmatch-schnell", "sched-flowmatch-dev"})
    void reproducesTheDiffusersTrajectory(String fixture) {
        Scheduler scheduler = Schedulers.load(Conformance.dir(fixture));
        double maxErr = 0;
        try (SafetensorsFile g = Conformance.golden(fixture)) {
            int n = (int) g.readLongs("input.num_inference_steps")[0];
            Schedule schedule = scheduler.schedule(n, (int) g.readLongs("input.image_seq_len")[0]);
            assertEquals(1f, schedule.initNoiseSigma());
            float[] t = schedule.modelTimesteps();
            float[] x = g.readFloats("x.0");
            for (int i = 0; i < n; i++) {
                assertSame(x, schedule.scaleModelInput(x, i), "flow matching does not scale the model input");
                float[] v = SchedulerGoldenTest.fakeModel(x, t[i]);
                maxErr = Math.max(maxErr, Conformance.assertClose(fixture + " model_output." + i, g.readFloats("model_output." + i), v,
                        TRAJECTORY_TOL));
                x = schedule.step(v, i, x);
                maxErr = Math.max(maxErr, Conformance.assertClose(fixture + " x." + (i + 1), g.readFloats("x." + (i + 1)), x,
                        TRAJECTORY_TOL));
            }
            assertEquals(n, schedule.stepIndex());
        }
        System.out.printf("conformance %-40s overall max|diff| = %.3e%n", fixture, maxErr);
    }

    @ParameterizedTest
    @CsvSource({"sched-flowmatch-schnell", "sched-flowmatch-dev"})
    void eachGoldenStepIsExactlyTheEulerUpdate(String fixture) {
        // x.{i+1} = x.i + (sigma_{i+1} - sigma_i) * model_output.i in float32, fed the golden's own inputs
        Scheduler scheduler = Schedulers.load(Conformance.dir(fixture));
        try (SafetensorsFile g = Conformance.golden(fixture)) {
            int n = (int) g.readLongs("input.num_inference_steps")[0];
            Schedule schedule = scheduler.schedule(n, (int) g.readLongs("input.image_seq_len")[0]);
            for (int i = 0; i < n; i++) {
                float[] next = schedule.step(g.readFloats("model_output." + i), i, g.readFloats("x." + i));
                assertArrayEquals(g.readFloats("x." + (i + 1)), next, fixture + " x." + (i + 1));
            }
        }
    }
}
