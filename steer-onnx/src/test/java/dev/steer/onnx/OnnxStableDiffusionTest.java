package dev.steer.onnx;

import static dev.steer.core.testing.Conformance.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.generation.GenerationCancelledException;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.image.PngImages;
import dev.steer.core.scheduler.Schedule;
import dev.steer.core.scheduler.SchedulerType;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxStableDiffusionTest {
    @TempDir
    static Path tmp;

    private static OnnxStableDiffusion sd;

    @BeforeAll
    static void load() throws Exception {
        sd = OnnxStableDiffusion.builder().setModelFolder(TinyOnnxFolders.create(tmp.resolve("tiny"))).build();
    }

    @AfterAll
    static void close() {
        if (sd != null) {
            sd.close();
        }
    }

    @Test
    void reproducesReferencePipelineStepByStepAndDecodedImage() {
        try (SafetensorsFile g = Conformance.golden("pipeline-tiny")) {
            FloatTensor cond = sd.encodeIds(g.readLongs("input.cond_ids"));
            FloatTensor uncond = sd.encodeIds(g.readLongs("input.uncond_ids"));
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
            assertEquals(7.5f, guidance);
            float[] out = sd.denoise(cond, uncond, g.readFloats("input.init_latents"), 16, 16, schedule, guidance,
                    p -> latents.add(p.latents().clone()));
            assertEquals(steps, latents.size());
            for (int i = 0; i < steps; i++) {
                assertClose("onnx pipeline latents." + (i + 1), g.readFloats("latents." + (i + 1)), latents.get(i), 1e-4);
            }
            float[] image = sd.decode(out, 16, 16);
            assertClose("onnx pipeline output.image", g.readFloats("output.image"), image, 1e-4);
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
    void generatesSeedReproduciblePngWithSettings() throws Exception {
        Path folder = TinyOnnxFolders.create(tmp.resolve("tiny-vocab"));
        TinyOnnxFolders.useTinyVocabulary(folder);
        try (OnnxStableDiffusion model = OnnxStableDiffusion.builder().setModelFolder(folder).optIntraOpThreads(1).build()) {
            GenerationRequest req = GenerationRequest.builder("a red circle left of a blue square")
                    .optNegativePrompt("blurry").optSteps(3).optSeed(11).optSize(64, 64).optScheduler(SchedulerType.EULER).build();
            GenerationResult a = model.generate(req);
            GenerationResult b = model.generate(req);
            GenerationResult c = model.generate(GenerationRequest.builder("a red circle left of a blue square")
                    .optSteps(3).optSeed(12).optSize(64, 64).build());
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
            assertEquals("64x64", text.get("size"));
            assertTrue(text.get("model").contains("ONNX"), text.get("model"));
            assertEquals("java.util.Random(seed).nextGaussian", text.get("noise"));
        }
    }

    @Test
    void aCancelledGenerationStopsWithinOneStepAndSeveralImagesInOneCallMatchSingleCalls() throws Exception {
        Path folder = TinyOnnxFolders.create(tmp.resolve("tiny-cancel"));
        TinyOnnxFolders.useTinyVocabulary(folder);
        try (OnnxStableDiffusion model = OnnxStableDiffusion.builder().setModelFolder(folder).build()) {
            GenerationRequest req = GenerationRequest.builder("a red circle left of a blue square").optSteps(3).optSeed(2)
                    .optSize(64, 64).build();
            float[] expected = model.generate(req).finalLatents();
            Thread.currentThread().interrupt();
            GenerationCancelledException e = assertThrows(GenerationCancelledException.class, () -> model.generate(req));
            assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
            List<GenerationResult> both = model.generateAll(req.withSeeds(2, 3));
            assertArrayEquals(expected, both.get(0).finalLatents(), "usable after the cancel; batch equals single calls");
            assertArrayEquals(model.generate(req.withSeed(3)).finalLatents(), both.get(1).finalLatents());
        }
    }

    @Test
    void runsAtSizesOtherThanTheExportSize() throws Exception {
        Path folder = TinyOnnxFolders.create(tmp.resolve("tiny-size"));
        TinyOnnxFolders.useTinyVocabulary(folder);
        try (OnnxStableDiffusion model = OnnxStableDiffusion.builder().setModelFolder(folder).build()) {
            GenerationResult r = model.generate(GenerationRequest.builder("a cube").optSteps(2).optSize(96, 32).build());
            assertEquals(96, r.image().getWidth());
            assertEquals(32, r.image().getHeight());
        }
    }

    @Test
    void refusesSizesTheUNetCannotTake() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> sd.generate(GenerationRequest.builder("x").optSize(60, 64).optSteps(1).build()));
        assertTrue(e.getMessage().contains("multiples of 16"), e.getMessage());
    }

    @Test
    void steeringWithoutAClassifierSaysHowToLoadOne() {
        GenerationRequest req = GenerationRequest.builder("a cat left of a dog")
                .optSteering(dev.steer.core.steering.SteeringRequest.fromPrompt()).build();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> sd.generate(req));
        assertTrue(e.getMessage().contains("optRelationClassifier"), e.getMessage());
    }
}
