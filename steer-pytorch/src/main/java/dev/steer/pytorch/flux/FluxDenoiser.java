package dev.steer.pytorch.flux;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.steer.pytorch.attention.TorchAttentionProbe;
import dev.steer.pytorch.steering.ProbedDenoiser;
import java.util.List;

/**
 * The FLUX transformer as the pipeline and steering call it: on latents in the VAE's layout [B, C,
 * h, w], packed to 2x2 tokens and unpacked again with differentiable array operations, at the
 * scheduler's timestep (divided by 1000 here, as {@code FluxPipeline} does), with the guidance value
 * only for a model that embeds one.
 */
public final class FluxDenoiser {
    private final FluxTransformer2DModel transformer;
    private final DataType computeType;

    /** Wraps a loaded transformer computing in float32. */
    public FluxDenoiser(FluxTransformer2DModel transformer) {
        this(transformer, DataType.FLOAT32);
    }

    /**
     * Wraps a loaded transformer computing in {@code computeType} (float32, or float16 on a GPU):
     * latents and text states are cast to it on the way in, the velocity back to float32 on the way out.
     */
    public FluxDenoiser(FluxTransformer2DModel transformer, DataType computeType) {
        if (computeType != DataType.FLOAT32 && computeType != DataType.FLOAT16) {
            throw new IllegalArgumentException("the FLUX transformer computes in float32 or float16, not " + computeType
                    + " (DJL 0.36's LibTorch bridge has no bfloat16)");
        }
        this.transformer = transformer;
        this.computeType = computeType;
    }

    /** The dtype the transformer computes in. */
    public DataType computeType() {
        return computeType;
    }

    /** The transformer. */
    public FluxTransformer2DModel transformer() {
        return transformer;
    }

    /**
     * The velocity [B, C, h, w].
     *
     * @param latents [B, C, h, w], h and w even
     * @param prompt the encoded prompt: one shared by every item, or one per item ([uncond, cond])
     * @param timestep the scheduler's timestep (sigma x 1000)
     * @param guidance the guidance scale; used only when the transformer embeds guidance (FLUX.1 [dev])
     * @param hook observes each block's joint attention; may be null
     */
    public NDArray velocity(NDArray latents, FluxPrompt prompt, float timestep, float guidance, JointAttentionHook hook) {
        Shape s = latents.getShape();
        long b = s.get(0);
        long c = s.get(1);
        int h = Math.toIntExact(s.get(2));
        int w = Math.toIntExact(s.get(3));
        if (c * 4 != transformer.config().inChannels() || h % 2 != 0 || w % 2 != 0) {
            throw new IllegalArgumentException("expected latents [B, " + transformer.config().latentChannels() + ", even h, even w], got " + s);
        }
        NDArray packed = latents.reshape(b, c, h / 2, 2, w / 2, 2).transpose(0, 2, 4, 1, 3, 5).reshape(b, (long) (h / 2) * (w / 2), c * 4);
        NDArray text = prompt.textStates();
        NDArray pooled = prompt.pooled();
        long prompts = text.getShape().get(0);
        if (prompts != b) {
            if (prompts != 1) {
                throw new IllegalArgumentException(prompts + " encoded prompts for " + b + " latents: give one, or one per latent");
            }
            text = text.repeat(0, b);
            pooled = pooled.repeat(0, b);
        }
        if (computeType != DataType.FLOAT32) {
            packed = packed.toType(computeType, false);
            text = text.toType(computeType, false);
            pooled = pooled.toType(computeType, false);
        }
        // repeats and casts of the prompt belong to this call, not to the prompt's (generation-long) scope
        NDManager call = latents.getManager();
        if (text != prompt.textStates()) {
            text.attach(call);
        }
        if (pooled != prompt.pooled()) {
            pooled.attach(call);
        }
        float[] t = {timestep / 1000f};
        float[] g = transformer.config().guidanceEmbeds() ? new float[] {guidance} : null;
        NDArray out = transformer.forward(packed, text, pooled, t, g, h / 2, w / 2, hook);
        if (out.getDataType() != DataType.FLOAT32) {
            out = out.toType(DataType.FLOAT32, false);
        }
        long outChannels = transformer.config().outChannels() / 4;
        return out.reshape(b, h / 2, w / 2, outChannels, 2, 2).transpose(0, 3, 1, 4, 2, 5).reshape(b, outChannels, h, w);
    }

    /**
     * The differentiable pass a steering objective runs at one step: the conditional prompt alone,
     * maps read as the published FLUX processor does and resized (then renormalised) only when the
     * token grid is not {@code mapSide} wide.
     */
    public ProbedDenoiser probed(FluxPrompt prompt, float timestep, float guidance, int mapSide) {
        return new ProbedDenoiser() {
            @Override
            public TorchAttentionProbe newProbe(List<int[]> words) {
                return new TorchAttentionProbe(words, mapSide, false);
            }

            @Override
            public void run(NDArray latent, TorchAttentionProbe probe) {
                velocity(latent, prompt, timestep, guidance, probe.asJointHook(0));
            }
        };
    }
}
