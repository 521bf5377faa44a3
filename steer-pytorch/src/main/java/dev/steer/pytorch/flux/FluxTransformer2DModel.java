package dev.steer.pytorch.flux;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.core.internal.flux.FluxLatents;
import dev.steer.core.model.FluxTransformerConfig;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;

/**
 * diffusers' {@code FluxTransformer2DModel}, the MMDiT denoiser of FLUX.1: packed latent tokens and
 * T5 tokens are embedded, conditioned on the timestep, the pooled CLIP embedding and (for [dev]) the
 * guidance value, run through the double-stream blocks and then the single-stream blocks with rotary
 * positions, and projected back to a velocity per packed token. Parameter names are the checkpoint's
 * keys; the blocks' joint attention is observable through a {@link JointAttentionHook}.
 */
public final class FluxTransformer2DModel extends Module {
    private final FluxTransformerConfig config;
    private final Linear xEmbedder;
    private final Linear contextEmbedder;
    private final TimestepTextEmbedding timeTextEmbed;
    private final List<FluxTransformerBlock> blocks = new ArrayList<>();
    private final List<FluxSingleTransformerBlock> singleBlocks = new ArrayList<>();
    private final AdaptiveNorm normOut;
    private final Linear projOut;
    private final List<CrossAttentionLayer> layers;

    /** Builds the module tree for {@code config}; weights are loaded separately. */
    public FluxTransformer2DModel(FluxTransformerConfig config) {
        this.config = config;
        int dim = config.innerDim();
        xEmbedder = child("x_embedder", new Linear(config.inChannels(), dim, true));
        contextEmbedder = child("context_embedder", new Linear(config.jointAttentionDim(), dim, true));
        timeTextEmbed = child("time_text_embed", new TimestepTextEmbedding(dim, config.pooledProjectionDim(), config.guidanceEmbeds()));
        List<CrossAttentionLayer> l = new ArrayList<>();
        for (int i = 0; i < config.numLayers(); i++) {
            blocks.add(child("transformer_blocks." + i, new FluxTransformerBlock(dim, config.numAttentionHeads(), config.attentionHeadDim())));
            l.add(new CrossAttentionLayer(l.size(), "transformer_blocks." + i + ".attn", config.numAttentionHeads(), 2));
        }
        for (int i = 0; i < config.numSingleLayers(); i++) {
            singleBlocks.add(child("single_transformer_blocks." + i,
                    new FluxSingleTransformerBlock(dim, config.numAttentionHeads(), config.attentionHeadDim())));
            l.add(new CrossAttentionLayer(l.size(), "single_transformer_blocks." + i + ".attn", config.numAttentionHeads(), 2));
        }
        normOut = child("norm_out", new AdaptiveNorm(dim, 2));
        projOut = child("proj_out", new Linear(dim, config.outChannels(), true));
        layers = Collections.unmodifiableList(l);
    }

    /** The configuration. */
    public FluxTransformerConfig config() {
        return config;
    }

    /**
     * Every block's joint attention in execution order (double-stream, then single-stream), with
     * downscale 2: the token grid is the latent's, packed 2x2.
     */
    public List<CrossAttentionLayer> crossAttentionLayers() {
        return layers;
    }

