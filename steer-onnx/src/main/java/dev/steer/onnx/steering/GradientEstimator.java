package dev.steer.onnx.steering;

import dev.steer.core.model.ConfigJson;
import dev.steer.core.model.ModelConfigException;
import dev.steer.core.steering.SteeringConfig;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;

/**
 * How the ONNX backend estimates the gradient of the steering loss with respect to the latent from
 * forward passes only (ONNX Runtime's inference sessions have no backward pass): central
 * differences along {@code budget} random directions d_1..d_n, evaluated at z + e d_i and
 * z - e d_i (antithetic pairs), combined as
 * <pre>
 *   g = (1/n) sum_i (f(z + e d_i) - f(z - e d_i)) / (2e) * d_i
 * </pre>
 * The directions are scaled so that E[d d^T] = I, which makes E[g] the gradient (up to the O(e^2)
 * error of the central difference): with Gaussian directions d ~ N(0, I); with orthogonalised
 * directions, an orthonormal set q_1..q_n (Gram-Schmidt of Gaussian vectors, a uniformly random
 * n-dimensional subspace) scaled to d_i = sqrt(D) q_i, so g = (D/n) Q Q^T grad, the projection of
 * the gradient on a random subspace stretched by D/n. Orthogonal directions never measure the same
 * component twice, so at equal budget their estimate has lower variance (the cosine with the true
 * gradient concentrates at about sqrt(n/D) instead of sqrt(n/(n+D))). Budgets above the dimension
 * D use several orthonormal bases.
 *
 * <p>Scale: being unbiased, the estimate is long: its norm is about sqrt(D/n) |grad| (D = latent
 * size), of which only the fraction sqrt(n/D) points along the gradient. A steering step
 * z - alpha g therefore lowers the loss by alpha |grad|^2 in expectation, as the exact step does,
 * but also moves the latent about sqrt(D/n) times further, mostly along random directions, which
 * partly cancel over the iterations. With few directions on a large latent (16 of 16384 for SD at
 * 512x512), a smaller step size than the reference's, or a larger budget, keeps that drift down.
 *
 * <p>The perturbation size is relative to the latent: e = {@code relativeStep} x RMS(z), so each
 * perturbation e d_i has about {@code relativeStep} times the norm of the latent itself, whatever
 * the scheduler's scale (Euler latents start at sigma ~ 14.6, DDIM ones near 1); with coarse
 * directions it is the RMS change per latent value that equals {@code relativeStep} x RMS(z). It must be large
 * enough that the loss difference rises above float32 rounding noise of the UNet and the classifier
 * (the difference is about 2 e |d . grad|, and steering gradients are small), and small enough that
 * the loss is close to linear over the perturbation; see {@link #DEFAULT_RELATIVE_STEP}.
 *
 * <p>Coarse directions ({@code grid} g > 0): the relation classifier reads attention maps that
 * respond to where mass sits in the latent far more than to single values, so most of the exact
 * gradient's energy lies in a low-dimensional subspace of spatially coarse patterns. The directions
 * are then drawn in the subspace of latents that are constant over each cell of a g x g partition of
 * each channel (k = C g^2 dimensions, orthonormal basis e_b = indicator of cell b / sqrt(its size)),
 * scaled so that E[d d^T] = P, the projection on that subspace: the estimate's expectation is P grad,
 * and with n = k orthogonal directions it is P grad itself up to the central difference's error. It
 * trades the components outside the subspace (a bias) for an estimate whose cosine with the gradient
 * no longer shrinks with the latent's size; {@code GradientAgreement} in steer-bench measures both.
 *
 * @param budget directions per evaluation (n); one evaluation runs the UNet on 2n + 1 latents
 * @param directions Gaussian or orthogonalised directions
 * @param relativeStep e / RMS(z)
 * @param maxBatch the most latents per UNet call (0: all 2n + 1 in one call; 1: one call per latent);
 *     large models at large budgets may need smaller calls to fit in memory
 * @param seed seed of the directions (each evaluation draws new ones from a sequence derived from it)
 * @param grid 0: the directions span the whole latent (every value on its own); g > 0: they span
 *     the k = C x g x g dimensional subspace of latents that are constant over the cells of a g x g
 *     partition of each channel (see "Coarse directions" above)
 */
public record GradientEstimator(int budget, Directions directions, double relativeStep, int maxBatch, long seed, int grid) {

