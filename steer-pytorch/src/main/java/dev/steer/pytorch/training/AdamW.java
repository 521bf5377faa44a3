package dev.steer.pytorch.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.steer.core.weights.TensorData;
import dev.steer.pytorch.nn.Weight;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam with decoupled weight decay (torch.optim.AdamW, amsgrad off) on {@link Weight}s.
 *
 * <p>Per step and parameter: {@code p <- p (1 - lr wd)}; {@code m <- b1 m + (1 - b1) g};
 * {@code v <- b2 v + (1 - b2) g^2}; {@code p <- p - lr/(1 - b1^t) m / (sqrt(v/(1 - b2^t)) + eps)}.
 * Each step replaces every parameter with a fresh leaf array (so gradients never accumulate
 * across steps) and closes the value it replaces; the moments live in the parameters' own
 * manager and are replaced the same way, so that manager holds a constant number of arrays.
 * Intermediates go to the caller's step scope. Gradient recording is off while updating.
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

    /** Applies one update from the parameters' gradients; intermediates land in {@code scope}. */
    void update(NDManager scope, double lr) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            for (Map.Entry<String, Weight> e : params.entrySet()) {
                Weight w = e.getValue();
                NDArray p = w.value();
                NDManager home = p.getManager();
                NDArray g = p.getGradient();
                g.attach(scope);
                NDArray mOld = m.get(e.getKey());
                NDArray vOld = v.get(e.getKey());
                NDArray mNew = scalar(scope, beta1).mul(mOld).addi(g.mul((float) (1 - beta1)));
                NDArray vNew = scalar(scope, beta2).mul(vOld).addi(g.square().muli((float) (1 - beta2)));
                NDArray denom = vNew.div((float) bc2).sqrt().addi((float) eps);
                NDArray pNew = scalar(scope, 1 - lr * weightDecay).mul(p).subi(mNew.div(denom).muli((float) (lr / bc1)));
                mNew.attach(home);
                vNew.attach(home);
                pNew.attach(home);
                m.put(e.getKey(), mNew);
                v.put(e.getKey(), vNew);
                mOld.close();
                vOld.close();
                w.set(pNew);
                pNew.setRequiresGradient(true);
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
    }

    private static NDArray scalar(NDManager scope, double value) {
        return scope.create((float) value);
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
        into.put(key, old.getManager().create(values, shape));
        old.close();
    }
}
