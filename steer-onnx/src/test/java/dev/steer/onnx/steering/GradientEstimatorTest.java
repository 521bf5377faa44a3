package dev.steer.onnx.steering;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.model.ModelConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GradientEstimatorTest {
    private static final int[] SHAPE = {4, 16, 16};

    @TempDir
    Path dir;

    @Test
    void coarseDirectionsAreConstantOverEachCellOfTheGrid() {
        float[][] dirs = GradientEstimator.DEFAULTS.withGrid(4).draw(SHAPE, new Random(3));
        assertEquals(16, dirs.length);
        for (float[] d : dirs) {
            assertEquals(4 * 16 * 16, d.length);
            for (int c = 0; c < 4; c++) {
                for (int y = 0; y < 16; y++) {
                    for (int x = 0; x < 16; x++) {
                        // the cell's top-left value: cells are 4 x 4 on a 16 x 16 latent split 4 ways
                        assertEquals(d[c * 256 + (y / 4 * 4) * 16 + x / 4 * 4], d[c * 256 + y * 16 + x]);
                    }
                }
            }
        }
    }

    @Test
    void withAsManyOrthogonalDirectionsAsTheSubspaceHasTheEstimateIsTheProjectedGradient() {
        GradientEstimator est = GradientEstimator.DEFAULTS.withGrid(2).withBudget(16); // k = 4 x 2 x 2 = 16
        assertEquals(16, est.dimension(SHAPE));
        Random rnd = new Random(5);
        float[] grad = new float[4 * 16 * 16];
        for (int i = 0; i < grad.length; i++) {
            grad[i] = (float) rnd.nextGaussian();
        }
        float[][] dirs = est.draw(SHAPE, new Random(9));
        double[] derivatives = new double[dirs.length];
        for (int i = 0; i < dirs.length; i++) {
            derivatives[i] = dot(dirs[i], grad); // what an exact central difference measures
        }
        float[] estimate = GradientEstimator.combine(dirs, derivatives);
        float[] projected = est.project(grad, SHAPE);
        for (int i = 0; i < grad.length; i++) {
            assertEquals(projected[i], estimate[i], 1e-4, "project() is what the estimate converges to");
        }
        // the projection on cell-constant latents: each 8 x 8 cell of each channel replaced by its mean
        for (int c = 0; c < 4; c++) {
            for (int cy = 0; cy < 2; cy++) {
                for (int cx = 0; cx < 2; cx++) {
                    double mean = 0;
                    for (int y = cy * 8; y < cy * 8 + 8; y++) {
                        for (int x = cx * 8; x < cx * 8 + 8; x++) {
                            mean += grad[c * 256 + y * 16 + x] / 64.0;
                        }
                    }
                    assertEquals(mean, estimate[c * 256 + (cy * 8) * 16 + cx * 8], 1e-4);
                }
            }
        }
    }

    @Test
    void thePerturbationKeepsItsSizePerLatentValueInASubspace() {
        float[] latent = new float[4 * 16 * 16];
        java.util.Arrays.fill(latent, 2f);
        GradientEstimator whole = GradientEstimator.WHOLE_LATENT;
        GradientEstimator coarse = GradientEstimator.DEFAULTS.withGrid(4);
        double rmsWhole = rms(whole.draw(SHAPE, new Random(1))[0]) * whole.perturbation(latent, SHAPE);
        double rmsCoarse = rms(coarse.draw(SHAPE, new Random(1))[0]) * coarse.perturbation(latent, SHAPE);
        double expected = GradientEstimator.DEFAULT_RELATIVE_STEP * 2;
        assertEquals(expected, rmsWhole, expected * 0.1);
        assertEquals(expected, rmsCoarse, expected * 0.1);
    }

    @Test
    void aGridLargerThanTheLatentFallsBackToOneCellPerValue() {
        assertEquals(4 * 16 * 16, GradientEstimator.DEFAULTS.withGrid(64).dimension(SHAPE));
        assertThrows(IllegalArgumentException.class, () -> GradientEstimator.DEFAULTS.withGrid(-1));
    }

    @Test
    void theOnnxSectionOfSteeringJsonSetsTheEstimator() throws Exception {
        Files.writeString(dir.resolve("steering.json"), "{\"step_size\": 0.7, \"onnx\": {\"gradient_budget\": 24, \"gradient_grid\": 4, "
                + "\"gradient_directions\": \"gaussian\", \"gradient_relative_step\": 0.02}}");
        GradientEstimator est = GradientEstimator.recommendedFor(dir, GradientEstimator.DEFAULTS);
        assertEquals(24, est.budget());
        assertEquals(4, est.grid());
        assertEquals(GradientEstimator.Directions.GAUSSIAN, est.directions());
        assertEquals(0.02, est.relativeStep(), 1e-12);
        Files.writeString(dir.resolve("steering.json"), "{\"step_size\": 0.7}");
        assertEquals(GradientEstimator.DEFAULTS, GradientEstimator.recommendedFor(dir, GradientEstimator.DEFAULTS));
        Files.writeString(dir.resolve("steering.json"), "{\"onnx\": {\"gradient_directions\": \"sobol\"}}");
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> GradientEstimator.recommendedFor(dir, GradientEstimator.DEFAULTS));
        assertTrue(e.getMessage().contains("sobol") && e.getMessage().contains("steering.json"), e.getMessage());
        Files.writeString(dir.resolve("steering.json"), "{\"onnx\": {\"gradient_budget\": 0}}");
        assertThrows(ModelConfigException.class, () -> GradientEstimator.recommendedFor(dir, GradientEstimator.DEFAULTS));
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    private static double rms(float[] a) {
        return Math.sqrt(dot(a, a) / a.length);
    }
}
