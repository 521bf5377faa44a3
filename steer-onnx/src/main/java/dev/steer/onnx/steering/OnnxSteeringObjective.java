package dev.steer.onnx.steering;

import dev.steer.core.attention.AttentionProbe;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.core.relation.RelationClassifier;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.steering.SteeringObjective;
import dev.steer.onnx.FloatTensor;
import dev.steer.onnx.OnnxUNet;
import dev.steer.onnx.UNetOutput;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;

/**
 * The Learn-to-Steer loss at one denoising step on ONNX Runtime, with its gradient estimated from
 * forward passes ({@link GradientEstimator}): the UNet runs on the conditional prompt alone with
 * the latent z and its 2n perturbations z +- e d_i as one batch (2n + 1 latents, the cross-attention
 * probabilities of the subject's and object's token columns fetched), each item's subject and object maps are built in Java
 * ({@link OnnxAttentionProbe}), the relation classifier scores all 2n + 1 map pairs in one call,
 * and the cross-entropies (in double) against the asked relation give the loss at z (exact, the
 * value the steerer's stopping rule reads) and the central differences that make up the estimate.
 *
 * <p>Plugs into the backend-neutral {@link dev.steer.core.steering.GradientSteerer} unchanged.
 * Each evaluation draws new directions from a seeded sequence, so a steered generation is
 * reproducible. {@link #lossOnly} evaluates the loss alone (batch 1) for telemetry. Not thread-safe.
 */
public final class OnnxSteeringObjective implements SteeringObjective {
    private final OnnxUNet unet;
    private final RelationClassifier classifier;
    private final FloatTensor context;
    private final float modelTimestep;
    private final int classifierTimestep;
    private final float inputScale;
    private final int[] latentShape;
    private final Map<RelationTriplet, TokenBinding> bindings;
    private final GradientEstimator estimator;
    private final Predicate<CrossAttentionLayer> layers;
    private final Random random;
    private int unetCalls;
    private int latents;

    /**
     * @param unet the denoiser
     * @param classifier the relation classifier (its {@code float[]} logits are used)
     * @param context conditional text hidden states [1, T, D]
     * @param modelTimestep the timestep passed to the UNet at this step
     * @param classifierTimestep the classifier's timestep index for this step
     * @param inputScale the scheduler's model-input scale at this step (1 for DDIM)
     * @param latentShape [C, h, w]
     * @param bindings token positions of each triplet's words
     * @param estimator budget, directions, perturbation size, batch limit
     * @param seed seed of this objective's direction sequence
     */
    public OnnxSteeringObjective(OnnxUNet unet, RelationClassifier classifier, FloatTensor context, float modelTimestep,
            int classifierTimestep, float inputScale, int[] latentShape, Map<RelationTriplet, TokenBinding> bindings,
            GradientEstimator estimator, long seed) {
        if (latentShape.length != 3) {
            throw new IllegalArgumentException("latent shape must be [channels, height, width]");
        }
        if (context.rank() != 3 || context.dim(0) != 1) {
            throw new IllegalArgumentException("context must be the conditional embedding [1, tokens, dim]");
        }
        this.unet = unet;
        this.classifier = classifier;
        this.context = context;
        this.modelTimestep = modelTimestep;
        this.classifierTimestep = classifierTimestep;
        this.inputScale = inputScale;
        this.latentShape = latentShape.clone();
        this.bindings = Map.copyOf(bindings);
        this.estimator = estimator;
        this.layers = layer -> true;
        this.random = new Random(seed);
    }

    /** The estimator settings. */
    public GradientEstimator estimator() {
        return estimator;
    }

    /** UNet calls made so far. */
    @Override
    public int modelCalls() {
        return unetCalls;
    }

    /** True: an estimate evaluates 2n + 1 latents, the loss alone one. */
    @Override
    public boolean readsLossBeforeGradient() {
        return true;
    }

    /** Latents the UNet evaluated so far (2n + 1 per gradient estimate, 1 per {@link #lossOnly}). */
    @Override
    public int latentEvaluations() {
        return latents;
    }

    @Override
    public Evaluation evaluate(float[] latent, RelationTriplet triplet) {
        return evaluateDetailed(latent, triplet).evaluation();
    }

    /**
     * The loss and class probabilities at {@code latent} without a gradient (one UNet call on batch 1);
     * the gradient of the returned evaluation is all zeros.
     */
    @Override
    public Evaluation lossOnly(float[] latent, RelationTriplet triplet) {
        Batch b = run(latent, new float[0][], 0, triplet);
        return new Evaluation((float) b.losses[0], new float[latent.length], b.probabilities,
                AttentionProbe.wordOverlap(b.maps, OnnxAttentionProbe.MAP_SIZE));
    }

