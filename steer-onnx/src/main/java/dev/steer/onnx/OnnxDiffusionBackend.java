package dev.steer.onnx;

import dev.steer.core.attention.AttentionProbe;
import dev.steer.core.engine.DiffusionBackend;
import dev.steer.core.engine.GenerationScope;
import dev.steer.core.engine.LatentGeometry;
import dev.steer.core.engine.ModelInfo;
import dev.steer.core.engine.SteeringStep;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.steering.SteeringObjective;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.onnx.steering.GradientEstimator;
import dev.steer.onnx.steering.OnnxAttentionProbe;
import dev.steer.onnx.steering.OnnxSteeringObjective;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The ONNX Runtime side of the generation engine for the SD UNet family: CLIP encoding, one UNet
 * call (fetching only the probed words' attention columns), VAE decoding and the forward-only
 * {@link OnnxSteeringObjective}, over the sessions an {@link OnnxStableDiffusion} loaded. Its
 * arrays are Java arrays, so a generation's scope holds nothing native; ONNX Runtime's tensors live
 * only inside each call.
 */
final class OnnxDiffusionBackend implements DiffusionBackend<FloatTensor> {
    private final OnnxStableDiffusion sd;
    private final ModelInfo info;

    OnnxDiffusionBackend(OnnxStableDiffusion sd, int defaultLatentSize) {
        this.sd = sd;
        LatentGeometry geometry = LatentGeometry.ofUNet(sd.unet().inChannels(), sd.vaeScaleFactor(), sd.unet().downsampleFactor(),
                defaultLatentSize);
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
    public Map<String, String> steeringMetadata() {
        GradientEstimator e = sd.gradientEstimator();
        return Map.of("steering_gradient", String.format(Locale.ROOT, "forward-only estimate: %d %s directions %s, relative step %s, "
                + "%d latents per evaluation in %d UNet call(s)", e.budget(), e.directions().name().toLowerCase(Locale.ROOT),
                e.grid() == 0 ? "over the whole latent" : "on a " + e.grid() + "x" + e.grid() + " grid per channel",
                e.relativeStep(), e.latentsPerEvaluation(), e.callsPerEvaluation()));
    }

    @Override
    public GenerationScope<FloatTensor> openScope() {
        return new Scope(sd);
    }

    @Override
    public void close() {
        sd.closeSessions();
    }

    /** A generation on ONNX Runtime: Java arrays only, nothing to release. */
    static final class Scope implements GenerationScope<FloatTensor> {
        private final OnnxStableDiffusion sd;

        Scope(OnnxStableDiffusion sd) {
            this.sd = sd;
        }

        @Override
        public FloatTensor encode(TokenizedPrompt prompt) {
            return sd.encodeIds(prompt.idsAsLongs());
        }

        @Override
        public FloatTensor pair(FloatTensor first, FloatTensor second) {
            if (first.dim(1) != second.dim(1) || first.dim(2) != second.dim(2)) {
                throw new IllegalArgumentException("conditional and unconditional embeddings differ in shape: "
                        + java.util.Arrays.toString(first.shape()) + " vs " + java.util.Arrays.toString(second.shape()));
            }
            float[] data = new float[first.size() + second.size()];
            System.arraycopy(first.data(), 0, data, 0, first.size());
            System.arraycopy(second.data(), 0, data, first.size(), second.size());
            return FloatTensor.of(data, first.dim(0) + second.dim(0), first.dim(1), first.dim(2));
        }

        @Override
        public float[] predict(FloatTensor context, float[] modelInput, int batch, int latentHeight, int latentWidth,
                float modelTimestep, float guidance, AttentionProbe<?> probe, int probeItem) {
            OnnxUNet unet = sd.unet();
            FloatTensor x = FloatTensor.of(modelInput, batch, unet.inChannels(), latentHeight, latentWidth);
            float[] t = {modelTimestep};
            if (probe == null) {
                return unet.forward(x, t, context).noise().data();
            }
            if (!(probe instanceof OnnxAttentionProbe onnxProbe)) {
                throw new IllegalArgumentException("the ONNX backend takes probes from its own newProbe, got " + probe.getClass().getName());
            }
            int[] columns = onnxProbe.tokenColumns();
            UNetOutput out = columns == null ? unet.forward(x, t, context, onnxProbe::wants)
                    : unet.forward(x, t, context, onnxProbe::wants, columns);
            onnxProbe.collect(out, probeItem);
            return out.noise().data();
        }

        @Override
        public float[] decode(float[] latents, int latentHeight, int latentWidth) {
            return sd.decode(latents, latentHeight, latentWidth);
        }

        @Override
        public AttentionProbe<?> newProbe(List<int[]> wordTokenPositions) {
            return OnnxAttentionProbe.onTokenColumns(wordTokenPositions);
        }

        @Override
        public SteeringObjective steeringObjective(FloatTensor cond, SteeringStep step, Map<RelationTriplet, TokenBinding> bindings) {
            GradientEstimator estimator = sd.gradientEstimator();
            long seed = estimator.seed() * 0x9E3779B97F4A7C15L + step.generationSeed() + 1_000_003L * step.index();
            return new OnnxSteeringObjective(sd.unet(), sd.relationClassifier(), cond, step.modelTimestep(), step.classifierTimestep(),
                    step.inputScale(), new int[] {step.channels(), step.latentHeight(), step.latentWidth()}, bindings, estimator, seed);
        }

        @Override
        public void close() {
        }
    }
}
