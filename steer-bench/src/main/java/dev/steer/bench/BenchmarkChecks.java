package dev.steer.bench;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.nn.Weight;
import java.util.Map;

/**
 * The checks the LibTorch benchmarks run after each iteration: nothing left behind in the
 * benchmark's manager, and no model parameter recording gradients (steering must differentiate
 * only the latent).
 */
final class BenchmarkChecks {
    private BenchmarkChecks() {
    }

    /** Arrays the manager holds now. */
    static int managedArrays(NDManager manager) {
        return ((BaseNDManager) manager).getManagedArrays().size();
    }

    /** Fails when the manager holds another number of arrays than after setup. */
    static void requireNothingLeft(NDManager manager, int arraysAfterSetup) {
        int now = managedArrays(manager);
        if (now != arraysAfterSetup) {
            throw new IllegalStateException((now - arraysAfterSetup) + " arrays left behind by the benchmarked calls");
        }
    }

    /** Fails when a parameter of one of the modules records gradients. */
    static void requireNoParameterGradients(Module... modules) {
        for (Module m : modules) {
            for (Map.Entry<String, Weight> e : m.namedParameters().entrySet()) {
                Weight w = e.getValue();
                if (!w.isBfloat16Bits() && w.value().hasGradient()) {
                    throw new IllegalStateException("parameter " + e.getKey() + " records gradients");
                }
            }
        }
    }
}