    /** One evaluation with its intermediates (centre maps and logits, the directional derivatives). */
    public Detailed evaluateDetailed(float[] latent, RelationTriplet triplet) {
        float[][] dirs = estimator.draw(latentShape, random);
        double e = estimator.perturbation(latent, latentShape);
        Batch b = run(latent, dirs, e, triplet);
        double[] derivatives = new double[dirs.length];
        int n = dirs.length;
        for (int i = 0; i < n; i++) {
            derivatives[i] = (b.losses[1 + i] - b.losses[1 + n + i]) / (2 * e);
        }
        float[] g = GradientEstimator.combine(dirs, derivatives);
        return new Detailed(new Evaluation((float) b.losses[0], g, b.probabilities), b.logits, b.maps, derivatives, e);
    }

    /** Items: 0 = z, 1..n = z + e d_i, n+1..2n = z - e d_i. */
    private Batch run(float[] latent, float[][] dirs, double e, RelationTriplet triplet) {
        TokenBinding binding = bindings.get(triplet);
        if (binding == null) {
            throw new IllegalArgumentException("no token positions for " + triplet);
        }
        int per = latentShape[0] * latentShape[1] * latentShape[2];
        if (latent.length != per) {
            throw new IllegalArgumentException("latent has " + latent.length + " values, expected " + per);
        }
        int target = classifier.classIndex(triplet.relation());
        int n = dirs.length;
        int total = 2 * n + 1;
        int chunk = estimator.maxBatch() == 0 ? total : estimator.maxBatch();
        // only the words' token columns are fetched from ONNX Runtime; the probes' positions index them
        List<int[]> words = List.of(binding.subjectPositions(), binding.objectPositions());
        int[] selected = OnnxAttentionProbe.onTokenColumns(words).tokenColumns();
        float[] maps = null;
        int mapsPerWord = -1;
        int pairSize = -1;
        for (int start = 0; start < total; start += chunk) {
            int count = Math.min(chunk, total - start);
            float[] x = new float[count * per];
            for (int k = 0; k < count; k++) {
                int item = start + k;
                float sign = item == 0 ? 0f : item <= n ? 1f : -1f;
                float[] d = item == 0 ? null : dirs[item <= n ? item - 1 : item - 1 - n];
                int off = k * per;
                for (int j = 0; j < per; j++) {
                    float v = d == null ? latent[j] : (float) (latent[j] + sign * e * d[j]);
                    x[off + j] = v * inputScale;
                }
            }
            UNetOutput out = unet.forward(FloatTensor.of(x, count, latentShape[0], latentShape[1], latentShape[2]),
                    new float[] {modelTimestep}, context, layers, selected);
            unetCalls++;
            latents += count;
            for (int k = 0; k < count; k++) {
                float[] m = OnnxAttentionProbe.onTokenColumns(words).collect(out, k).classifierMaps();
                if (maps == null) {
                    pairSize = m.length;
                    mapsPerWord = m.length / (2 * OnnxAttentionProbe.MAP_SIZE * OnnxAttentionProbe.MAP_SIZE);
                    maps = new float[total * pairSize];
                }
                System.arraycopy(m, 0, maps, (start + k) * pairSize, pairSize);
            }
        }
        long[] t = new long[total];
        java.util.Arrays.fill(t, classifierTimestep);
        float[] logits = classifier.logits(maps, mapsPerWord, t);
        int classes = logits.length / total;
        double[] losses = new double[total];
        for (int i = 0; i < total; i++) {
            losses[i] = crossEntropy(logits, i * classes, classes, target);
        }
        float[] probabilities = new float[classes];
        double lse = logSumExp(logits, 0, classes);
        for (int c = 0; c < classes; c++) {
            probabilities[c] = (float) Math.exp(logits[c] - lse);
        }
        return new Batch(losses, java.util.Arrays.copyOf(logits, classes), java.util.Arrays.copyOf(maps, pairSize), probabilities);
    }

    private record Batch(double[] losses, float[] logits, float[] maps, float[] probabilities) {
    }

    private static double logSumExp(float[] v, int off, int n) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, v[off + i]);
        }
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.exp(v[off + i] - max);
        }
        return max + Math.log(s);
    }

    private static double crossEntropy(float[] logits, int off, int classes, int target) {
        return logSumExp(logits, off, classes) - logits[off + target];
    }

    /**
     * An evaluation with its intermediates.
     *
     * @param evaluation loss at the centre, estimated gradient, probabilities at the centre
     * @param logits the classifier's logits at the centre
     * @param maps the classifier input at the centre [2, N, 16, 16] flattened
     * @param derivatives the central differences along each direction
     * @param perturbation the perturbation size e used
     */
    public record Detailed(Evaluation evaluation, float[] logits, float[] maps, double[] derivatives, double perturbation) {
    }
}
