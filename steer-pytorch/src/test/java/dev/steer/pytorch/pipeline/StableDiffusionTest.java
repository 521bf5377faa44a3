package dev.steer.pytorch.pipeline;

import dev.steer.pytorch.testing.TinyModels;

import static dev.steer.core.testing.Conformance.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.steer.core.generation.Cancellation;
import dev.steer.core.generation.GenerationCancelledException;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.image.PngImages;
import dev.steer.core.scheduler.Schedule;
import dev.steer.core.scheduler.SchedulerType;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StableDiffusionTest {
    @TempDir
    static Path tmp;

    private static StableDiffusion sd;

    @BeforeAll
    static void load() throws Exception {
        Path folder = TinyModels.folder(tmp.resolve("tiny"));
        sd = StableDiffusion.builder().setModelFolder(folder).build();
    }

    @AfterAll
    static void close() {
        if (sd != null) {
            sd.close();
        }
    }

    @Test
    void reproducesReferencePipelineStepByStepAndDecodedImage() {
        try (SafetensorsFile g = Conformance.golden("pipeline-tiny"); NDManager scope = sd.manager().newSubManager()) {
            NDArray cond = sd.encodeIds(scope, g.readLongs("input.cond_ids"));
            NDArray uncond = sd.encodeIds(scope, g.readLongs("input.uncond_ids"));
            int steps = (int) g.readLongs("input.num_steps")[0];
            Schedule schedule = sd.scheduler().schedule(steps);
            long[] expectedT = g.readLongs("output.timesteps");
            int[] t = schedule.timesteps();
            assertEquals(expectedT.length, t.length);
            for (int i = 0; i < t.length; i++) {
                assertEquals(expectedT[i], t[i], "timestep " + i);
            }
            List<float[]> latents = new ArrayList<>();
            float guidance = g.readFloats("input.guidance_scale")[0];
            float[] out = sd.denoise(cond, uncond, g.readFloats("input.init_latents"), 16, 16, schedule, guidance,
                    p -> latents.add(p.latents().clone()));
            assertEquals(steps, latents.size());
            for (int i = 0; i < steps; i++) {
                assertClose("pipeline latents." + (i + 1), g.readFloats("latents." + (i + 1)), latents.get(i), 1e-4);
            }
            float[] image = sd.decode(scope, out, 16, 16);
            assertClose("pipeline output.image", g.readFloats("output.image"), image, 1e-4);
        }
    }

    @Test
    void tokenizerFromAnotherModelIsAClearErrorNotANativeCrash() {
        // the tiny text encoder has 1000 tokens; the real CLIP tokenizer produces ids up to 49407
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sd.generate(GenerationRequest.builder("a photo of a dog").optSteps(2).build()));
        assertTrue(e.getMessage().contains("outside the text encoder's vocabulary"), e.getMessage());
    }

    @Test
    void generatesSeedReproduciblePngWithSettingsAndFreesEveryArray() throws Exception {
        // a text encoder as wide as the real vocabulary, so real prompts tokenize into it
        Path folder = TinyModels.fullVocabularyFolder(tmp.resolve("tiny-random"));
        try (StableDiffusion random = StableDiffusion.builder().setModelFolder(folder).optRandomWeights(3).build()) {
            BaseNDManager weights = (BaseNDManager) random.manager();
            int before = weights.getManagedArrays().size();
            GenerationRequest req = GenerationRequest.builder("a red circle left of a blue square")
                    .optNegativePrompt("blurry").optSteps(3).optSeed(11).optSize(64, 64).optScheduler(SchedulerType.EULER).build();
            GenerationResult a = random.generate(req);
            GenerationResult b = random.generate(req);
            GenerationResult c = random.generate(GenerationRequest.builder("a red circle left of a blue square")
                    .optSteps(3).optSeed(12).optSize(64, 64).build());
            assertEquals(before, weights.getManagedArrays().size(), "arrays left in the model's manager");
            assertArrayEquals(a.finalLatents(), b.finalLatents());
            assertNotEquals(a.finalLatents()[0], c.finalLatents()[0]);
            assertEquals(64, a.image().getWidth());
            assertEquals(3, a.timings().unetCalls());
            Path png = a.save(tmp.resolve("out.png"));
            Map<String, String> text = PngImages.readText(png);
            assertEquals("a red circle left of a blue square", text.get("prompt"));
            assertEquals("11", text.get("seed"));
            assertEquals("EULER", text.get("scheduler"));
            assertEquals("blurry", text.get("negative_prompt"));
        }
    }

    @Test
    void aCancelledGenerationFreesItsArraysAndThePipelineStaysUsable() throws Exception {
        Path folder = TinyModels.fullVocabularyFolder(tmp.resolve("tiny-cancel"));
        try (StableDiffusion random = StableDiffusion.builder().setModelFolder(folder).optRandomWeights(5).build()) {
            BaseNDManager weights = (BaseNDManager) random.manager();
            int before = weights.getManagedArrays().size();
            GenerationRequest req = GenerationRequest.builder("a red circle left of a blue square").optSteps(4).optSeed(5)
                    .optSize(64, 64).build();
            float[] expected = random.generate(req).finalLatents();
            Cancellation cancel = new Cancellation();
            List<Integer> steps = new ArrayList<>();
            GenerationRequest cancelled = GenerationRequest.builder(req.prompt()).optSteps(4).optSeed(5).optSize(64, 64)
                    .optCancellation(cancel).optProgressListener(p -> {
                        steps.add(p.step());
                        if (p.step() == 1) {
                            cancel.cancel();
                        }
                    }).build();
            GenerationCancelledException e = assertThrows(GenerationCancelledException.class, () -> random.generate(cancelled));
            assertTrue(e.getMessage().contains("at step 2 of 4"), e.getMessage());
            assertEquals(List.of(0, 1), steps);
            assertEquals(before, weights.getManagedArrays().size(), "the cancelled generation's arrays were freed");
            assertArrayEquals(expected, random.generate(req).finalLatents(), "the pipeline is usable after a cancel");
            List<GenerationResult> both = random.generateAll(req.withSeeds(5, 6));
            assertArrayEquals(expected, both.get(0).finalLatents(), "several images in one call equal single calls");
            assertArrayEquals(random.generate(req.withSeed(6)).finalLatents(), both.get(1).finalLatents());
            assertEquals(before, weights.getManagedArrays().size());
        }
    }

    @Test
    void refusesSizesTheUNetCannotTake() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sd.generate(GenerationRequest.builder("x").optSize(60, 64).optSteps(1).build()));
        assertTrue(e.getMessage().contains("multiples of"), e.getMessage());
    }
}
