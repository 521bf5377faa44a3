package dev.steer.pytorch.inversion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.engine.GenerationScope;
import dev.steer.core.scheduler.FlowMatchSchedule;
import dev.steer.core.steering.ClassifierTimesteps;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.pytorch.dataset.RelationDatasetBuilder;
import dev.steer.pytorch.flux.FluxPrompt;
import dev.steer.pytorch.pipeline.FluxPipeline;
import dev.steer.pytorch.testing.TinyModels;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlowMatchInversionTest {
    private static final String PROMPT = "A red square to the left of a blue square";

    @TempDir
    static Path tmp;

    private static FluxPipeline flux;

    @BeforeAll
    static void load() throws Exception {
        Path folder = TinyModels.fluxFolder(tmp.resolve("flux"), false);
        // a model trained at 32x32 says so, as the embedded ShapeWorld model does; the dataset builder works at that size
        Files.writeString(folder.resolve("model_index.json"),
                "{\"_class_name\": \"FluxPipeline\", \"_steer_defaults\": {\"image_size\": 32, \"steps\": 10}}");
        flux = FluxPipeline.builder().setModelFolder(folder).build();
    }

    @AfterAll
    static void close() {
        flux.close();
    }

    private static FlowMatchInversion inversion(int steps, int iterations) {
        return FlowMatchInversion.builder().setPipeline(flux).optSteps(steps).optFixedPointIterations(iterations).optSize(32, 32).build();
    }

    @Test
    void fixedPointIterationsReduceTheRoundTripError() {
        FlowMatchInversion plain = inversion(8, 0);
        EncodedImage encoded = plain.encode(DdimInversionTest.squares(64, 64));
        Inverted p = plain.invert(encoded, PROMPT);
        Reconstruction rp = plain.reconstruct(p);
        double plainStep = firstStepError(plain, p);
        StringBuilder log = new StringBuilder(String.format(Locale.ROOT,
                "8 steps, 0 iterations: latent error %.3e, first sampling step error %.3e, PSNR %.2f dB", rp.latentError(), plainStep,
                rp.psnr()));
        double previous = rp.latentError();
        double previousStep = plainStep;
        for (int iterations : new int[] {2, 5}) {
            FlowMatchInversion fp = inversion(8, iterations);
            Inverted f = fp.invert(encoded, PROMPT);
            Reconstruction rf = fp.reconstruct(f);
            double step = firstStepError(fp, f);
            log.append(String.format(Locale.ROOT, "%n8 steps, %d iterations: latent error %.3e, first sampling step error %.3e, PSNR %.2f dB",
                    iterations, rf.latentError(), step, rf.psnr()));
            assertTrue(rf.latentError() < previous, log.toString());
            assertTrue(step < previousStep, log.toString());
            previous = rf.latentError();
            previousStep = step;
        }
        System.out.println(log);
        assertTrue(previous < 0.5 * rp.latentError(), log.toString());
    }

    /** Relative L2 distance between the sampler's first Euler step from the inverted noise and the inversion's latent below it. */
    private static double firstStepError(FlowMatchInversion inv, Inverted r) {
        FlowMatchSchedule schedule = inv.schedule();
        try (GenerationScope<FluxPrompt> scope = flux.engine().backend().openScope()) {
            FluxPrompt cond = scope.encode(inv.tokenize(r.prompt()));
            float[] v = scope.predict(cond, r.noise(), 1, inv.latentHeight(), inv.latentWidth(), schedule.modelTimesteps()[0],
                    inv.guidance(), null, 0);
            float[] down = schedule.step(v, 0, r.noise());
            return InversionImages.relativeL2(down, r.latents().get(r.steps() - 1));
        }
    }

    @Test
    void trajectoryRunsFromTheCleanLatentUpTheSigmasAndEncodingIsDeterministic() {
        FlowMatchInversion inv = inversion(6, 1);
        Inverted r = inv.invert(DdimInversionTest.squares(32, 32), PROMPT);
        assertEquals(6, r.steps());
        int[] t = inv.schedule().timesteps();
        assertEquals(0, r.timesteps()[0], "the clean end is sigma 0");
        for (int k = 1; k <= 6; k++) {
            assertEquals(t[6 - k], r.timesteps()[k]);
        }
        assertArrayEquals(inv.encode(DdimInversionTest.squares(32, 32)).latent(), r.cleanLatent());
        assertEquals(6, r.residuals().length);
        assertEquals(flux.vae().config().latentChannels() * inv.latentHeight() * inv.latentWidth(), r.noise().length);
        assertThrows(IllegalArgumentException.class, () -> inversion(5, 1).reconstruct(r), "a trajectory of another step count");
        assertThrows(IllegalArgumentException.class, () -> FlowMatchInversion.builder().setPipeline(flux).optSize(33, 32).build());
        assertThrows(IllegalStateException.class, () -> FlowMatchInversion.builder().build());
    }

    @Test
    void theDatasetBuilderRecordsEveryHeadOfEveryBlockOfAFluxModel() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("data/images"));
        ImageIO.write(DdimInversionTest.squares(64, 64), "png", images.resolve("left.png").toFile());
        Path manifest = tmp.resolve("data/pairs.jsonl");
        Files.writeString(manifest, "{\"image\": \"images/left.png\", \"subject\": \"red\", \"object\": \"blue\", \"relation\": \"left of\"}\n");
        Path out = tmp.resolve("dataset");
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        RelationDatasetBuilder builder = RelationDatasetBuilder.builder().setPipeline(flux).setOutputDir(out).addManifest(manifest)
                .optSteps(10).optFixedPointIterations(1).optPsnrThreshold(Double.NEGATIVE_INFINITY)
                .optProgress(new PrintStream(progress)).build();
        int heads = 0;
        for (var layer : flux.transformer().crossAttentionLayers()) {
            heads += layer.heads();
        }
        assertEquals(heads, builder.mapsPerWord());
        assertEquals(32, flux.defaults().imageSize());
        assertEquals(10, flux.defaults().steps());
        RelationDatasetBuilder.Summary s = builder.run();
        assertEquals(1, s.processed(), progress.toString());
        assertEquals(2L * ClassifierTimesteps.TRAINED.length, s.samples(), "positive and one negative, at every trained step");
        try (SafetensorsFile shard = SafetensorsFile.open(out.resolve("shard-00000.safetensors"))) {
            assertArrayEquals(new long[] {s.samples(), 2, heads, RelationDatasetBuilder.MAP_SIZE, RelationDatasetBuilder.MAP_SIZE},
                    shard.tensors().get("maps").shape());
        }
    }
}
