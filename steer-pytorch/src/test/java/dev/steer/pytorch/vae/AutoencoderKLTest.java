package dev.steer.pytorch.vae;

import dev.steer.pytorch.testing.TinyModels;

import static dev.steer.core.testing.Conformance.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.steer.core.model.ConfigJson;
import dev.steer.core.model.ModelConfigException;
import dev.steer.core.model.VaeConfig;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.pytorch.internal.weights.ModelWeights;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AutoencoderKLTest {
    private static NDManager manager;
    private static AutoencoderKL vae;
    private static SafetensorsFile golden;

    @BeforeAll
    static void load() {
        manager = NDManager.newBaseManager();
        vae = TinyModels.vae(manager);
        golden = Conformance.golden("vae-tiny");
    }

    @AfterAll
    static void close() {
        golden.close();
        manager.close();
    }

    private static NDArray input(NDManager m, String name) {
        return m.create(golden.readFloats(name), new Shape(golden.info(name).shape()));
    }

    @Test
    void decodeMatchesReference() {
        try (NDManager scope = manager.newSubManager()) {
            NDArray image = vae.decode(input(scope, "input.latents"));
            assertEquals(new Shape(1, 3, 32, 32), image.getShape());
            assertSame(scope, image.getManager(), "outputs belong to the caller's scope");
            assertClose("vae output.image", golden.readFloats("output.image"), image.toFloatArray(), 1e-4);
        }
    }

    @Test
    void encodeMatchesReferenceMeanAndLogVariance() {
        try (NDManager scope = manager.newSubManager()) {
            LatentDistribution posterior = vae.encode(input(scope, "input.image"));
            assertEquals(new Shape(1, 4, 8, 8), posterior.mean().getShape());
            assertSame(scope, posterior.mean().getManager());
            assertClose("vae output.latent_mean", golden.readFloats("output.latent_mean"), posterior.mean().toFloatArray(), 1e-4);
            assertClose("vae output.latent_logvar", golden.readFloats("output.latent_logvar"),
                    posterior.logvar().toFloatArray(), 1e-4);
            NDArray a = posterior.sample(7);
            NDArray b = posterior.sample(7);
            assertEquals(posterior.mean().getShape(), a.getShape());
            assertClose("vae sample(seed) reproducible", a.toFloatArray(), b.toFloatArray(), 0);
        }
    }

    @Test
    void encodeAndDecodeAreDifferentiableWithRespectToInputs() {
        try (NDManager scope = manager.newSubManager()) {
            NDArray image = input(scope, "input.image");
            NDArray latents = input(scope, "input.latents");
            image.setRequiresGradient(true);
            latents.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = vae.encode(image).mean().square().sum().add(vae.decode(latents).square().sum());
                gc.backward(loss);
            }
            for (NDArray x : new NDArray[] {image, latents}) {
                NDArray g = x.getGradient();
                assertNotNull(g);
                assertTrue(g.abs().sum().getFloat() > 0, "non-zero gradient");
            }
        }
    }

    @Test
    void unsupportedBlockTypeIsRefusedByName() throws Exception {
        String json = Files.readString(Conformance.dir("vae-tiny").resolve("vae/config.json"))
                .replaceFirst("\"DownEncoderBlock2D\"", "\"AttnDownEncoderBlock2D\"");
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> VaeConfig.from(ConfigJson.parse(Path.of("vae/config.json"), json)));
        assertTrue(e.getMessage().contains("AttnDownEncoderBlock2D"), e.getMessage());
    }

    @Test
    void latentStatisticsAndOtherClassesAreRefused() {
        String base = "{\"_class_name\": \"AutoencoderKL\", \"down_block_types\": [\"DownEncoderBlock2D\"],"
                + " \"up_block_types\": [\"UpDecoderBlock2D\"], \"block_out_channels\": [32], \"norm_num_groups\": 8";
        for (String key : List.of("latents_mean", "latents_std")) {
            ModelConfigException e = assertThrows(ModelConfigException.class, () -> VaeConfig.from(
                    ConfigJson.parse(Path.of("vae/config.json"), base + ", \"" + key + "\": [0.1, 0.2, 0.3, 0.4]}")));
            assertTrue(e.getMessage().contains(key) && e.getMessage().contains("vae/config.json"), e.getMessage());
        }
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> VaeConfig.from(ConfigJson.parse(Path.of("vae/config.json"),
                base.replace("AutoencoderKL", "AutoencoderTiny") + "}")));
        assertTrue(e.getMessage().contains("AutoencoderTiny"), e.getMessage());
        e = assertThrows(ModelConfigException.class,
                () -> VaeConfig.from(ConfigJson.parse(Path.of("vae/config.json"), base + ", \"act_fn\": \"relu\"}")));
        assertTrue(e.getMessage().contains("act_fn"), e.getMessage());
        e = assertThrows(ModelConfigException.class,
                () -> VaeConfig.from(ConfigJson.parse(Path.of("vae/config.json"), base + ", \"scaling_factor\": 0}")));
        assertTrue(e.getMessage().contains("scaling_factor"), e.getMessage());
        // SD defaults: no shift (absent or null, as diffusers writes it), both 1x1 convs
        VaeConfig ok = VaeConfig.from(ConfigJson.parse(Path.of("vae/config.json"), base + ", \"shift_factor\": null,"
                + " \"latents_mean\": null, \"latents_std\": null}"));
        assertEquals(0.18215f, ok.scalingFactor());
        assertEquals(0f, ok.shiftFactor());
        assertTrue(ok.useQuantConv() && ok.usePostQuantConv() && ok.midBlockAddAttention());
        VaeConfig shifted = VaeConfig.from(ConfigJson.parse(Path.of("vae/config.json"), base + ", \"shift_factor\": 0.1159}"));
        assertEquals(0.1159f, shifted.shiftFactor());
    }

    @Test
    void sdScalingHasNoShift() {
        VaeConfig c = vae.config();
        assertEquals(0f, c.shiftFactor());
        float[] z = {1f, -2f, 0.5f};
        float[] unscaled = c.unscaleLatents(z);
        for (int i = 0; i < z.length; i++) {
            assertEquals(z[i] / c.scalingFactor(), unscaled[i], 0f);
        }
        try (NDManager scope = manager.newSubManager()) {
            NDArray latents = input(scope, "input.latents");
            assertClose("vae decodeScaled = decode(z / scaling)", vae.decode(latents.div(c.scalingFactor())).toFloatArray(),
                    vae.decodeScaled(latents).toFloatArray(), 0);
        }
    }

    @Test
    void sd15VaeBuildsFromConfigAloneWithRandomWeights() {
        VaeConfig c = VaeConfig.load(Conformance.testdata().resolve("architectures/sd15/vae/config.json"));
        assertEquals(8, c.downsampleFactor());
        AutoencoderKL model = new AutoencoderKL(c);
        assertEquals(83_653_863L, model.parameterCount());
        try (NDManager weights = NDManager.newBaseManager()) {
            ModelWeights.randomize(model, 42, weights);
            try (NDManager scope = weights.newSubManager()) {
                NDArray image = model.decode(scope.zeros(new Shape(1, 4, 2, 2)));
                assertEquals(new Shape(1, 3, 16, 16), image.getShape());
                LatentDistribution posterior = model.encode(image);
                assertEquals(new Shape(1, 4, 2, 2), posterior.mean().getShape());
                for (float v : posterior.mean().toFloatArray()) {
                    assertTrue(Float.isFinite(v));
                }
            }
        }
    }
}
