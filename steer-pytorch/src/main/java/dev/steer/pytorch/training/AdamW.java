package dev.steer.pytorch.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.steer.core.internal.weights.TensorData;
import dev.steer.pytorch.nn.Weight;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam with decoupled weight decay (torch.optim.AdamW, amsgrad off) on {@link Weight}s.
 *
 * <p>Per step and parameter: {@code p <- p (1 - lr wd)}; {@code m <- b1 m + (1 - b1) g};
 * {@code v <- b2 v + (1 - b2) g^2}; {@code p <- p - lr/(1 - b1^t) m / (sqrt(v/(1 - b2^t)) + eps)}.
 * The update runs in place in LibTorch's fused Adam kernel (DJL's {@code adamUpdate} with
 * {@code adamw}: one native call per parameter; torch's bias corrections are folded into its
 * step size and epsilon), with gradient recording off; the gradients are then zeroed (LibTorch
 * accumulates them across backward passes). The moments live in the parameters' own manager and
 * are updated in place, so that manager holds a constant number of arrays; gradient handles go
 * to the caller's step scope. The bias corrections use {@link StrictMath}: {@code Math.pow} may
 * differ by an ulp between interpreted and JIT-compiled code, which made runs differ across
 * processes.
 */
final class AdamW {
    private static final String M = "exp_avg.";
    private static final String V = "exp_avg_sq.";

    private final Map<String, Weight> params;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private long step;

    AdamW(Map<String, Weight> params, double weightDecay) {
        this(params, 0.9, 0.999, 1e-8, weightDecay);
    }

    AdamW(Map<String, Weight> params, double beta1, double beta2, double eps, double weightDecay) {
        this.params = new LinkedHashMap<>(params);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        for (Map.Entry<String, Weight> e : this.params.entrySet()) {
            NDArray p = e.getValue().value();
            m.put(e.getKey(), p.getManager().zeros(p.getShape(), DataType.FLOAT32));
            v.put(e.getKey(), p.getManager().zeros(p.getShape(), DataType.FLOAT32));
        }
    }

    /** Steps taken (Adam's t). */
    long step() {
        return step;
    }

    /** Applies one update from the parameters' gradients, then zeroes them; gradient handles land in {@code scope}. */
    void update(NDManager scope, double lr) {
        step++;
        double bc1 = 1 - StrictMath.pow(beta1, step);
        double sqrtBc2 = StrictMath.sqrt(1 - StrictMath.pow(beta2, step));
        // torch: p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps) == lr sqrt(bc2)/bc1 * m / (sqrt(v) + eps sqrt(bc2))
        float stepSize = (float) (lr * sqrtBc2 / bc1);
        float epsilon = (float) (eps * sqrtBc2);
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            for (Map.Entry<String, Weight> e : params.entrySet()) {
                PtNDArray p = (PtNDArray) e.getValue().value();
                NDArray g = p.getGradient();
                g.attach(scope);
                JniUtils.adamUpdate(p, (PtNDArray) g, (PtNDArray) m.get(e.getKey()), (PtNDArray) v.get(e.getKey()), (float) lr, stepSize,
                        (float) weightDecay, 1f, -1f, (float) beta1, (float) beta2, epsilon, true);
                JniUtils.zeroGrad(p);
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /**
     * Scales all gradients so that their global L2 norm is at most {@code maxNorm}
     * (torch.nn.utils.clip_grad_norm_). When the norm is not finite nothing is scaled and the
     * gradients are zeroed instead, so the caller can skip the step without touching the weights.
     *
     * @return the global norm before clipping (NaN or infinite when the step must be skipped)
     */
    double clipGradNorm(NDManager scope, double maxNorm) {
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDManager local = scope.newSubManager()) {
            NDArray[] grads = new NDArray[params.size()];
            NDArray sumSq = null;
            int i = 0;
            for (Weight w : params.values()) {
                NDArray g = w.value().getGradient();
                g.attach(local);
                grads[i++] = g;
                NDArray sq = g.square().sum();
                sumSq = sumSq == null ? sq : sumSq.add(sq);
            }
            double norm = sumSq == null ? 0 : Math.sqrt(sumSq.getFloat());
            if (!Double.isFinite(norm)) {
                params.values().forEach(w -> JniUtils.zeroGrad((PtNDArray) w.value()));
            } else if (norm > maxNorm) {
                float factor = (float) (maxNorm / (norm + 1e-6));
                for (NDArray g : grads) {
                    g.muli(factor);
                }
            }
            return norm;
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    /** The moments as tensors named {@code exp_avg.<param>} and {@code exp_avg_sq.<param>}. */
    Map<String, TensorData> state() {
        Map<String, TensorData> out = new LinkedHashMap<>();
        for (String k : params.keySet()) {
            out.put(M + k, TensorData.ofFloats(m.get(k).getShape().getShape(), m.get(k).toFloatArray()));
        }
        for (String k : params.keySet()) {
            out.put(V + k, TensorData.ofFloats(v.get(k).getShape().getShape(), v.get(k).toFloatArray()));
        }
        return out;
    }

    /**
     * Restores moments saved by {@link #state} and the step count.
     *
     * @param reader name to values (row-major floats), or null when absent
     * @throws IllegalArgumentException when a moment is missing or has the wrong size
     */
    void restore(long steps, java.util.function.Function<String, float[]> reader) {
        for (String k : params.keySet()) {
            restore(m, k, reader.apply(M + k), M + k);
            restore(v, k, reader.apply(V + k), V + k);
        }
        this.step = steps;
    }

    private void restore(Map<String, NDArray> into, String key, float[] values, String name) {
        NDArray old = into.get(key);
        Shape shape = old.getShape();
        if (values == null || values.length != shape.size()) {
            throw new IllegalArgumentException("optimizer state '" + name + "' is " + (values == null ? "missing" : "of the wrong size"));
        }
        into.put(key, RelationClassifierTrainer.aligned(old.getManager().create(values, shape)));
        old.close();
    }
}
