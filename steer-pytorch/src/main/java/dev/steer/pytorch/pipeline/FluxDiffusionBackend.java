package dev.steer.pytorch.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.attention.AttentionProbe;
import dev.steer.core.engine.DiffusionBackend;
import dev.steer.core.engine.GenerationScope;
import dev.steer.core.engine.GuidanceMode;
import dev.steer.core.engine.LatentGeometry;
import dev.steer.core.engine.ModelInfo;
import dev.steer.core.engine.SteeringStep;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.steering.SteeringObjective;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.pytorch.attention.TorchAttentionProbe;
import dev.steer.pytorch.flux.FluxPrompt;
import dev.steer.pytorch.steering.TorchSteeringObjective;
import java.util.List;
import java.util.Map;

/**
 * The LibTorch side of the generation engine for FLUX.1: T5 + pooled CLIP encoding, one transformer
 * call on packed latents with guidance embedded ([dev]: no classifier-free batch; a model without a
 * guidance embedding gets diffusers' "true" classifier-free guidance with the negative prompt when
 * the scale is above 1, [schnell]'s default being 0), an optional probe over
 * every block's image->text attention, decoding with FLUX's latent shift, and the exact-gradient
 * steering objective, over the models a {@link FluxPipeline} loaded.
 */
final class FluxDiffusionBackend implements DiffusionBackend<FluxPrompt> {
    private final FluxPipeline flux;
    private final ModelInfo info;

    FluxDiffusionBackend(FluxPipeline flux) {
        this.flux = flux;
        int channels = flux.vae().config().latentChannels();
        int defaultSize = flux.defaults().imageSize();
        LatentGeometry geometry = LatentGeometry.ofFlux(channels, flux.vaeScaleFactor(), defaultSize / flux.vaeScaleFactor());
        this.info = new ModelInfo(flux.modelDescription(), flux.scheduler(), geometry, flux.transformer().crossAttentionLayers(),
                flux.relationClassifier(), flux.embedsGuidance() ? GuidanceMode.EMBEDDED : GuidanceMode.CLASSIFIER_FREE,
                flux.defaults());
    }

    @Override
    public ModelInfo info() {
        return info;
    }

    @Override
    public TokenizedPrompt tokenize(String prompt) {
        return flux.tokenize(prompt);
    }

    @Override
    public GenerationScope<FluxPrompt> openScope() {
        return new Scope(flux, flux.manager().newSubManager());
    }

    @Override
    public void close() {
        flux.release();
    }

    /** A generation's arrays: children of one manager, each transformer call in a nested one. */
    static final class Scope implements GenerationScope<FluxPrompt> {
        private final FluxPipeline flux;
        private final NDManager manager;

        Scope(FluxPipeline flux, NDManager manager) {
            this.flux = flux;
            this.manager = manager;
        }

        @Override
        public FluxPrompt encode(TokenizedPrompt prompt) {
            return flux.encode(manager, prompt);
        }

        @Override
        public FluxPrompt pair(FluxPrompt first, FluxPrompt second) {
            if (first.textStates().getShape().get(1) != second.textStates().getShape().get(1)) {
                throw new IllegalArgumentException("the prompts have " + first.textStates().getShape().get(1) + " and "
                        + second.textStates().getShape().get(1) + " T5 tokens: classifier-free guidance needs equal lengths");
            }
            return new FluxPrompt(NDArrays.concat(new NDList(first.textStates(), second.textStates()), 0),
                    NDArrays.concat(new NDList(first.pooled(), second.pooled()), 0));
        }

        @Override
        public float[] predict(FluxPrompt context, float[] modelInput, int batch, int latentHeight, int latentWidth, float modelTimestep,
                float guidance, AttentionProbe<?> probe, int probeItem) {
            TorchAttentionProbe torchProbe = probe == null ? null : TorchDiffusionBackend.Scope.cast(probe);
            try (NDManager call = manager.newSubManager()) {
                int channels = flux.vae().config().latentChannels();
                NDArray x = call.create(modelInput, new Shape(batch, channels, latentHeight, latentWidth));
                NDArray out = flux.denoiser().velocity(x, context, modelTimestep, guidance,
                        torchProbe == null ? null : torchProbe.asJointHook(probeItem));
                if (torchProbe != null) {
                    torchProbe.classifierMaps(); // copied out before the call's arrays are freed
                }
                return out.toFloatArray();
            }
        }

        @Override
        public float[] decode(float[] latents, int latentHeight, int latentWidth) {
            return flux.decode(manager, latents, latentHeight, latentWidth);
        }

        @Override
        public AttentionProbe<?> newProbe(List<int[]> wordTokenPositions) {
            return new TorchAttentionProbe(wordTokenPositions, AttentionProbe.MAP_SIZE, false);
        }

        @Override
        public SteeringObjective steeringObjective(FluxPrompt cond, SteeringStep step, Map<RelationTriplet, TokenBinding> bindings) {
            return new TorchSteeringObjective(flux.denoiser().probed(cond, step.modelTimestep(), step.guidance(),
                    flux.relationClassifier().mapSide()), flux.relationClassifier(), manager, step.classifierTimestep(),
                    new Shape(1, step.channels(), step.latentHeight(), step.latentWidth()), bindings);
        }

        @Override
        public void close() {
            manager.close();
        }
    }
}
