package dev.steer.pytorch.internal.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The constants of {@link Scalars} survive a garbage collection between forward and backward.
 * DJL's {@code x.mul(3f)} fails this test deterministically (gradient 1.4e-45 instead of 3): its
 * temporary constant views a Java buffer that the collector frees and the next allocations reuse.
 */
class ScalarsTest {
    /** Frees unreachable direct buffers, then fills freshly allocated small ones with NaN. */
    private static List<ByteBuffer> scribbleOverFreedDirectMemory() throws InterruptedException {
        List<ByteBuffer> keep = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
            System.gc();
            Thread.sleep(200); // lets the cleaner thread free the buffers
        }
        for (int i = 0; i < 20_000; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder());
            b.putFloat(0, Float.NaN);
            keep.add(b);
        }
        return keep;
    }

    private static float[] gradientAfterCollection(Function<NDArray, NDArray> op) throws InterruptedException {
        try (NDManager manager = Engine.getEngine("PyTorch").newBaseManager()) {
            NDArray x = manager.create(new float[] {1f, 2f, 3f});
            x.setRequiresGradient(true);
            List<ByteBuffer> keep;
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray y = op.apply(x).sum();
                keep = scribbleOverFreedDirectMemory();
                gc.backward(y);
            }
            keep.clear();
            return x.getGradient().toFloatArray();
        }
    }

    @Test
    void mulKeepsItsConstantAliveForBackwardAcrossAGarbageCollection() throws Exception {
        assertArrayEquals(new float[] {3f, 3f, 3f}, gradientAfterCollection(x -> Scalars.mul(x, 3f)));
    }

    @Test
    void divKeepsItsConstantAliveForBackwardAcrossAGarbageCollection() throws Exception {
        assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f}, gradientAfterCollection(x -> Scalars.div(x, 4f)));
    }
}