    /**
     * The velocity prediction.
     *
     * @param hiddenStates packed latents [B, N, inChannels], N = gridHeight x gridWidth tokens, row-major
     * @param encoderHiddenStates T5 hidden states [B, T, jointAttentionDim]
     * @param pooled pooled CLIP embedding [B, pooledProjectionDim]
     * @param timestep the scheduler's timestep / 1000 (as FluxPipeline passes it), one per item or one for all
     * @param guidance the guidance value (3.5 for [dev]) when the model embeds guidance, else null
     * @param gridHeight token rows (latent height / 2)
     * @param gridWidth token columns (latent width / 2)
     * @param hook observes each block's joint attention; may be null
     * @return [B, N, outChannels]
     */
    public NDArray forward(NDArray hiddenStates, NDArray encoderHiddenStates, NDArray pooled, float[] timestep, float[] guidance,
            int gridHeight, int gridWidth, JointAttentionHook hook) {
        Shape s = hiddenStates.getShape();
        if (s.dimension() != 3 || s.get(1) != (long) gridHeight * gridWidth || s.get(2) != config.inChannels()) {
            throw new IllegalArgumentException("expected packed latents [B, " + gridHeight * gridWidth + ", " + config.inChannels()
                    + "], got " + s);
        }
        if (guidance != null && !config.guidanceEmbeds()) {
            throw new IllegalArgumentException("this transformer has no guidance embedding (FLUX.1 [schnell]): pass no guidance value");
        }
        int textTokens = Math.toIntExact(encoderHiddenStates.getShape().get(1));
        // Arrays computed from the prompt attach to the prompt's manager (a generation's scope, kept
        // across steps): give this call views of it in the latents' scope so that the text stream's
        // and the conditioning's intermediates are freed with the call, as the UNet does.
        if (encoderHiddenStates.getManager() != hiddenStates.getManager()) {
            encoderHiddenStates = inScopeOf(hiddenStates, encoderHiddenStates.reshape(encoderHiddenStates.getShape()));
        }
        if (pooled.getManager() != hiddenStates.getManager()) {
            pooled = inScopeOf(hiddenStates, pooled.reshape(pooled.getShape()));
        }
        NDArray image = xEmbedder.forward(hiddenStates);
        NDArray conditioning = timeTextEmbed.forward(times1000(timestep), guidance == null ? null : times1000(guidance), pooled);
        NDArray text = contextEmbedder.forward(encoderHiddenStates);
        RotaryEmbedding rope = RotaryEmbedding.of(hiddenStates.getManager(), FluxLatents.jointIds(textTokens, gridHeight, gridWidth),
                config.axesDimsRope(), FluxTransformerConfig.ROPE_THETA).as(hiddenStates.getDataType());
        // Each block runs in a scope of its own that keeps only the block's outputs: without gradients
        // a block's intermediates (two [B, heads, L, L] attention tensors among them) are freed as soon
        // as it ends instead of with the call; under autograd LibTorch's graph keeps what backward needs.
        NDManager call = hiddenStates.getManager();
        int layer = 0;
        for (FluxTransformerBlock block : blocks) {
            try (NDManager scope = call.newSubManager()) {
                NDList out = block.forward(view(scope, image), view(scope, text), view(scope, conditioning), rope,
                        observer(hook, layer++, textTokens, gridHeight, gridWidth, call));
                image = kept(out.get(0), call);
                text = kept(out.get(1), call);
            }
        }
        NDArray joint = NDArrays.concat(new NDList(text, image), 1);
        for (FluxSingleTransformerBlock block : singleBlocks) {
            try (NDManager scope = call.newSubManager()) {
                joint = kept(block.forward(view(scope, joint), view(scope, conditioning), rope,
                        observer(hook, layer++, textTokens, gridHeight, gridWidth, call)), call);
            }
        }
        image = joint.get(":, {}:, :", textTokens);
        NDList m = normOut.modulation(conditioning); // scale, shift
        return projOut.forward(AdaptiveNorm.modulate(image, m.get(1), m.get(0)));
    }

    private Consumer<NDArray> observer(JointAttentionHook hook, int layer, int textTokens, int gridHeight, int gridWidth, NDManager call) {
        if (hook == null) {
            return null;
        }
        CrossAttentionLayer l = layers.get(layer);
        return probs -> hook.onJointAttention(l, textTokens, gridHeight, gridWidth, probs, call);
    }

    /** A view of {@code x} owned by {@code scope}, so that what is computed from it lands there. */
    private static NDArray view(NDManager scope, NDArray x) {
        NDArray v = x.reshape(x.getShape());
        v.attach(scope);
        return v;
    }

    /** Moves a block's output out of the block's scope into the call's. */
    private static NDArray kept(NDArray out, NDManager call) {
        out.attach(call);
        return out;
    }

    /** diffusers multiplies in the model's dtype: float32 here. */
    private static float[] times1000(float[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i] * 1000f;
        }
        return out;
    }
}
