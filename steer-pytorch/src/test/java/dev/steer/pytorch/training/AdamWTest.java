package dev.steer.pytorch.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.steer.core.internal.weights.TensorData;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Weight;
import dev.steer.pytorch.internal.weights.ModelWeights;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** AdamW against torch.optim.AdamW's update rule computed in Java, resume of its state, constant memory. */
class AdamWTest {
    private static final double LR = 0.01;
    private static final double WD = 0.05;

    /** Squared error of a linear layer on fixed data; leaves the gradients on the weights. */
    private static void backward(Linear layer, NDManager scope) {
        NDArray x = scope.create(new float[] {0.5f, -1f, 2f, 1.5f, 0.25f, -0.75f}, new Shape(2, 3));
        NDArray y = scope.create(new float[] {1f, -2f, 0.5f, 3f}, new Shape(2, 2));
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            gc.backward(layer.forward(x).sub(y).square().sum());
        }
    }

    /** A seeded 3 -> 2 linear layer whose weights record gradients. */
    private static Linear trainableLayer(NDManager weights) {
        Linear layer = new Linear(3, 2, true);
        ModelWeights.randomize(layer, 7, weights);
        layer.setRequiresGradient(true);
        return layer;
    }

    private static Map<String, float[]> values(Linear layer) {
        Map<String, float[]> out = new LinkedHashMap<>();
        layer.namedParameters().forEach((k, w) -> out.put(k, w.value().toFloatArray()));
        return out;
    }

    @Test
    void matchesTorchAdamWAndKeepsTheWeightsManagerConstant() {
        try (NDManager manager = Engine.getEngine("PyTorch").newBaseManager(); NDManager weights = manager.newSubManager()) {
            Linear layer = trainableLayer(weights);
            AdamW adam = new AdamW(layer.namedParameters(), WD);
            Map<String, double[]> p = new LinkedHashMap<>();
            Map<String, double[]> m = new LinkedHashMap<>();
            Map<String, double[]> v = new LinkedHashMap<>();
            values(layer).forEach((k, a) -> {
                double[] d = new double[a.length];
                for (int i = 0; i < a.length; i++) {
                    d[i] = a[i];
                }
                p.put(k, d);
                m.put(k, new double[a.length]);
                v.put(k, new double[a.length]);
            });
            int arrays = -1;
            for (int t = 1; t <= 5; t++) {
                try (NDManager scope = manager.newSubManager()) {
                    backward(layer, scope);
                    Map<String, float[]> grads = new LinkedHashMap<>();
                    for (Map.Entry<String, Weight> e : layer.namedParameters().entrySet()) {
                        NDArray g = e.getValue().value().getGradient();
                        grads.put(e.getKey(), g.toFloatArray());
                        g.close();
                    }
                    adam.update(scope, LR);
                    // torch.optim.AdamW (amsgrad=False), in double
                    double bc1 = 1 - Math.pow(0.9, t);
                    double bc2 = 1 - Math.pow(0.999, t);
                    for (String k : p.keySet()) {
                        double[] pk = p.get(k);
                        float[] g = grads.get(k);
                        for (int i = 0; i < pk.length; i++) {
                            pk[i] *= 1 - LR * WD;
                            m.get(k)[i] = 0.9 * m.get(k)[i] + 0.1 * g[i];
                            v.get(k)[i] = 0.999 * v.get(k)[i] + 0.001 * g[i] * g[i];
                            pk[i] -= LR / bc1 * m.get(k)[i] / (Math.sqrt(v.get(k)[i]) / Math.sqrt(bc2) + 1e-8);
                        }
                    }
                }
                for (Map.Entry<String, float[]> e : values(layer).entrySet()) {
                    double[] expected = p.get(e.getKey());
                    for (int i = 0; i < expected.length; i++) {
                        assertEquals(expected[i], e.getValue()[i], 1e-5, e.getKey() + "[" + i + "] after step " + t);
                    }
                }
                int now = weights.getManagedArrays().size();
                if (arrays >= 0) {
                    assertEquals(arrays, now, "arrays in the weights' manager after step " + t);
                }
                arrays = now;
            }
            // gradients are zeroed after each update: a fresh backward gives the fresh gradient, not a sum
            try (NDManager scope = manager.newSubManager()) {
                backward(layer, scope);
                float[] once = layer.namedParameters().get("bias").value().getGradient().toFloatArray();
                layer.namedParameters().values().forEach(w -> ai.djl.pytorch.jni.JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) w.value()));
                backward(layer, scope);
                assertArrayEquals(once, layer.namedParameters().get("bias").value().getGradient().toFloatArray(), 1e-6f);
            }
        }
    }

    @Test
    void restoredStateContinuesExactly() {
        try (NDManager manager = Engine.getEngine("PyTorch").newBaseManager()) {
            NDManager wa = manager.newSubManager();
            NDManager wb = manager.newSubManager();
            Linear a = new Linear(3, 2, true);
            Linear b = new Linear(3, 2, true);
            ModelWeights.randomize(a, 3, wa);
            a.setRequiresGradient(true);
            AdamW adamA = new AdamW(a.namedParameters(), WD);
            for (int t = 0; t < 3; t++) {
                try (NDManager scope = manager.newSubManager()) {
                    backward(a, scope);
                    adamA.update(scope, LR);
                }
            }
            // b: a's weights and a's saved moments, as a resumed run would load them
            ModelWeights.randomize(b, 99, wb);
            values(a).forEach((k, val) -> b.namedParameters().get(k).set(wb.create(val, b.namedParameters().get(k).shape())));
            b.setRequiresGradient(true);
            Map<String, TensorData> saved = adamA.state();
            AdamW adamB = new AdamW(b.namedParameters(), WD);
            adamB.restore(adamA.step(), name -> saved.containsKey(name) ? saved.get(name).floats() : null);
            for (Linear l : new Linear[] {a, b}) {
                try (NDManager scope = manager.newSubManager()) {
                    backward(l, scope);
                    (l == a ? adamA : adamB).update(scope, LR);
                }
            }
            Map<String, float[]> va = values(a);
            values(b).forEach((k, val) -> assertArrayEquals(va.get(k), val, k));
            wa.close();
            wb.close();
        }
    }

    @Test
    void clipGradNormScalesAllGradientsToTheMaximumGlobalNorm() {
        try (NDManager manager = Engine.getEngine("PyTorch").newBaseManager(); NDManager weights = manager.newSubManager()) {
            Linear layer = trainableLayer(weights);
            AdamW adam = new AdamW(layer.namedParameters(), WD);
            try (NDManager scope = manager.newSubManager()) {
                backward(layer, scope);
                double expected = 0;
                for (Weight w : layer.namedParameters().values()) {
                    for (float g : w.value().getGradient().toFloatArray()) {
                        expected += (double) g * g;
                    }
                }
                expected = Math.sqrt(expected);
                double norm = adam.clipGradNorm(scope, expected / 4);
                assertEquals(expected, norm, 1e-4 * expected, "returns the norm before clipping");
                double after = 0;
                for (Weight w : layer.namedParameters().values()) {
                    for (float g : w.value().getGradient().toFloatArray()) {
                        after += (double) g * g;
                    }
                }
                assertEquals(expected / 4, Math.sqrt(after), 1e-4 * expected, "clipped to the maximum");
                assertEquals(expected / 4, adam.clipGradNorm(scope, expected), 1e-4 * expected, "below the maximum: untouched");
            }
        }
    }

    @Test
    void nonFiniteGradientIsZeroedAndReportedSoTheStepCanBeSkipped() {
        try (NDManager manager = Engine.getEngine("PyTorch").newBaseManager(); NDManager weights = manager.newSubManager()) {
            Linear layer = trainableLayer(weights);
            AdamW adam = new AdamW(layer.namedParameters(), WD);
            try (NDManager scope = manager.newSubManager()) {
                NDArray x = scope.create(new float[] {Float.NaN, 1f, 2f}, new Shape(1, 3));
                try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                    gc.backward(layer.forward(x).sum());
                }
                assertEquals(Double.NaN, adam.clipGradNorm(scope, 1.0));
                for (Weight w : layer.namedParameters().values()) {
                    for (float g : w.value().getGradient().toFloatArray()) {
                        assertEquals(0f, g, "gradients zeroed");
                    }
                }
            }
        }
    }
}
