package dev.steer.pytorch.flux;

import static dev.steer.core.testing.Conformance.assertClose;
import static dev.steer.core.testing.Conformance.assertRelL2;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.internal.flux.FluxLatents;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.pytorch.attention.TorchAttentionProbe;
import dev.steer.pytorch.relation.PublishedRelationClassifier;
import dev.steer.pytorch.steering.ProbedDenoiser;
import dev.steer.pytorch.steering.TorchSteeringObjective;
import dev.steer.pytorch.testing.TinyModels;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * One Learn-to-Steer update on the tiny FLUX transformer against the published
 * {@code FluxTestTimeOptimization}: schnell-like (8x8 token grid read as is by a map-side-8
 * classifier) and dev-like (maps resized to 4x4 and renormalised).
 */
class FluxSteeringUpdateTest {
    private static final int LATENT = 16;
    private static final int CHANNELS = 16;
    private static NDManager manager;
    private static FluxDenoiser denoiser;

    @BeforeAll
    static void load() {
        manager = NDManager.newBaseManager();
        denoiser = new FluxDenoiser(TinyModels.fluxTransformer(manager));
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"golden.safetensors, classifier.pth", "golden_dev.safetensors, classifier_dev.pth"})
    void updateMatchesThePublishedFluxOptimisation(String goldenFile, String classifierFile) {
        try (SafetensorsFile g = Conformance.golden("flux-steer-step", goldenFile);
                NDManager scope = manager.newSubManager();
                PublishedRelationClassifier classifier = PublishedRelationClassifier.load(
                        Conformance.dir("flux-steer-step").resolve(classifierFile), scope)) {
            NDArray text = scope.create(g.readFloats("input.prompt_embeds"), new Shape(g.info("input.prompt_embeds").shape()));
            NDArray pooled = scope.create(g.readFloats("input.pooled_prompt_embeds"), new Shape(1, 24));
            FluxPrompt prompt = new FluxPrompt(text, pooled);
            float t = g.readFloats("input.t")[0];
            float guidance = g.readFloats("input.guidance")[0];
            RelationTriplet triplet = RelationTriplet.of("cat", SpatialRelation.LEFT_OF, "teddy bear");
            assertEquals(g.readLongs("input.target_relation")[0], classifier.classIndex(triplet.relation()));
            TokenBinding binding = TokenBinding.ofPositions(triplet, toInts(g.readLongs("input.subject_token_indices")),
                    toInts(g.readLongs("input.object_token_indices")));
            int classifierIndex = (int) g.readLongs("input.classifier_timestep_index")[0];
            TorchSteeringObjective objective = new TorchSteeringObjective(denoiser.probed(prompt, t, guidance, classifier.mapSide()),
                    classifier, scope, classifierIndex, new Shape(1, CHANNELS, LATENT, LATENT), Map.of(triplet, binding));

            float[] latents = FluxLatents.unpack(g.readFloats("input.latents"), 1, CHANNELS, LATENT, LATENT);
            TorchSteeringObjective.Detailed first = objective.evaluateDetailed(latents, triplet, true);
            String name = "flux-steer-step " + goldenFile;

            assertClose(name + " maps", g.readFloats("output.maps"), first.maps(), 1e-5);
            assertClose(name + " logits", g.readFloats("output.logits"), first.logits(), 1e-4);
            assertClose(name + " loss", g.readFloats("output.loss"), new float[] {first.evaluation().loss()}, 1e-4);
            float[] grad = FluxLatents.pack(first.evaluation().gradient(), 1, CHANNELS, LATENT, LATENT);
            assertRelL2(name + " grad", g.readFloats("output.grad"), grad, 1e-3);

            float alpha = g.readFloats("input.step_size")[0];
            float[] updated = step(latents, first.evaluation().gradient(), alpha);
            assertClose(name + " latents", g.readFloats("output.latents"), FluxLatents.pack(updated, 1, CHANNELS, LATENT, LATENT), 1e-4);
            TorchSteeringObjective.Detailed second = objective.evaluateDetailed(updated, triplet, false);
            assertClose(name + " loss_iteration2", g.readFloats("output.loss_iteration2"), new float[] {second.evaluation().loss()}, 1e-4);
            float[] refined = step(updated, second.evaluation().gradient(), alpha);
            assertClose(name + " latents_refine2", g.readFloats("output.latents_refine2"),
                    FluxLatents.pack(refined, 1, CHANNELS, LATENT, LATENT), 1e-4);
        }
    }

    /**
     * The probe's constants made from Java data (word indices, the resize matrices) are used in the
     * blocks' scopes, which close before the backward pass: the garbage collector freeing their
     * buffers in between, and new buffers filled with NaN taking the memory, must not reach the
     * gradient (it did, intermittently, when they viewed Java buffers).
     */
    @Test
    void theGradientDoesNotReadMemoryTheCollectorFreedBeforeTheBackwardPass() throws Exception {
        try (SafetensorsFile g = Conformance.golden("flux-steer-step", "golden_dev.safetensors");
                NDManager scope = manager.newSubManager();
                PublishedRelationClassifier classifier = PublishedRelationClassifier.load(
                        Conformance.dir("flux-steer-step").resolve("classifier_dev.pth"), scope)) {
            FluxPrompt prompt = new FluxPrompt(scope.create(g.readFloats("input.prompt_embeds"), new Shape(g.info("input.prompt_embeds").shape())),
                    scope.create(g.readFloats("input.pooled_prompt_embeds"), new Shape(1, 24)));
            RelationTriplet triplet = RelationTriplet.of("cat", SpatialRelation.LEFT_OF, "teddy bear");
            TokenBinding binding = TokenBinding.ofPositions(triplet, toInts(g.readLongs("input.subject_token_indices")),
                    toInts(g.readLongs("input.object_token_indices")));
            ProbedDenoiser probed = denoiser.probed(prompt, g.readFloats("input.t")[0], g.readFloats("input.guidance")[0], classifier.mapSide());
            ProbedDenoiser collecting = new ProbedDenoiser() {
                @Override
                public TorchAttentionProbe newProbe(List<int[]> words) {
                    return probed.newProbe(words);
                }

                @Override
                public void run(NDArray latent, TorchAttentionProbe probe) {
                    probed.run(latent, probe);
                    collectAndScribble();
                }
            };
            TorchSteeringObjective objective = new TorchSteeringObjective(collecting, classifier, scope,
                    (int) g.readLongs("input.classifier_timestep_index")[0], new Shape(1, CHANNELS, LATENT, LATENT), Map.of(triplet, binding));
            float[] latents = FluxLatents.unpack(g.readFloats("input.latents"), 1, CHANNELS, LATENT, LATENT);
            for (int i = 0; i < 3; i++) {
                float[] grad = FluxLatents.pack(objective.evaluate(latents, triplet).gradient(), 1, CHANNELS, LATENT, LATENT);
                assertRelL2("gradient " + i + " after a collection", g.readFloats("output.grad"), grad, 1e-3);
            }
        }
    }

    /** Runs the collector (its cleaner frees unreachable direct buffers) and fills new direct buffers of small sizes with NaN bits. */
    private static void collectAndScribble() {
        List<ByteBuffer> keep = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (int size = 4; size <= 2048; size += 4) {
                ByteBuffer b = ByteBuffer.allocateDirect(size);
                while (b.hasRemaining()) {
                    b.put((byte) 0xff);
                }
                keep.add(b);
            }
        }
    }

    private static float[] step(float[] z, float[] grad, float alpha) {
        float[] out = z.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] -= alpha * grad[i];
        }
        return out;
    }

    private static int[] toInts(long[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Math.toIntExact(values[i]);
        }
        return out;
    }
}
