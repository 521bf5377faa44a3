package dev.steer.pytorch.vae;

import static dev.steer.core.testing.Conformance.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.model.VaeConfig;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.weights.WeightsFormatException;
import dev.steer.pytorch.internal.weights.ModelWeights;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The FLUX.1-shaped autoencoder of {@code testdata/conformance/vae-flux-tiny}: 16 latent channels, no
 * quant_conv/post_quant_conv, scaling_factor 0.3611 and shift_factor 0.1159.
 */
class AutoencoderKLFluxTest {
    private static final String FIXTURE = "vae-flux-tiny";
    private static final double TOL = 1e-4;

    private static NDManager manager;
    private static AutoencoderKL vae;
    private static SafetensorsFile golden;

    @BeforeAll
    static void load() {
        manager = NDManager.newBaseManager();
        Path dir = Conformance.dir(FIXTURE).resolve("vae");
        vae = new AutoencoderKL(VaeConfig.load(dir.resolve("config.json")));
        ModelWeights.load(vae, List.of(dir.resolve("diffusion_pytorch_model.safetensors")), manager);
        golden = Conformance.golden(FIXTURE);
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
    void configReadsTheFluxOptions() {
        VaeConfig c = vae.config();
        assertEquals(16, c.latentChannels());
        assertEquals(0.3611f, c.scalingFactor());
        assertEquals(0.1159f, c.shiftFactor());
        assertFalse(c.useQuantConv());
        assertFalse(c.usePostQuantConv());
        assertTrue(vae.namedParameters().keySet().stream().noneMatch(k -> k.startsWith("quant_conv") || k.startsWith("post_quant_conv")),
                "no 1x1 quant convs are built");
    }

    @Test
    void weightsWithQuantConvsDoNotLoadIntoAModelWithout() {
        // the strict loader names the surplus tensor: the flags decide the module tree
        Path dir = Conformance.dir("vae-tiny").resolve("vae");
        VaeConfig sd = VaeConfig.load(dir.resolve("config.json"));
        VaeConfig without = new VaeConfig(sd.inChannels(), sd.outChannels(), sd.blockOutChannels(), sd.layersPerBlock(),
                sd.latentChannels(), sd.normGroups(), sd.scalingFactor(), 0f, false, false, sd.midBlockAddAttention(), sd.sampleSize());
        try (NDManager m = manager.newSubManager()) {
            Exception e = assertThrows(WeightsFormatException.class,
                    () -> ModelWeights.load(new AutoencoderKL(without), List.of(dir.resolve("diffusion_pytorch_model.safetensors")), m));
            assertTrue(e.getMessage().contains("quant_conv"), e.getMessage());
        }
    }

    @Test
    void decodeMatchesReference() {
        try (NDManager scope = manager.newSubManager()) {
            NDArray image = vae.decode(input(scope, "input.latents"));
            assertEquals(new Shape(1, 3, 32, 32), image.getShape());
            assertClose("vae-flux output.image", golden.readFloats("output.image"), image.toFloatArray(), TOL);
        }
    }

    @Test
    void encodeMatchesReferenceMeanAndLogVariance() {
        try (NDManager scope = manager.newSubManager()) {
            LatentDistribution posterior = vae.encode(input(scope, "input.image"));
            assertEquals(new Shape(1, 16, 8, 8), posterior.mean().getShape());
            assertClose("vae-flux output.latent_mean", golden.readFloats("output.latent_mean"), posterior.mean().toFloatArray(), TOL);
            assertClose("vae-flux output.latent_logvar", golden.readFloats("output.latent_logvar"), posterior.logvar().toFloatArray(),
                    TOL);
        }
    }

    @Test
    void decodeFromScaledLatentsDividesThenShifts() {
        try (NDManager scope = manager.newSubManager()) {
            NDArray scaled = input(scope, "input.scaled_latents");
            assertClose("vae-flux output.image_from_scaled", golden.readFloats("output.image_from_scaled"),
                    vae.decodeScaled(scaled).toFloatArray(), TOL);
            // the Java-array helper is the same formula, bit for bit
            assertClose("vae-flux unscaleLatents (array vs tensor)", vae.config().unscaleLatents(golden.readFloats("input.scaled_latents")),
                    vae.unscaleLatents(scaled).toFloatArray(), 0);
        }
    }

    @Test
    void scaleLatentsInvertsUnscaleLatents() {
        try (NDManager scope = manager.newSubManager()) {
            NDArray raw = input(scope, "input.latents");
            NDArray scaled = vae.scaleLatents(raw);
            float[] r = raw.toFloatArray();
            float[] s = scaled.toFloatArray();
            for (int i = 0; i < r.length; i++) {
                assertEquals((r[i] - 0.1159f) * 0.3611f, s[i], 1e-6f, "(z - shift) * scaling at " + i);
            }
            assertClose("vae-flux scale then unscale", r, vae.unscaleLatents(scaled).toFloatArray(), 1e-6);
            assertClose("vae-flux scaleLatents (array vs tensor)", vae.config().scaleLatents(r), s, 0);
        }
    }
}