    /**
     * Perturbation norm relative to the latent's norm, 5e-2. Measured on the conformance model
     * (steer_step_golden, see OnnxSteeringObjectiveTest): the relative error of the central
     * difference along one direction against the exact directional derivative is 14 at 1e-4,
     * 1.4 at 1e-3, 0.18 at 1e-2 (float32 rounding of the UNet and the classifier dominates: the
     * loss moves by only 2 e |d . grad|), 0.05 at 5e-2, 0.03 at 1e-1, then grows again, 0.06 at
     * 2e-1 and 0.12 at 3e-1 (the curvature of the attention softmax). 5e-2 sits at the low end of
     * the good band: a real model's larger gradients lift the signal above rounding at smaller
     * steps, while the curvature scale is set by the latent itself, which the relative step follows.
     * The estimate's own sampling error (its cosine with the gradient is about sqrt(n/D)) is far
     * larger than a few percent per direction, so the choice within the band barely matters.
     */
    public static final double DEFAULT_RELATIVE_STEP = 5e-2;

    /** 16 orthogonalised directions over the whole latent (33 latents per UNet call), relative step 5e-2, one call, seed 0. */
    public static final GradientEstimator WHOLE_LATENT = new GradientEstimator(16, Directions.ORTHOGONAL, DEFAULT_RELATIVE_STEP, 0, 0, 0);

    /**
     * 16 orthogonalised directions on a 4 x 4 grid per latent channel (33 latents per UNet call),
     * relative step 5e-2, one call, seed 0. Measured on the embedded ShapeWorld model (16 x 16 x 4
     * latents; models/shapeworld-onnx/README.md): the estimate's mean cosine with the exact
     * gradient was about twice that of {@link #WHOLE_LATENT} at the same budget, and steering
     * without noise candidates kept 74% of images with both objects (the exact gradient: 76%)
     * where whole-latent directions kept 64% (vanilla 82%).
     */
    public static final GradientEstimator DEFAULTS = WHOLE_LATENT.withGrid(4);

    /**
     * The estimator settings a classifier was tuned with on this backend: {@code base} overridden by
     * the {@code gradient_*} keys ({@link SteeringConfig#ESTIMATOR_KEYS}) of the {@code onnx} section
     * of the {@value SteeringConfig#RECOMMENDED_FILE} beside it; {@code base} when there is no such
     * file or section.
     *
     * @param classifier the checkpoint file or the folder holding it
     * @throws ModelConfigException naming the file when a value is invalid
     */
    public static GradientEstimator recommendedFor(Path classifier, GradientEstimator base) {
        ConfigJson file = SteeringConfig.recommendedFile(classifier);
        ConfigJson json = file == null ? null : file.object("onnx");
        if (json == null) {
            return base;
        }
        try {
            String directions = json.getString("gradient_directions", base.directions().name().toLowerCase(Locale.ROOT));
            Directions d = switch (directions) {
                case "orthogonal" -> Directions.ORTHOGONAL;
                case "gaussian" -> Directions.GAUSSIAN;
                default -> throw new IllegalArgumentException("gradient_directions must be orthogonal or gaussian, got '" + directions + "'");
            };
            return base.withBudget(json.getInt("gradient_budget", base.budget())).withGrid(json.getInt("gradient_grid", base.grid()))
                    .withDirections(d).withRelativeStep(json.getDouble("gradient_relative_step", base.relativeStep()));
        } catch (IllegalArgumentException e) {
            throw new ModelConfigException(json.file(), e.getMessage());
        }
    }

    /** Directions over the whole latent ({@code grid} 0). */
    public GradientEstimator(int budget, Directions directions, double relativeStep, int maxBatch, long seed) {
        this(budget, directions, relativeStep, maxBatch, seed, 0);
    }

    /** How directions are drawn. */
    public enum Directions {
        /** Independent d ~ N(0, I). */
        GAUSSIAN,
        /** An orthonormal random set scaled by sqrt(D) (several bases when the budget exceeds D). */
        ORTHOGONAL
    }

