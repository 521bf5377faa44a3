package dev.steer.pytorch.flux;

import ai.djl.ndarray.NDArray;
import dev.steer.pytorch.internal.nn.Activations;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.internal.nn.TimestepFeatures;

/**
 * FLUX's conditioning vector (diffusers' {@code CombinedTimestepTextProjEmbeddings}, and
 * {@code CombinedTimestepGuidanceTextProjEmbeddings} for [dev]): an MLP of the timestep's 256
 * sinusoidal features, plus one of the guidance value's when the model embeds guidance, plus an MLP
 * of the pooled CLIP embedding.
 */
final class TimestepTextEmbedding extends Module {
    private static final int FEATURES = 256;
    private final Mlp timestep;
    private final Mlp guidance;
    private final Mlp text;

    /** Two linear layers with a SiLU between ({@code TimestepEmbedding}, {@code PixArtAlphaTextProjection}). */
    static final class Mlp extends Module {
        private final Linear linear1;
        private final Linear linear2;

        Mlp(long in, long out) {
            linear1 = child("linear_1", new Linear(in, out, true));
            linear2 = child("linear_2", new Linear(out, out, true));
        }

        NDArray forward(NDArray x) {
            return linear2.forward(Activations.SILU.apply(linear1.forward(x)));
        }
    }

    TimestepTextEmbedding(int dim, int pooledDim, boolean guidanceEmbeds) {
        timestep = child("timestep_embedder", new Mlp(FEATURES, dim));
        guidance = guidanceEmbeds ? child("guidance_embedder", new Mlp(FEATURES, dim)) : null;
        text = child("text_embedder", new Mlp(pooledDim, dim));
    }

    /**
     * @param timesteps already multiplied by 1000, one per batch item or one for all
     * @param guidances already multiplied by 1000, or null for a model without guidance embedding
     * @param pooled [B, pooledDim]
     */
    NDArray forward(float[] timesteps, float[] guidances, NDArray pooled) {
        long batch = pooled.getShape().get(0);
        NDArray t = TimestepFeatures.of(pooled.getManager(), timesteps, batch, FEATURES, true, 0).toType(pooled.getDataType(), false);
        NDArray emb = timestep.forward(t);
        if (guidance != null) {
            if (guidances == null) {
                throw new IllegalArgumentException("this transformer embeds a guidance value (FLUX.1 [dev]): pass one");
            }
            emb = emb.add(guidance.forward(TimestepFeatures.of(pooled.getManager(), guidances, batch, FEATURES, true, 0)
                    .toType(pooled.getDataType(), false)));
        }
        return emb.add(text.forward(pooled));
    }
}
