package dev.steer.pytorch.pipeline;

import static dev.steer.core.testing.Conformance.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.internal.flux.FluxLatents;
import dev.steer.core.generation.StepProgress;
import dev.steer.core.model.ModelConfigException;
import dev.steer.core.scheduler.Schedule;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.pytorch.flux.FluxPrompt;
import dev.steer.pytorch.testing.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The FLUX pipeline loaded from a folder as a user's, against diffusers' {@code FluxPipeline} step by step. */
class FluxPipelineTest {
    private static final int LATENT = 16;
    private static final int CHANNELS = 16;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"schnell", "dev"})
    void denoisingMatchesDiffusersStepByStepAndDecodes(String run, @TempDir Path dir) throws Exception {
        boolean dev = run.equals("dev");
        try (FluxPipeline flux = FluxPipeline.builder().setModelFolder(TinyModels.fluxFolder(dir.resolve("flux"), dev)).build();
                SafetensorsFile g = Conformance.golden("flux-pipeline-tiny");
                NDManager scope = flux.manager().newSubManager()) {
            FluxPrompt prompt = new FluxPrompt(scope.create(g.readFloats("input.prompt_embeds"), new Shape(1, 12, 32)),
                    scope.create(g.readFloats("input.pooled_prompt_embeds"), new Shape(1, 24)));
            int steps = (int) g.readLongs(run + ".num_inference_steps")[0];
            float guidance = g.readFloats(run + ".guidance_scale")[0];
            Schedule schedule = flux.scheduler().schedule(steps, FluxLatents.sequenceLength(LATENT, LATENT));
            assertArrayEquals(g.readFloats(run + ".timesteps"), schedule.modelTimesteps(), 0f, run + " timesteps");
            float[] init = FluxLatents.unpack(g.readFloats("input.latents"), 1, CHANNELS, LATENT, LATENT);
            List<float[]> afterStep = new ArrayList<>();
            float[] out;
            try (FluxDiffusionBackend.Scope s = new FluxDiffusionBackend.Scope(flux, scope.newSubManager())) {
                out = flux.engine().denoise(s, prompt, null, init, LATENT, LATENT, schedule, guidance, null,
                        (StepProgress p) -> afterStep.add(p.latents()));
                assertEquals(steps, afterStep.size());
                for (int i = 0; i < steps; i++) {
                    assertClose("flux-pipeline " + run + " latents." + (i + 1), g.readFloats(run + ".latents." + (i + 1)),
                            FluxLatents.pack(afterStep.get(i), 1, CHANNELS, LATENT, LATENT), 1e-4);
                }
                assertClose("flux-pipeline " + run + " image", g.readFloats(run + ".image"), s.decode(out, LATENT, LATENT), 1e-4);
            }
        }
    }

    @Test
    void aFolderMissingAComponentOrATokenizerFileIsRefusedNamingIt(@TempDir Path dir) throws Exception {
        Path root = TinyModels.fluxFolder(dir.resolve("flux"), false);
        Files.delete(root.resolve("tokenizer_2/tokenizer.json"));
        Exception e = assertThrows(RuntimeException.class, () -> FluxPipeline.builder().setModelFolder(root).build());
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
        Files.copy(Conformance.testdata().resolve("tokenizers/t5-test/tokenizer.json"), root.resolve("tokenizer_2/tokenizer.json"));
        TinyModels.deleteDir(root.resolve("text_encoder_2"));
        e = assertThrows(ModelConfigException.class, () -> FluxPipeline.builder().setModelFolder(root).build());
        assertTrue(e.getMessage().contains("text_encoder_2"), e.getMessage());
    }

    @Test
    void aFolderDeclaringAShorterT5LengthRunsWithItAndFluxsOwn512KeepsTheDefaults(@TempDir Path dir) throws Exception {
        Path root = TinyModels.fluxFolder(dir.resolve("flux"), false);
        Path cfg = root.resolve("tokenizer_2/tokenizer_config.json");
        Files.writeString(cfg, "{\"model_max_length\": 512, \"tokenizer_class\": \"T5Tokenizer\"}");
        try (FluxPipeline flux = FluxPipeline.builder().setModelFolder(root).build()) {
            assertEquals(flux.embedsGuidance() ? 512 : 256, flux.tokenizer().maxLength());
        }
        Files.writeString(cfg, "{\"model_max_length\": 1000000000000000019884624838656, \"tokenizer_class\": \"T5Tokenizer\"}");
        try (FluxPipeline flux = FluxPipeline.builder().setModelFolder(root).build()) {
            assertEquals(flux.embedsGuidance() ? 512 : 256, flux.tokenizer().maxLength());
        }
        Files.writeString(cfg, "{\"model_max_length\": 32}");
        try (FluxPipeline flux = FluxPipeline.builder().setModelFolder(root).build()) {
            assertEquals(32, flux.tokenizer().maxLength());
        }
        try (FluxPipeline flux = FluxPipeline.builder().setModelFolder(root).optMaxSequenceLength(64).build()) {
            assertEquals(64, flux.tokenizer().maxLength());
        }
    }

    @Test
    void aT5ConfigTheLibraryDoesNotImplementIsRefused(@TempDir Path dir) throws Exception {
        Path root = TinyModels.fluxFolder(dir.resolve("flux"), false);
        Path cfg = root.resolve("text_encoder_2/config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("\"gated-gelu\"", "\"gated-silu\""));
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> FluxPipeline.builder().setModelFolder(root).build());
        assertTrue(e.getMessage().contains(cfg.toString()) && e.getMessage().contains("feed_forward_proj"), e.getMessage());
    }

    @Test
    void anSdFolderIsRefusedByFluxAndAFluxFolderBySd(@TempDir Path dir) throws Exception {
        Path sd = TinyModels.folder(dir.resolve("sd"));
        Files.writeString(sd.resolve("model_index.json"), "{\"_class_name\": \"StableDiffusionPipeline\"}");
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> FluxPipeline.builder().setModelFolder(sd).build());
        assertTrue(e.getMessage().contains("StableDiffusionPipeline"), e.getMessage());
        Path flux = TinyModels.fluxFolder(dir.resolve("flux"), false);
        e = assertThrows(ModelConfigException.class, () -> StableDiffusion.builder().setModelFolder(flux).build());
        assertTrue(e.getMessage().contains("FluxPipeline"), e.getMessage());
    }

    @Test
    void aModelThatCannotFitFailsBeforeLoadingWithTheBytesItNeeds() {
        dev.steer.core.model.MemoryBudget b = new dev.steer.core.model.MemoryBudget().add("transformer", 23_800_000_000L)
                .add("T5", 9_500_000_000L);
        var e = assertThrows(dev.steer.core.model.MemoryBudget.InsufficientMemoryException.class,
                () -> b.require(16_000_000_000L, Path.of("FLUX.1-dev"), "memory available on this machine"));
        assertTrue(e.getMessage().contains("33.30 GB") && e.getMessage().contains("transformer 23.80 GB")
                && e.getMessage().contains("16.00 GB"), e.getMessage());
        assertEquals(33_300_000_000L, e.neededBytes());
    }

    @Test
    void aShardedTransformerLoadsAsTheSingleFile(@TempDir Path dir) throws Exception {
        Path root = TinyModels.fluxFolder(dir.resolve("flux"), false);
        Path single = root.resolve("transformer/diffusion_pytorch_model.safetensors");
        java.util.Map<String, dev.steer.core.internal.weights.TensorData> first = new java.util.LinkedHashMap<>();
        java.util.Map<String, dev.steer.core.internal.weights.TensorData> second = new java.util.LinkedHashMap<>();
        com.google.gson.JsonObject map = new com.google.gson.JsonObject();
        try (SafetensorsFile st = SafetensorsFile.open(single)) {
            for (String name : st.tensors().keySet()) {
                boolean inFirst = name.startsWith("transformer_blocks") || name.startsWith("x_embedder");
                (inFirst ? first : second).put(name, dev.steer.core.internal.weights.TensorData.ofFloats(st.info(name).shape(), st.readFloats(name)));
                map.addProperty(name, inFirst ? "diffusion_pytorch_model-00001-of-00002.safetensors"
                        : "diffusion_pytorch_model-00002-of-00002.safetensors");
            }
        }
        dev.steer.core.internal.weights.SafetensorsWriter.write(root.resolve("transformer/diffusion_pytorch_model-00001-of-00002.safetensors"), first, null);
        dev.steer.core.internal.weights.SafetensorsWriter.write(root.resolve("transformer/diffusion_pytorch_model-00002-of-00002.safetensors"), second, null);
        com.google.gson.JsonObject index = new com.google.gson.JsonObject();
        index.add("metadata", new com.google.gson.JsonObject());
        index.add("weight_map", map);
        Files.writeString(root.resolve("transformer/diffusion_pytorch_model.safetensors.index.json"), index.toString());
        Files.delete(single);
        try (FluxPipeline flux = FluxPipeline.builder().setModelFolder(root).build();
                SafetensorsFile g = Conformance.golden("flux-transformer-tiny");
                NDManager scope = flux.manager().newSubManager()) {
            var out = flux.transformer().forward(scope.create(g.readFloats("input.hidden_states"), new Shape(1, 64, 64)),
                    scope.create(g.readFloats("input.encoder_hidden_states"), new Shape(1, 12, 32)),
                    scope.create(g.readFloats("input.pooled_projections"), new Shape(1, 24)), g.readFloats("input.timestep"),
                    g.readFloats("input.guidance"), 8, 8, null);
            assertClose("flux sharded transformer", g.readFloats("output.sample"), out.toFloatArray(), 1e-4);
        }
    }

    @Test
    void aSchnellTransformerHasNoGuidanceEmbeddingAndRunsWithoutGuidance(@TempDir Path dir) throws Exception {
        Path root = TinyModels.fluxFolder(dir.resolve("flux"), false);
        Path cfg = root.resolve("transformer/config.json");
        Files.writeString(cfg, Files.readString(cfg).replace("\"guidance_embeds\": true", "\"guidance_embeds\": false"));
        var e = assertThrows(dev.steer.core.weights.WeightsFormatException.class,
                () -> FluxPipeline.builder().setModelFolder(root).build());
        assertTrue(e.getMessage().contains("guidance_embedder"), "a [dev] checkpoint has weights a [schnell] config does not: " + e.getMessage());
        try (FluxPipeline schnell = FluxPipeline.builder().setModelFolder(root).optRandomWeights(5).build()) {
            assertTrue(schnell.transformer().namedParameters().keySet().stream().noneMatch(k -> k.contains("guidance_embedder")));
            assertEquals(4, schnell.defaults().steps());
            var request = dev.steer.core.generation.GenerationRequest.builder("a photo of a dog").optSteps(2).optSize(32, 32);
            var plain = schnell.generate(request.optGuidanceScale(0f).build());
            assertEquals(32, plain.image().getWidth());
            // no guidance embedding: a scale above 1 runs diffusers' true classifier-free guidance
            var guided = schnell.generate(request.optGuidanceScale(4f).optNegativePrompt("a cat").build());
            assertTrue(Conformance.maxAbsDiff(plain.finalLatents(), guided.finalLatents()) > 1e-4);
        }
    }
}