    /** Validates ranges. */
    public GradientEstimator {
        if (budget < 1) {
            throw new IllegalArgumentException("the gradient budget must be at least 1 direction, got " + budget);
        }
        java.util.Objects.requireNonNull(directions, "directions");
        if (!(relativeStep > 0) || Double.isInfinite(relativeStep)) {
            throw new IllegalArgumentException("relative step must be a positive finite number, got " + relativeStep);
        }
        if (maxBatch < 0) {
            throw new IllegalArgumentException("maxBatch must be 0 (all latents in one call) or positive, got " + maxBatch);
        }
        if (grid < 0) {
            throw new IllegalArgumentException("the direction grid must be 0 (whole latent) or positive, got " + grid);
        }
    }

    /** A copy with another budget. */
    public GradientEstimator withBudget(int n) {
        return new GradientEstimator(n, directions, relativeStep, maxBatch, seed, grid);
    }

    /** A copy with other directions. */
    public GradientEstimator withDirections(Directions d) {
        return new GradientEstimator(budget, d, relativeStep, maxBatch, seed, grid);
    }

    /** A copy with another relative step. */
    public GradientEstimator withRelativeStep(double step) {
        return new GradientEstimator(budget, directions, step, maxBatch, seed, grid);
    }

    /** A copy with another batch limit per UNet call. */
    public GradientEstimator withMaxBatch(int latentsPerCall) {
        return new GradientEstimator(budget, directions, relativeStep, latentsPerCall, seed, grid);
    }

    /** A copy with another seed. */
    public GradientEstimator withSeed(long s) {
        return new GradientEstimator(budget, directions, relativeStep, maxBatch, s, grid);
    }

    /** A copy whose directions span the coarse g x g subspace (0: the whole latent). */
    public GradientEstimator withGrid(int g) {
        return new GradientEstimator(budget, directions, relativeStep, maxBatch, seed, g);
    }

    /** Latents per evaluation: the centre and two per direction. */
    public int latentsPerEvaluation() {
        return 2 * budget + 1;
    }

    /** UNet calls per evaluation. */
    public int callsPerEvaluation() {
        int n = latentsPerEvaluation();
        return maxBatch == 0 ? 1 : (n + maxBatch - 1) / maxBatch;
    }

    /**
     * The perturbation size e for a latent of shape [C, h, w]: {@code relativeStep} x RMS(z) x
     * sqrt(D / k), so that the change e d_i has an RMS per latent value of about {@code relativeStep}
     * x RMS(z) whatever the subspace's dimension k (D for the whole latent); {@code relativeStep}
     * stands in for RMS(z) for an all-zero latent.
     */
    public double perturbation(float[] latent, int[] shape) {
        double s = 0;
        for (float v : latent) {
            s += (double) v * v;
        }
        double rms = Math.sqrt(s / Math.max(1, latent.length));
        return relativeStep * (rms > 0 ? rms : 1) * Math.sqrt((double) latent.length / dimension(shape));
    }

    /** The dimension k of the space the directions span for a latent of shape [C, h, w]. */
    public int dimension(int[] shape) {
        checkShape(shape);
        if (grid == 0) {
            return shape[0] * shape[1] * shape[2];
        }
        return shape[0] * Math.min(grid, shape[1]) * Math.min(grid, shape[2]);
    }

    private static void checkShape(int[] shape) {
        if (shape.length != 3 || shape[0] < 1 || shape[1] < 1 || shape[2] < 1) {
            throw new IllegalArgumentException("latent shape must be [channels, height, width], got " + java.util.Arrays.toString(shape));
        }
    }

    /**
     * {@code budget} directions for a latent of shape [C, h, w], flattened: over the whole latent,
     * or ({@code grid} > 0) in the coarse subspace, scaled so that E[d d^T] is the projection on the
     * space they span.
     */
    public float[][] draw(int[] shape, Random rnd) {
        int k = dimension(shape);
        float[][] coefficients = draw(k, rnd);
        if (grid == 0) {
            return coefficients;
        }
        Cells cells = cells(shape);
        float[][] out = new float[budget][shape[0] * cells.cellOf().length];
        for (int i = 0; i < budget; i++) {
            float[] a = coefficients[i];
            float[] d = out[i];
            for (int ch = 0; ch < shape[0]; ch++) {
                for (int p = 0; p < cells.cellOf().length; p++) {
                    int b = cells.cellOf()[p];
                    d[ch * cells.cellOf().length + p] = (float) (a[ch * cells.size().length + b] / Math.sqrt(cells.size()[b]));
                }
            }
        }
        return out;
    }

