package dev.steer.pytorch.inversion;

import dev.steer.pytorch.testing.TinyModels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.scheduler.Schedule;


import dev.steer.pytorch.pipeline.StableDiffusion;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DdimInversionTest {
    @TempDir
    static Path tmp;

    private static StableDiffusion sd;

    @BeforeAll
    static void load() throws Exception {
        sd = TinyModels.fixtureTiny(tmp.resolve("tiny"));
    }

    @AfterAll
    static void close() {
        sd.close();
    }

    static BufferedImage squares(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(235, 235, 220));
        g.fillRect(0, 0, w, h);
        g.setColor(new Color(200, 30, 30));
        g.fillRect(w / 10, h / 3, w / 4, h / 4);
        g.setColor(new Color(30, 60, 200));
        g.fillRect(w * 6 / 10, h / 3, w / 4, h / 4);
        g.dispose();
        return img;
    }

    private static DdimInversion inversion(int steps, int iterations) {
        return DdimInversion.builder().setPipeline(sd).optSteps(steps).optFixedPointIterations(iterations).build();
    }

    @Test
    void fixedPointIterationsReduceTheRoundTripError() {
        String prompt = "A red square to the left of a blue square";
        DdimInversion plain = inversion(10, 0);
        EncodedImage encoded = plain.encode(squares(64, 64));
        Inverted p = plain.invert(encoded, prompt);
        Reconstruction rp = plain.reconstruct(p);
        double plainStep = firstStepError(plain, p);
        StringBuilder log = new StringBuilder(String.format(Locale.ROOT,
                "10 steps, 0 iterations: latent error %.3e, first denoising step error %.3e, PSNR %.2f dB",
                rp.latentError(), plainStep, rp.psnr()));
        double previous = rp.latentError();
        double previousStep = plainStep;
        for (int iterations : new int[] {2, 5}) {
            DdimInversion fp = inversion(10, iterations);
            Inverted f = fp.invert(encoded, prompt);
            Reconstruction rf = fp.reconstruct(f);
            double step = firstStepError(fp, f);
            log.append(String.format(Locale.ROOT,
                    "%n10 steps, %d iterations: latent error %.3e, first denoising step error %.3e, PSNR %.2f dB, max residual %.2e",
                    iterations, rf.latentError(), step, rf.psnr(), max(f.residuals())));
            assertTrue(rf.latentError() < previous, log.toString());
            assertTrue(step < previousStep, log.toString());
            previous = rf.latentError();
            previousStep = step;
        }
        System.out.println(log);
        assertTrue(previous < 0.5 * rp.latentError(), log.toString());
    }

    /**
     * How far the first denoising step, taken from the inverted noise, lands from the inversion's
     * latent one step below it (relative L2): 0 for an exact inverse of that step.
     */
    private static double firstStepError(DdimInversion inv, Inverted r) {
        Schedule schedule = inv.schedule();
        try (NDManager scope = sd.manager().newSubManager()) {
            NDArray cond = sd.encodePrompt(scope, r.prompt());
            NDArray x = scope.create(r.noise(), new Shape(1, 4, 16, 16));
            float[] eps = sd.unet().forward(x, scope.create(new float[] {schedule.modelTimesteps()[0]}), cond, null).toFloatArray();
            float[] down = schedule.step(eps, 0, r.noise());
            return InversionImages.relativeL2(down, r.latents().get(r.steps() - 1));
        }
    }

    private static double max(double[] v) {
        double m = 0;
        for (double d : v) {
            m = Math.max(m, d);
        }
        return m;
    }

    @Test
    void trajectoryRunsFromTheCleanLatentUpTheScheduleAndEncodingIsDeterministic() {
        DdimInversion inv = inversion(10, 1);
        assertEquals(64, inv.width());
        assertEquals(16, inv.latentWidth());
        Inverted r = inv.invert(squares(64, 64), "a red square to the left of a blue square");
        assertEquals(10, r.steps());
        assertEquals(11, r.latents().size());
        // sched-ddim: leading spacing, steps_offset 1: 901, 801, ..., 1; stride 100
        assertArrayEquals(new int[] {-99, 1, 101, 201, 301, 401, 501, 601, 701, 801, 901}, r.timesteps());
        assertArrayEquals(inv.encode(squares(64, 64)).latent(), r.cleanLatent());
        assertEquals(4 * 16 * 16, r.noise().length);
        assertEquals(10, r.residuals().length);
        double rms = Math.sqrt(dot(r.noise(), r.noise()) / r.noise().length);
        assertTrue(rms > 0.3, "the inverted latent at t=901 is mostly noise-scaled, rms " + rms);
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    @Test
    void psnrOfKnownImages() {
        float[] a = new float[1000];
        float[] b = new float[1000];
        for (int i = 0; i < a.length; i++) {
            a[i] = 0.5f;
            b[i] = 0.5f + (i % 2 == 0 ? 0.1f : -0.1f);
        }
        assertEquals(Double.POSITIVE_INFINITY, InversionImages.psnr(a, a.clone()));
        assertEquals(20.0, InversionImages.psnr(a, b), 1e-4, "MSE 0.01 -> 20 dB");
        BufferedImage grey = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        BufferedImage noisy = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                grey.setRGB(x, y, 0x808080);
                int v = (x + y) % 2 == 0 ? 128 + 26 : 128 - 26;
                noisy.setRGB(x, y, (v << 16) | (v << 8) | v);
            }
        }
        assertEquals(Double.POSITIVE_INFINITY, InversionImages.psnr(grey, grey));
        assertEquals(20 * Math.log10(255.0 / 26), InversionImages.psnr(grey, noisy), 1e-4);
        assertThrows(IllegalArgumentException.class, () -> InversionImages.psnr(new float[2], new float[3]));
    }

    @Test
    void imagesAreStretchedOrCenterCroppedToTheModelSize() {
        BufferedImage wide = new BufferedImage(256, 128, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = wide.createGraphics();
        g.setColor(Color.BLUE);
        g.fillRect(0, 0, 256, 128);
        g.setColor(Color.RED);
        g.fillRect(0, 0, 64, 128);
        g.dispose();
        BufferedImage stretched = inversion(2, 0).prepare(wide);
        assertEquals(64, stretched.getWidth());
        assertEquals(64, stretched.getHeight());
        assertEquals(0xff0000, stretched.getRGB(4, 32) & 0xffffff, "the red quarter is kept");
        assertEquals(0x0000ff, stretched.getRGB(60, 32) & 0xffffff);
        BufferedImage cropped = DdimInversion.builder().setPipeline(sd).optSteps(2)
                .optImageFit(ImageFit.CENTER_CROP).build().prepare(wide);
        assertEquals(64, cropped.getWidth());
        assertEquals(0x0000ff, cropped.getRGB(1, 32) & 0xffffff, "the red quarter is cut off");
        assertThrows(IllegalArgumentException.class, () -> DdimInversion.builder().setPipeline(sd).optSize(60, 64).build());
        assertThrows(IllegalStateException.class, () -> DdimInversion.builder().build());
    }
}
