package dev.steer.core.engine;

import dev.steer.core.attention.AttentionProbe;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.core.relation.CentroidRelationBaseline;
import dev.steer.core.relation.RelationClassifier;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.scheduler.Scheduler;
import dev.steer.core.scheduler.Schedulers;
import dev.steer.core.steering.SteeringObjective;
import dev.steer.core.testing.Conformance;
import dev.steer.core.tokenizer.ClipTokenizer;
import dev.steer.core.tokenizer.TokenizedPrompt;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A pure-Java backend whose results are known: the denoiser predicts a fixed fraction of its input
 * plus a prompt-dependent offset, steering pulls the latent towards zero with a quadratic loss, the
 * probe sees a bump whose position follows the latent's mean. It counts what the engine asks for.
 */
final class FakeBackend implements DiffusionBackend<float[]> {
    static final List<CrossAttentionLayer> LAYERS = List.of(new CrossAttentionLayer(0, "down.attn2", 2, 1),
            new CrossAttentionLayer(1, "up.attn2", 2, 2));
    static final List<String> CLASSES = List.of("above", "below", "to the left of", "to the right of");

    final AtomicInteger encodes = new AtomicInteger();
    final AtomicInteger predicts = new AtomicInteger();
    final AtomicInteger scopesOpen = new AtomicInteger();
    final AtomicInteger scopesClosed = new AtomicInteger();
    /** Called with the number of denoiser calls so far, inside each call (tests cancel from here). */
    IntConsumer onPredict = n -> {
    };
    private final ClipTokenizer tokenizer = ClipTokenizer.fromFolder(Conformance.dir("clip-tokenizer"));
    private final Scheduler scheduler = Schedulers.load(Conformance.dir("sched-ddim"));
    private final RelationClassifier classifier;
    boolean closed;

    FakeBackend() {
        this(new CentroidRelationBaseline(CLASSES, AttentionProbe.mapsPerWord(LAYERS)));
    }

    FakeBackend(RelationClassifier classifier) {
        this.classifier = classifier;
    }

    @Override
    public ModelInfo info() {
        return new ModelInfo("fake", scheduler, new LatentGeometry(2, 2, 8, 4), LAYERS, classifier);
    }

    @Override
    public TokenizedPrompt tokenize(String prompt) {
        return tokenizer.tokenize(prompt);
    }

    @Override
    public GenerationScope<float[]> openScope() {
        scopesOpen.incrementAndGet();
        return new Scope();
    }

    @Override
    public void close() {
        closed = true;
    }

    /** The probe: one bump per word and head, moved by the latent's mean. */
    static final class Probe implements AttentionProbe<float[]> {
        private final List<int[]> words;
        private final List<float[]> layers = new ArrayList<>();

        Probe(List<int[]> words) {
            this.words = words;
        }

        @Override
        public List<int[]> wordTokenPositions() {
            return words;
        }

        @Override
        public void onCrossAttention(CrossAttentionLayer layer, int height, int width, float[] probabilities) {
            layers.add(probabilities);
        }

        @Override
        public float[] classifierInput() {
            return classifierMaps();
        }

        @Override
        public float[] classifierMaps() {
            if (layers.isEmpty()) {
                throw new IllegalStateException("nothing observed");
            }
            int area = MAP_SIZE * MAP_SIZE;
            int n = mapCount();
            float[] out = new float[words.size() * n * area];
            for (int w = 0; w < words.size(); w++) {
                for (int m = 0; m < n; m++) {
                    System.arraycopy(layers.get(0), w * area, out, (w * n + m) * area, area);
                }
            }
            return out;
        }

        @Override
        public int mapCount() {
            return AttentionProbe.mapsPerWord(LAYERS);
        }

        @Override
        public void clear() {
            layers.clear();
        }
    }

    final class Scope implements GenerationScope<float[]> {
        @Override
        public float[] encode(TokenizedPrompt prompt) {
            encodes.incrementAndGet();
            float sum = 0;
            for (long id : prompt.idsAsLongs()) {
                sum += id;
            }
            return new float[] {sum / 1e6f};
        }

        @Override
        public float[] pair(float[] first, float[] second) {
            return new float[] {first[0], second[0]};
        }

        @Override
        public float[] predict(float[] context, float[] modelInput, int batch, int latentHeight, int latentWidth, float modelTimestep, float guidance,
                AttentionProbe<?> probe, int probeItem) {
            onPredict.accept(predicts.incrementAndGet());
            int per = modelInput.length / batch;
            float[] out = new float[modelInput.length];
            for (int b = 0; b < batch; b++) {
                float offset = context[Math.min(b, context.length - 1)];
                for (int k = 0; k < per; k++) {
                    out[b * per + k] = 0.5f * modelInput[b * per + k] + offset;
                }
            }
            if (probe != null) {
                double mean = 0;
                for (int k = 0; k < per; k++) {
                    mean += modelInput[probeItem * per + k] / per;
                }
                int area = AttentionProbe.MAP_SIZE * AttentionProbe.MAP_SIZE;
                float[] bumps = new float[2 * area];
                int column = (int) Math.max(0, Math.min(15, 8 + 4 * mean));
                bumps[column] = 1;
                bumps[area + 15 - column] = 1;
                ((Probe) probe).onCrossAttention(LAYERS.get(0), 16, 16, bumps);
            }
            return out;
        }

        @Override
        public float[] decode(float[] latents, int latentHeight, int latentWidth) {
            int h = latentHeight * 2;
            int w = latentWidth * 2;
            float[] pixels = new float[3 * h * w];
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = Math.max(-1, Math.min(1, latents[(i / 4) % latents.length]));
            }
            return pixels;
        }

        @Override
        public AttentionProbe<?> newProbe(List<int[]> wordTokenPositions) {
            return new Probe(wordTokenPositions);
        }

        @Override
        public SteeringObjective steeringObjective(float[] cond, SteeringStep step, Map<RelationTriplet, TokenBinding> bindings) {
            return (latent, triplet) -> {
                predicts.incrementAndGet();
                float loss = 0;
                float[] g = new float[latent.length];
                for (int i = 0; i < latent.length; i++) {
                    loss += latent[i] * latent[i] / latent.length;
                    g[i] = 2 * latent[i] / latent.length;
                }
                return new SteeringObjective.Evaluation(loss, g, new float[] {0.25f, 0.25f, 0.25f, 0.25f});
            };
        }

        @Override
        public void close() {
            scopesClosed.incrementAndGet();
        }
    }
}
