package dev.steer.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.generation.Cancellation;
import dev.steer.core.generation.GenerationCancelledException;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.InitialNoise;
import dev.steer.core.generation.StepProgress;
import dev.steer.core.image.PngImages;
import dev.steer.core.relation.CentroidRelationBaseline;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerationEngineTest {
    private static final String PROMPT = "a red circle left of a blue square";

    @TempDir
    Path tmp;

    private static GenerationRequest.Builder request() {
        return GenerationRequest.builder(PROMPT).optSteps(6).optGuidanceScale(5).optSeed(4);
    }

    private static SteeringRequest steering() {
        return SteeringRequest.fromPrompt().withConfig(SteeringConfig.DEFAULTS.withMaxIterations(2).withStepSize(0.5f));
    }

    @Test
    void reportsEveryStepToTheProgressListenerWithTheSteeringOfSteeredSteps() {
        List<StepProgress> heard = new ArrayList<>();
        try (GenerationEngine<float[]> engine = new GenerationEngine<>(new FakeBackend())) {
            GenerationResult r = engine.generate(request().optSteering(steering()).optProgressListener(heard::add).build());
            assertEquals(6, heard.size());
            for (int i = 0; i < 6; i++) {
                StepProgress p = heard.get(i);
                assertEquals(i, p.step());
                assertEquals(6, p.steps());
                assertEquals(i < 3, p.steering() != null, "steps 0..2 of 6 are steered");
            }
            assertTrue(heard.get(5).isLast());
            assertArrayEquals(r.finalLatents(), heard.get(5).latents());
            assertEquals(3, r.steering().size());
            // 6 guided calls + per steered step 2 evaluations and the final telemetry evaluation
            assertEquals(6 + 3 * 3, r.timings().unetCalls());
        }
    }

    @Test
    void steeringStartsFromTheCandidateNoiseTheClassifierPrefersAndCountsTheCandidatePasses() {
        // the fake objective's loss is the latent's mean square: the candidate with the smallest one wins
        int candidates = 5;
        long seed = -1;
        int best = 0;
        while (best == 0) { // a seed whose own noise is not the best candidate
            seed++;
            double bestLoss = Double.MAX_VALUE;
            for (int c = 0; c < candidates; c++) {
                float[] noise = InitialNoise.gaussian(InitialNoise.candidateSeed(seed, c), 2 * 4 * 4); // the fake latent: 2 x 4 x 4
                double sum = 0;
                for (float v : noise) {
                    sum += v * v;
                }
                if (sum < bestLoss) {
                    bestLoss = sum;
                    best = c;
                }
            }
        }
        SteeringConfig config = steering().config();
        try (GenerationEngine<float[]> engine = new GenerationEngine<>(new FakeBackend())) {
            GenerationResult chosen = engine.generate(request().optSeed(seed)
                    .optSteering(SteeringRequest.fromPrompt().withConfig(config.withNoiseCandidates(candidates))).build());
            GenerationResult direct = engine.generate(request().optSeed(InitialNoise.candidateSeed(seed, best))
                    .optSteering(SteeringRequest.fromPrompt().withConfig(config)).build());
            assertArrayEquals(direct.finalLatents(), chosen.finalLatents(), "generation continues from the chosen candidate");
            assertTrue(chosen.metadata().get("steering_noise").startsWith("candidate " + best + " of 5"),
                    chosen.metadata().get("steering_noise"));
            assertEquals(direct.timings().unetCalls() + candidates, chosen.timings().unetCalls(), "one pass per candidate");
            assertEquals(Long.toString(seed), chosen.metadata().get("seed"), "the request's seed is what the image records");
        }
    }

    @Test
    void candidatesComparedAtALaterStepAreDenoisedToItAndGenerationContinuesFromTheChosenOne() {
        int candidates = 3;
        // steer step 2 of 6 only, so a candidate's own generation is the same computation whether chosen or direct
        SteeringConfig config = steering().config().withRange(2 / 6.0 - 1e-9, 0.5);
        try (GenerationEngine<float[]> engine = new GenerationEngine<>(new FakeBackend())) {
            List<StepProgress> heard = new ArrayList<>();
            GenerationResult chosen = engine.generate(request().optProgressListener(heard::add)
                    .optSteering(SteeringRequest.fromPrompt().withConfig(config.withNoiseCandidates(candidates).withSelectionStep(2))).build());
            List<Integer> matches = new ArrayList<>();
            GenerationResult direct = null;
            for (int c = 0; c < candidates; c++) {
                GenerationResult r = engine.generate(request().optSeed(InitialNoise.candidateSeed(4, c))
                        .optSteering(SteeringRequest.fromPrompt().withConfig(config)).build());
                if (java.util.Arrays.equals(r.finalLatents(), chosen.finalLatents())) {
                    matches.add(c);
                    direct = r;
                }
            }
            assertEquals(1, matches.size(), "the result is exactly one candidate's generation: " + matches);
            assertTrue(chosen.metadata().get("steering_noise").startsWith("candidate " + matches.get(0) + " of 3"));
            // the others' two steps each, one comparison per candidate
            assertEquals(direct.timings().unetCalls() + (candidates - 1) * 2 + candidates, chosen.timings().unetCalls());
            assertEquals(List.of(0, 1, 2, 3, 4, 5), heard.stream().map(StepProgress::step).toList(), "every step reported once, in order");
        }
        SteeringRequest tooLate = SteeringRequest.fromPrompt().withConfig(config.withNoiseCandidates(2).withSelectionStep(6));
        try (GenerationEngine<float[]> engine = new GenerationEngine<>(new FakeBackend())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> engine.generate(request().optSteering(tooLate).build()));
            assertTrue(e.getMessage().contains("step 6"), e.getMessage());
        }
    }

    @Test
    void aCancelledGenerationStopsWithinOneStepClosesItsScopeAndLeavesTheEngineUsable() {
        FakeBackend backend = new FakeBackend();
        try (GenerationEngine<float[]> engine = new GenerationEngine<>(backend)) {
            float[] fresh = engine.generate(request().build()).finalLatents();
            Cancellation cancel = new Cancellation();
            int before = backend.predicts.get();
            backend.onPredict = n -> {
                if (n - before == 3) {
                    cancel.cancel();
                }
            };
            GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                    () -> engine.generate(request().optCancellation(cancel).build()));
            assertTrue(e.getMessage().contains("at step 3 of 6"), e.getMessage());
            assertEquals(before + 3, backend.predicts.get(), "no denoiser call after the cancelled step");
            assertEquals(backend.scopesOpen.get(), backend.scopesClosed.get(), "the cancelled generation's scope was closed");
            backend.onPredict = n -> {
            };
            assertArrayEquals(fresh, engine.generate(request().build()).finalLatents());
        }
    }

    @Test
    void anInterruptStopsTheGenerationAndIsConsumed() {
        FakeBackend backend = new FakeBackend();
        try (GenerationEngine<float[]> engine = new GenerationEngine<>(backend)) {
            boolean[] fired = {false};
            backend.onPredict = n -> {
                if (!fired[0]) { // the first guided call, after step 0's steering
                    fired[0] = true;
                    Thread.currentThread().interrupt();
                }
            };
            GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                    () -> engine.generate(request().optSteering(steering()).build()));
            assertTrue(e.getMessage().contains("interrupted at step 1 of 6"), e.getMessage());
            assertFalse(Thread.currentThread().isInterrupted());
            assertEquals(backend.scopesOpen.get(), backend.scopesClosed.get());
        }
    }

    @Test
    void cancellingWhileSteeringStopsBeforeTheNextEvaluation() {
        FakeBackend backend = new FakeBackend();
        Cancellation cancel = new Cancellation();
        SteeringRequest s = steering().withListener(report -> cancel.cancel());
        try (GenerationEngine<float[]> engine = new GenerationEngine<>(backend)) {
            GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                    () -> engine.generate(request().optSteering(s).optCancellation(cancel).build()));
            assertTrue(e.getMessage().contains("at step 1"), e.getMessage());
            // step 0: 3 evaluations and one guided call; nothing after the cancel
            assertEquals(4, backend.predicts.get());
        }
    }

    @Test
    void severalImagesInOneCallEncodeEachPromptOnceAndMatchSingleCalls() {
        FakeBackend backend = new FakeBackend();
        try (GenerationEngine<float[]> engine = new GenerationEngine<>(backend)) {
            List<StepProgress> heard = new ArrayList<>();
            List<GenerationRequest> requests = new ArrayList<>(request().optProgressListener(heard::add).build().withSeeds(1, 2, 3));
            requests.add(request().build().withPrompt("a green triangle above a red circle"));
            List<GenerationResult> all = engine.generateAll(requests);
            assertEquals(3, backend.encodes.get(), "the prompt, the empty negative prompt and the second prompt, once each");
            assertEquals(1, backend.scopesOpen.get());
            assertEquals(18, heard.size());
            assertEquals(2, heard.get(17).image());
            assertEquals(4, heard.get(17).images());
            for (int i = 0; i < 4; i++) {
                assertArrayEquals(engine.generate(requests.get(i)).finalLatents(), all.get(i).finalLatents(), "image " + i);
                assertEquals(requests.get(i).seed(), all.get(i).request().seed());
            }
        }
    }

    @Test
    void picturesShowEachSteeredStepBesideVanillaAndTheVanillaRunReusesTheEncodedPrompt() throws Exception {
        FakeBackend backend = new FakeBackend();
        Path dir = tmp.resolve("pictures");
        try (GenerationEngine<float[]> engine = new GenerationEngine<>(backend)) {
            GenerationResult r = engine.generate(request().optSteering(steering().withPictures(dir)).build());
            assertEquals(2, backend.encodes.get(), "prompt and negative prompt, encoded once for both runs");
            assertEquals(dir.toString(), r.metadata().get("steering_pictures"));
            for (String f : List.of("step-00.png", "step-01.png", "step-02.png", "final.png")) {
                assertTrue(Files.isRegularFile(dir.resolve(f)), f);
                assertEquals(PROMPT, PngImages.readText(dir.resolve(f)).get("prompt"));
            }
            assertFalse(Files.exists(dir.resolve("step-03.png")));
        }
    }

    @Test
    void aClassifierThatCannotReadTheProbesMapsIsRefusedWithBothNumbers() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new GenerationEngine<>(new FakeBackend(new CentroidRelationBaseline(FakeBackend.CLASSES, 195))));
        assertTrue(e.getMessage().contains("reads 195 maps per word") && e.getMessage().contains("produces 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new GenerationEngine<>(new FakeBackend(new CentroidRelationBaseline(List.of("above"), 4))));
        assertTrue(e.getMessage().contains("at least two"), e.getMessage());
    }

    @Test
    void steeringWithoutAClassifierAndBadSizesAreRefusedBeforeAnyWork() {
        FakeBackend backend = new FakeBackend(null);
        try (GenerationEngine<float[]> engine = new GenerationEngine<>(backend)) {
            assertThrows(IllegalStateException.class, () -> engine.generate(request().optSteering(steering()).build()));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> engine.generateAll(List.of(request().build(), request().optSize(12, 16).build())));
            assertTrue(e.getMessage().contains("multiples of 8"), e.getMessage());
            assertEquals(0, backend.predicts.get());
            assertEquals(0, backend.scopesOpen.get());
        }
        assertTrue(backend.closed);
    }

    @Test
    void vanillaImagesCarryNoSteeringEntries() {
        try (GenerationEngine<float[]> engine = new GenerationEngine<>(new FakeBackend())) {
            GenerationResult r = engine.generate(request().build());
            assertTrue(r.steering().isEmpty());
            assertNull(r.metadata().get("steering_summary"));
            assertNotNull(r.metadata().get("seed"));
            assertEquals(8, r.image().getWidth());
        }
    }
}
