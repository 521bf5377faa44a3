package dev.steer.pytorch.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.steer.pytorch.nn.Linear;
import dev.steer.pytorch.weights.ModelWeights;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdamWTest {
    @TempDir
    Path tmp;

    /** One regression step: fit y = 2x with a linear layer. */
    private static float step(Linear layer, AdamW opt, NDManager m, int i) {
        try (NDManager scope = m.newSubManager()) {
            NDArray x = scope.create(new float[] {i % 3, 1, -1, i % 5}, new Shape(1, 4));
            float loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray l = layer.forward(x).sub(x.mul(2)).square().mean();
                loss = l.getFloat();
                gc.backward(l);
            }
            opt.step(0.05f);
            return loss;
        }
    }

    /** Mean loss over every input the steps use. */
    private static float loss(Linear layer, NDManager m) {
        float total = 0;
        for (int i = 0; i < 15; i++) {
            try (NDManager scope = m.newSubManager()) {
                NDArray x = scope.create(new float[] {i % 3, 1, -1, i % 5}, new Shape(1, 4));
                total += layer.forward(x).sub(x.mul(2)).square().mean().getFloat();
            }
        }
        return total / 15;
    }

    @Test
    void minimisesAndResumesExactlyFromSavedState() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Linear a = new Linear(4, 4, true);
            Linear b = new Linear(4, 4, true);
            ModelWeights.randomize(a, 1, m);
            ModelWeights.randomize(b, 1, m);
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            AdamW optA = AdamW.withDefaults(a.namedParameters(), m, 0.01f);
            float first = loss(a, m);
            for (int i = 0; i <= 40; i++) {
                step(a, optA, m, i);
            }
            float last = loss(a, m);
            assertTrue(last < first * 0.1, first + " -> " + last);

            // b: 20 steps, save, continue in a fresh optimiser from the saved state
            AdamW optB = AdamW.withDefaults(b.namedParameters(), m, 0.01f);
            for (int i = 0; i < 20; i++) {
                step(b, optB, m, i);
            }
            optB.save(tmp.resolve("adam.safetensors"));
            optB.close();
            AdamW resumed = AdamW.withDefaults(b.namedParameters(), m, 0.01f);
            resumed.load(tmp.resolve("adam.safetensors"));
            int arrays = ((BaseNDManager) m).getManagedArrays().size();
            for (int i = 20; i <= 40; i++) {
                step(b, resumed, m, i);
            }
            assertArrayEquals(a.namedParameters().get("weight").value().toFloatArray(),
                    b.namedParameters().get("weight").value().toFloatArray(), 1e-6f);
            assertTrue(((BaseNDManager) m).getManagedArrays().size() <= arrays, "training steps left arrays behind");
        }
    }
}
