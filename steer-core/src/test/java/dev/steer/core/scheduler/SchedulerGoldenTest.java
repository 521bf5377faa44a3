package dev.steer.core.scheduler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Reproduces the diffusers trajectories of {@code testdata/conformance/sched-*}: timesteps exactly,
 * every model input and latent to 1e-4, driven by the fixtures' fake model.
 */
class SchedulerGoldenTest {
    private static final double TOL = 1e-4;

    /**
     * The fixtures' fake model eps(x, t) = 0.3 x + 0.1 sin(3 x + t / 100), x the scaled model input,
     * evaluated op by op in float32 as the torch reference did (only sin goes through double). Evaluating
     * it in double instead moves eps by an ulp here and there, which the multistep samplers carry
     * along: about 5e-6 instead of 5e-7 after ten steps, still far inside the tolerance.
     */
    static float[] fakeModel(float[] x, float t) {
        float[] eps = new float[x.length];
        float shift = t / 100f;
        for (int j = 0; j < x.length; j++) {
            eps[j] = 0.3f * x[j] + 0.1f * (float) Math.sin(3f * x[j] + shift);
        }
        return eps;
    }

    @ParameterizedTest
    @CsvSource({"sched-ddim, DDIM", "sched-euler, EULER", "sched-dpmpp2m, DPMPP_2M", "sched-pndm, PNDM"})
    void reproducesDiffusersTrajectory(String fixture, SchedulerType expectedType) {
        Scheduler scheduler = Schedulers.load(Conformance.dir(fixture));
        assertEquals(expectedType, scheduler.type());
        Schedule schedule = scheduler.schedule(10);
        double maxErr = 0;
        try (SafetensorsFile g = Conformance.golden(fixture)) {
            float[] expectedT = g.readFloats("timesteps");
            assertArrayEquals(expectedT, schedule.modelTimesteps(), fixture + " timesteps");
            int[] ints = schedule.timesteps();
            assertEquals(expectedT.length, ints.length);
            for (int i = 0; i < ints.length; i++) {
                assertEquals(expectedT[i], (float) ints[i], "integer timestep " + i);
            }
            maxErr = Math.max(maxErr, Conformance.assertClose(fixture + " init_noise_sigma", g.readFloats("init_noise_sigma"),
                    new float[] {schedule.initNoiseSigma()}, TOL));

            float[] x = g.readFloats("x.0");
            float[] t = schedule.modelTimesteps();
            for (int i = 0; i < schedule.size(); i++) {
                float[] input = schedule.scaleModelInput(x, i);
                maxErr = Math.max(maxErr, Conformance.assertClose(fixture + " model_input." + i, g.readFloats("model_input." + i), input, TOL));
                x = schedule.step(fakeModel(input, t[i]), i, x);
                maxErr = Math.max(maxErr, Conformance.assertClose(fixture + " x." + (i + 1), g.readFloats("x." + (i + 1)), x, TOL));
            }
            assertEquals(schedule.size(), schedule.stepIndex());
        }
        System.out.printf("conformance %-40s overall max|diff| = %.3e%n", fixture, maxErr);
    }
}
