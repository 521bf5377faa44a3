package dev.steer.pytorch.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.attention.AttentionProbe;
import dev.steer.core.engine.DiffusionBackend;
import dev.steer.core.engine.GenerationScope;
import dev.steer.core.engine.LatentGeometry;
import dev.steer.core.engine.ModelInfo;
import dev.steer.core.model.UNetConfig;
import dev.steer.core.engine.SteeringStep;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.steering.SteeringObjective;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.pytorch.attention.TorchAttentionProbe;
import dev.steer.pytorch.steering.TorchSteeringObjective;
import java.util.List;
import java.util.Map;

/**
 * The LibTorch side of the generation engine for the SD UNet family: CLIP encoding, one UNet call
 * with an optional {@link TorchAttentionProbe}, VAE decoding and the exact-gradient
 * {@link TorchSteeringObjective}, over the models a {@link StableDiffusion} loaded.
 */
final class TorchDiffusionBackend implements DiffusionBackend<NDArray> {
    private final StableDiffusion sd;
    private final ModelInfo info;

    TorchDiffusionBackend(StableDiffusion sd) {
        this.sd = sd;
        UNetConfig unet = sd.unet().config();
        LatentGeometry geometry = LatentGeometry.ofUNet(unet.inChannels(), sd.vaeScaleFactor(), unet.downsampleFactor(),
                unet.sampleSize());
        this.info = new ModelInfo(sd.modelDescription(), sd.scheduler(), geometry, sd.unet().crossAttentionLayers(),
                sd.relationClassifier());
    }

    @Override
    public ModelInfo info() {
        return info;
    }

    @Override
    public TokenizedPrompt tokenize(String prompt) {
        return sd.tokenizer().tokenize(prompt);
    }

    @Override
    public GenerationScope<NDArray> openScope() {
        return new Scope(sd, sd.manager().newSubManager(), true);
    }

    @Override
    public void close() {
        if (sd.relationClassifier() != null) {
            sd.relationClassifier().close();
        }
        sd.manager().close();
    }

    /** A generation's arrays: children of one manager, each denoiser call in a nested one. */
    static final class Scope implements GenerationScope<NDArray> {
        private final StableDiffusion sd;
        private final NDManager manager;
        private final boolean owned;

        private Scope(StableDiffusion sd, NDManager manager, boolean owned) {
            this.sd = sd;
            this.manager = manager;
            this.owned = owned;
        }

        /** A scope over the caller's manager, which closing this scope leaves open. */
        static Scope borrowing(StableDiffusion sd, NDManager manager) {
            return new Scope(sd, manager, false);
        }

        @Override
        public NDArray encode(TokenizedPrompt prompt) {
            return sd.encodeIds(manager, prompt.idsAsLongs());
        }

        @Override
        public NDArray pair(NDArray first, NDArray second) {
            return NDArrays.concat(new NDList(first, second), 0);
        }

        @Override
        public float[] predict(NDArray context, float[] modelInput, int batch, int latentHeight, int latentWidth, float modelTimestep, float guidance,
                AttentionProbe<?> probe, int probeItem) {
            TorchAttentionProbe torchProbe = probe == null ? null : cast(probe);
            try (NDManager call = manager.newSubManager()) {
                NDArray x = call.create(modelInput, new Shape(batch, sd.unet().config().inChannels(), latentHeight, latentWidth));
                NDArray t = call.create(new float[] {modelTimestep});
                NDArray out = sd.unet().forward(x, t, context, torchProbe == null ? null : torchProbe.asHook(probeItem));
                if (torchProbe != null) {
                    torchProbe.classifierMaps(); // copied out before the call's arrays are freed
                }
                return out.toFloatArray();
            }
        }

        static TorchAttentionProbe cast(AttentionProbe<?> probe) {
            if (probe instanceof TorchAttentionProbe p) {
                return p;
            }
            throw new IllegalArgumentException("the LibTorch backend takes probes from its own newProbe, got " + probe.getClass().getName());
        }

        @Override
        public float[] decode(float[] latents, int latentHeight, int latentWidth) {
            return sd.decode(manager, latents, latentHeight, latentWidth);
        }

        @Override
        public AttentionProbe<?> newProbe(List<int[]> wordTokenPositions) {
            return new TorchAttentionProbe(wordTokenPositions);
        }

        @Override
        public SteeringObjective steeringObjective(NDArray cond, SteeringStep step, Map<RelationTriplet, TokenBinding> bindings) {
            return new TorchSteeringObjective(sd.unet(), sd.relationClassifier(), cond, step.modelTimestep(), step.classifierTimestep(),
                    step.inputScale(), new Shape(1, step.channels(), step.latentHeight(), step.latentWidth()), bindings);
        }

        @Override
        public void close() {
            if (owned) {
                manager.close();
            }
        }
    }
}
