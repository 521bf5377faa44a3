package dev.steer.pytorch.weights;

import dev.steer.pytorch.internal.weights.ModelWeights;

/**
 * How {@link ModelWeights} keeps a model's weights in memory.
 */
public enum WeightStorage {
    /**
     * A float32 copy in LibTorch memory, whatever the file's dtype: what training needs (weights that
     * take gradients and optimiser updates) and the fastest to compute with on CPU. Costs 4 bytes per
     * parameter (a 12B-parameter FLUX transformer: 48 GB).
     */
    FLOAT32,
    /**
     * The file's bytes memory-mapped and used in place, in the file's dtype (float32, float16, or
     * bfloat16 kept as its raw bits): nothing is copied at load, the operating system pages weights in
     * as layers run, and each layer's weights are converted to the activations' dtype only while that
     * layer runs. Costs the file's size in page cache (a bf16 FLUX transformer: 24 GB). Read-only:
     * for inference and steering, not training. On an accelerator the file's bytes are copied to the
     * device once, still in the file's dtype.
     */
    MAPPED
}