    /**
     * The projection of a latent-shaped vector (a gradient, say) on the space the directions span:
     * each cell of each channel replaced by its mean ({@code v} itself, copied, for the whole latent).
     * What an estimate from these directions converges to; {@code GradientAgreement} measures how
     * much of the exact gradient it keeps.
     */
    public float[] project(float[] v, int[] shape) {
        checkShape(shape);
        if (grid == 0) {
            return v.clone();
        }
        Cells cells = cells(shape);
        int plane = cells.cellOf().length;
        float[] out = new float[v.length];
        for (int ch = 0; ch < shape[0]; ch++) {
            double[] sum = new double[cells.size().length];
            for (int p = 0; p < plane; p++) {
                sum[cells.cellOf()[p]] += v[ch * plane + p];
            }
            for (int p = 0; p < plane; p++) {
                int b = cells.cellOf()[p];
                out[ch * plane + p] = (float) (sum[b] / cells.size()[b]);
            }
        }
        return out;
    }

    /** The g x g partition of an h x w plane: each position's cell and each cell's size. */
    private record Cells(int[] cellOf, int[] size) {
    }

    private Cells cells(int[] shape) {
        int h = shape[1];
        int w = shape[2];
        int gh = Math.min(grid, h);
        int gw = Math.min(grid, w);
        int[] cellOf = new int[h * w]; // rows and columns split as evenly as they go
        int[] size = new int[gh * gw];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int cell = (y * gh / h) * gw + x * gw / w;
                cellOf[y * w + x] = cell;
                size[cell]++;
            }
        }
        return new Cells(cellOf, size);
    }

    /** {@code budget} directions of dimension {@code dim}, scaled so that E[d d^T] = I. */
    float[][] draw(int dim, Random rnd) {
        float[][] out = new float[budget][];
        if (directions == Directions.GAUSSIAN) {
            for (int i = 0; i < budget; i++) {
                float[] d = new float[dim];
                for (int k = 0; k < dim; k++) {
                    d[k] = (float) rnd.nextGaussian();
                }
                out[i] = d;
            }
            return out;
        }
        double scale = Math.sqrt(dim);
        for (int start = 0; start < budget; start += dim) {
            int n = Math.min(dim, budget - start);
            double[][] q = orthonormal(n, dim, rnd);
            for (int i = 0; i < n; i++) {
                float[] d = new float[dim];
                for (int k = 0; k < dim; k++) {
                    d[k] = (float) (q[i][k] * scale);
                }
                out[start + i] = d;
            }
        }
        return out;
    }

    /** n orthonormal vectors spanning a uniformly random subspace (modified Gram-Schmidt of Gaussians, twice). */
    static double[][] orthonormal(int n, int dim, Random rnd) {
        double[][] q = new double[n][dim];
        for (int i = 0; i < n; i++) {
            double[] v = q[i];
            for (int k = 0; k < dim; k++) {
                v[k] = rnd.nextGaussian();
            }
            for (int pass = 0; pass < 2; pass++) { // re-orthogonalise once: float-safe for n close to dim
                for (int j = 0; j < i; j++) {
                    double[] u = q[j];
                    double dot = 0;
                    for (int k = 0; k < dim; k++) {
                        dot += u[k] * v[k];
                    }
                    for (int k = 0; k < dim; k++) {
                        v[k] -= dot * u[k];
                    }
                }
            }
            double norm = 0;
            for (int k = 0; k < dim; k++) {
                norm += v[k] * v[k];
            }
            norm = Math.sqrt(norm);
            for (int k = 0; k < dim; k++) {
                v[k] /= norm;
            }
        }
        return q;
    }

    /**
     * Combines directional derivatives into the estimate: (1/n) sum_i derivative_i d_i.
     *
     * @param directions the directions as drawn
     * @param derivatives (f(z + e d_i) - f(z - e d_i)) / (2e), one per direction
     */
    public static float[] combine(float[][] directions, double[] derivatives) {
        int dim = directions[0].length;
        double[] acc = new double[dim];
        for (int i = 0; i < directions.length; i++) {
            double c = derivatives[i];
            float[] d = directions[i];
            for (int k = 0; k < dim; k++) {
                acc[k] += c * d[k];
            }
        }
        float[] g = new float[dim];
        for (int k = 0; k < dim; k++) {
            g[k] = (float) (acc[k] / directions.length);
        }
        return g;
    }
}
