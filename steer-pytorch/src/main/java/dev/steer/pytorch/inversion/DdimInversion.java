package dev.steer.pytorch.inversion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.engine.StepObserver;
import dev.steer.core.image.PngImages;
import dev.steer.core.scheduler.DDIMScheduler;
import dev.steer.core.scheduler.Schedule;
import dev.steer.core.scheduler.SchedulerType;
import dev.steer.core.scheduler.Schedulers;
import dev.steer.pytorch.pipeline.StableDiffusion;
import java.awt.AlphaComposite;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * DDIM inversion of a real image to the noise a {@link StableDiffusion} model would denoise back into
 * it, with fixed-point iterations per step, and the reconstruction that checks it (the data side of
 * Learn-to-Steer's dual inversion; reference: 50 steps, 5 iterations, guidance 1).
 *
 * <p><b>Image in.</b> {@link #prepare} brings any image to the model size ({@code sample_size x VAE
 * scale}, e.g. 512x512 for SD 1.5, or {@link Builder#optSize}): with {@link ImageFit#STRETCH} (the
 * default) the whole image is resized to that size, changing its aspect ratio but keeping every object
 * in frame (left/right/above/below survive an axis-aligned stretch); with {@link ImageFit#CENTER_CROP}
 * it is scaled to cover the size and the centre is cut out. Downscaling halves the image with bilinear
 * filtering until within a factor of two, then finishes with bicubic filtering; transparent pixels are
 * composited over white. Pixels go to [-1, 1] CHW, and the latent is the VAE posterior's mean times
 * {@code scaling_factor}.
 *
 * <p><b>Inversion.</b> On the DDIM schedule of {@code steps} steps built from the model's scheduler
 * config (whatever sampler the folder names), with descending timesteps {@code T[0] > ... > T[n-1]}
 * and stride {@code s = num_train_timesteps / n}, step {@code j = n-1 .. 0} maps the latent at
 * {@code T[j] - s} (the clean latent for {@code j = n-1}) to {@code T[j]} by
 * {@link DDIMScheduler#invertStep}. Plain DDIM inversion uses the UNet's prediction for the
 * <i>current</i> latent at {@code T[j]}; each fixed-point iteration re-predicts at the newest estimate
 * of the latent at {@code T[j]} and redoes the step from the same start, converging to the latent the
 * forward DDIM step maps exactly back. The UNet sees the conditional prompt alone (guidance 1).
 *
 * <p><b>Reconstruction.</b> {@link #reconstruct} denoises from the inverted noise with the same
 * prompt, schedule and guidance 1 through {@link StableDiffusion#denoise} (so an attention
 * {@link StepObserver} can record maps on the way), decodes, and measures the PSNR
 * against the prepared input in [0, 1] pixel space (dB; {@code +Infinity} for identical images).
 *
 * <p>Not thread-safe (the pipeline is not). Native memory lives in scopes closed before each method
 * returns; results are Java arrays.
 */
public final class DdimInversion {
    /** How an image is brought to the model's size. */
    public enum ImageFit {
        /** Resize the whole image to the model size (aspect ratio not kept; nothing cut off). */
        STRETCH,
        /** Scale to cover the model size, keeping the aspect ratio, and cut out the centre. */
        CENTER_CROP
    }

    private final StableDiffusion sd;
    private final DDIMScheduler ddim;
    private final int steps;
    private final int iterations;
    private final ImageFit fit;
    private final int width;
    private final int height;

    private DdimInversion(Builder b) {
        this.sd = b.pipeline;
        this.ddim = (DDIMScheduler) Schedulers.create(SchedulerType.DDIM, sd.scheduler().config());
        this.steps = b.steps;
        this.iterations = b.iterations;
        this.fit = b.fit;
        int scale = sd.vaeScaleFactor();
        int natural = sd.unet().config().sampleSize() * scale;
        this.width = b.width == 0 ? natural : b.width;
        this.height = b.height == 0 ? natural : b.height;
        int multiple = scale * sd.unet().config().downsampleFactor();
        if (width % multiple != 0 || height % multiple != 0) {
            throw new IllegalArgumentException("width and height must be multiples of " + multiple + " for this model, got " + width
                    + "x" + height);
        }
        ddim.schedule(steps); // validates the step count against the config
    }

    /** Starts configuring an inversion. */
    public static Builder builder() {
        return new Builder();
    }

    /** The pipeline whose models are used. */
    public StableDiffusion pipeline() {
        return sd;
    }

    /** The DDIM scheduler built from the model's scheduler config. */
    public DDIMScheduler scheduler() {
        return ddim;
    }

    /** Number of DDIM steps. */
    public int steps() {
        return steps;
    }

    /** Fixed-point iterations per step (0: plain DDIM inversion). */
    public int fixedPointIterations() {
        return iterations;
    }

    /** How images are fitted to the model size. */
    public ImageFit imageFit() {
        return fit;
    }

    /** Image width in pixels. */
    public int width() {
        return width;
    }

    /** Image height in pixels. */
    public int height() {
        return height;
    }

    /** Latent width. */
    public int latentWidth() {
        return width / sd.vaeScaleFactor();
    }

    /** Latent height. */
    public int latentHeight() {
        return height / sd.vaeScaleFactor();
    }

    /** A fresh DDIM schedule of {@link #steps()} steps (the one inversion and reconstruction use). */
    public Schedule schedule() {
        return ddim.schedule(steps);
    }

    /**
     * An image brought to the model size and encoded.
     *
     * @param image the prepared RGB image at the model size (the reference for PSNR)
     * @param latent the VAE posterior mean times the scaling factor, [C * h * w]
     */
    public record EncodedImage(BufferedImage image, float[] latent) {
    }

    /**
     * The result of inverting one image with one prompt.
     *
     * @param prompt the prompt the UNet saw
     * @param image the prepared input image (null when a bare latent was inverted)
     * @param latents the trajectory: {@code latents.get(0)} is the clean latent, {@code latents.get(k)}
     *     the latent after {@code k} inversion steps (at {@code timesteps[k]}), the last one the noise
     * @param timesteps the timestep of each latent ({@code timesteps[0] = T[n-1] - stride}, negative
     *     when it stands for the clean end; then {@code T[n-1], ..., T[0]})
     * @param residuals per inversion step (in inversion order), the relative L2 change made by its last
     *     fixed-point iteration (0 when there were none): how far from converged the step was left
     * @param latentHeight latent height
     * @param latentWidth latent width
     */
    public record Inverted(String prompt, BufferedImage image, List<float[]> latents, int[] timesteps, double[] residuals,
            int latentHeight, int latentWidth) {
        /** The clean latent that was inverted. */
        public float[] cleanLatent() {
            return latents.get(0);
        }

        /** The inverted noise latent (at the schedule's first timestep), where re-denoising starts. */
        public float[] noise() {
            return latents.get(latents.size() - 1);
        }

        /** Number of inversion steps. */
        public int steps() {
            return latents.size() - 1;
        }
    }

    /**
     * A re-denoised inversion.
     *
     * @param latent the final latent of the re-denoising
     * @param image the decoded image
     * @param psnr PSNR against the inverted image in [0, 1] pixel space (dB), NaN when a bare latent was inverted
     * @param latentError relative L2 error of {@code latent} against the clean latent that was inverted
     */
    public record Reconstruction(float[] latent, BufferedImage image, double psnr, double latentError) {
    }

    /** Fits an image to the model size (see the class notes), as an RGB image. */
    public BufferedImage prepare(BufferedImage image) {
        Objects.requireNonNull(image, "image");
        BufferedImage rgb = toRgb(image);
        if (fit == ImageFit.CENTER_CROP) {
            double s = Math.max((double) width / rgb.getWidth(), (double) height / rgb.getHeight());
            int cw = Math.max(1, Math.min(rgb.getWidth(), (int) Math.round(width / s)));
            int ch = Math.max(1, Math.min(rgb.getHeight(), (int) Math.round(height / s)));
            rgb = rgb.getSubimage((rgb.getWidth() - cw) / 2, (rgb.getHeight() - ch) / 2, cw, ch);
        }
        return resize(rgb, width, height);
    }

    /** Prepares and encodes an image: the clean latent to invert. */
    public EncodedImage encode(BufferedImage image) {
        BufferedImage prepared = prepare(image);
        try (NDManager scope = sd.manager().newSubManager()) {
            NDArray x = scope.create(toChw(prepared), new Shape(1, 3, height, width));
            NDArray mean = sd.vae().scaleLatents(sd.vae().encode(x).mean());
            return new EncodedImage(prepared, mean.toFloatArray());
        }
    }

    /** Prepares, encodes and inverts {@code image} with {@code prompt}. */
    public Inverted invert(BufferedImage image, String prompt) {
        return invert(encode(image), prompt);
    }

    /** Inverts an encoded image with {@code prompt} (encode once, invert with several prompts). */
    public Inverted invert(EncodedImage encoded, String prompt) {
        return invertLatent(encoded.latent(), encoded.image(), prompt);
    }

    /**
     * Inverts a clean latent [C * h * w] (already times the scaling factor) with {@code prompt}.
     *
     * @param image the image it came from, for PSNR; may be null
     */
    public Inverted invertLatent(float[] cleanLatent, BufferedImage image, String prompt) {
        Objects.requireNonNull(prompt, "prompt");
        int channels = sd.unet().config().inChannels();
        int lh = latentHeight();
        int lw = latentWidth();
        if (cleanLatent.length != channels * lh * lw) {
            throw new IllegalArgumentException("the latent must have " + channels + " x " + lh + " x " + lw + " values, got "
                    + cleanLatent.length);
        }
        Schedule schedule = schedule();
        int[] t = schedule.timesteps();
        float[] modelT = schedule.modelTimesteps();
        int n = t.length;
        int stride = ddim.config().numTrainTimesteps() / steps;
        List<float[]> latents = new ArrayList<>(n + 1);
        int[] times = new int[n + 1];
        double[] residuals = new double[n];
        latents.add(cleanLatent.clone());
        times[0] = t[n - 1] - stride;
        try (NDManager scope = sd.manager().newSubManager()) {
            NDArray cond = sd.encodePrompt(scope, prompt);
            Shape shape = new Shape(1, channels, lh, lw);
            float[] z = cleanLatent.clone();
            for (int k = 0; k < n; k++) {
                int j = n - 1 - k;
                int to = t[j];
                int from = to - stride;
                float[] next = ddim.invertStep(predict(scope, z, shape, modelT[j], cond), from, to, z);
                for (int it = 0; it < iterations; it++) {
                    float[] refined = ddim.invertStep(predict(scope, next, shape, modelT[j], cond), from, to, z);
                    residuals[k] = relativeL2(refined, next);
                    next = refined;
                }
                z = next;
                latents.add(z);
                times[k + 1] = to;
            }
        }
        return new Inverted(prompt, image, List.copyOf(latents), times, residuals, lh, lw);
    }

    private float[] predict(NDManager scope, float[] latent, Shape shape, float timestep, NDArray cond) {
        try (NDManager call = scope.newSubManager()) {
            NDArray x = call.create(latent, shape);
            NDArray ts = call.create(new float[] {timestep});
            return sd.unet().forward(x, ts, cond, null).toFloatArray();
        }
    }

    /** Re-denoises an inversion with its prompt and decodes it; see {@link #reconstruct(Inverted, StepObserver)}. */
    public Reconstruction reconstruct(Inverted inverted) {
        return reconstruct(inverted, null);
    }

    /**
     * Denoises from {@code inverted.noise()} with the same prompt and DDIM schedule at guidance 1,
     * letting {@code observer} (may be null) probe chosen steps' cross-attention, then decodes and
     * measures PSNR against the inverted image and the latent error against the clean latent.
     */
    public Reconstruction reconstruct(Inverted inverted, StepObserver observer) {
        int lh = inverted.latentHeight();
        int lw = inverted.latentWidth();
        if (inverted.steps() != steps || lh != latentHeight() || lw != latentWidth()) {
            throw new IllegalArgumentException("this inversion was made with " + inverted.steps() + " steps at latent " + lh + "x"
                    + lw + "; this DdimInversion uses " + steps + " steps at " + latentHeight() + "x" + latentWidth());
        }
        try (NDManager scope = sd.manager().newSubManager()) {
            NDArray cond = sd.encodePrompt(scope, inverted.prompt());
            float[] latent = sd.denoise(cond, null, inverted.noise(), lh, lw, schedule(), 1f, observer, null);
            float[] pixels = sd.decode(scope, latent, lh, lw);
            BufferedImage image = PngImages.fromChw(pixels, height, width);
            double psnr = inverted.image() == null ? Double.NaN : psnr(toUnit(pixels), toUnit(toChw(inverted.image())));
            return new Reconstruction(latent, image, psnr, relativeL2(latent, inverted.cleanLatent()));
        }
    }

    /** The PSNR (dB) of the reconstruction of {@code inverted} against its input image. */
    public double reconstructionPsnr(Inverted inverted) {
        return reconstruct(inverted).psnr();
    }

    /**
     * PSNR in dB of two equally long arrays of values in [0, 1]: {@code 10 log10(1 / MSE)};
     * {@code +Infinity} when they are identical.
     */
    public static double psnr(float[] a, float[] b) {
        if (a.length != b.length || a.length == 0) {
            throw new IllegalArgumentException("need two non-empty arrays of the same length, got " + a.length + " and " + b.length);
        }
        double se = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            se += d * d;
        }
        double mse = se / a.length;
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(1 / mse);
    }

    /** PSNR in dB of two RGB images of the same size, their 8-bit values taken to [0, 1]. */
    public static double psnr(BufferedImage a, BufferedImage b) {
        if (a.getWidth() != b.getWidth() || a.getHeight() != b.getHeight()) {
            throw new IllegalArgumentException("images differ in size: " + a.getWidth() + "x" + a.getHeight() + " and " + b.getWidth()
                    + "x" + b.getHeight());
        }
        return psnr(toUnit(toChw(a)), toUnit(toChw(b)));
    }

    /** An image's RGB values as [3, H, W] floats in [-1, 1] ({@code v / 127.5 - 1}). */
    public static float[] toChw(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        int plane = w * h;
        float[] out = new float[3 * plane];
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int p = row[x];
                int i = y * w + x;
                out[i] = ((p >> 16) & 0xff) / 127.5f - 1f;
                out[plane + i] = ((p >> 8) & 0xff) / 127.5f - 1f;
                out[2 * plane + i] = (p & 0xff) / 127.5f - 1f;
            }
        }
        return out;
    }

    /** [-1, 1] values to [0, 1], clamped. */
    private static float[] toUnit(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            float u = v[i] / 2f + 0.5f;
            out[i] = u >= 0f ? Math.min(u, 1f) : 0f; // NaN -> 0
        }
        return out;
    }

    /** ||a - b|| / ||b||. */
    static double relativeL2(float[] a, float[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            num += d * d;
            den += (double) b[i] * b[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    private static BufferedImage toRgb(BufferedImage image) {
        if (image.getType() == BufferedImage.TYPE_INT_RGB) {
            return image;
        }
        BufferedImage rgb = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = rgb.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, rgb.getWidth(), rgb.getHeight());
            g.setComposite(AlphaComposite.SrcOver);
            g.drawImage(image, 0, 0, null);
        } finally {
            g.dispose();
        }
        return rgb;
    }

    private static BufferedImage resize(BufferedImage src, int w, int h) {
        BufferedImage cur = src;
        while (cur.getWidth() >= 2 * w || cur.getHeight() >= 2 * h) {
            int nw = cur.getWidth() >= 2 * w ? cur.getWidth() / 2 : cur.getWidth();
            int nh = cur.getHeight() >= 2 * h ? cur.getHeight() / 2 : cur.getHeight();
            cur = draw(cur, nw, nh, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        }
        if (cur.getWidth() == w && cur.getHeight() == h && cur != src) {
            return cur;
        }
        return draw(cur, w, h, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
    }

    private static BufferedImage draw(BufferedImage src, int w, int h, Object interpolation) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, interpolation);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(src, 0, 0, w, h, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    /**
     * Configures a {@link DdimInversion}: the pipeline is required; steps (50), fixed-point
     * iterations (5), image fit (stretch) and size (the model's) are optional.
     */
    public static final class Builder {
        private StableDiffusion pipeline;
        private int steps = 50;
        private int iterations = 5;
        private ImageFit fit = ImageFit.STRETCH;
        private int width;
        private int height;

        private Builder() {
        }

        /** The pipeline whose VAE, text encoder, UNet and scheduler config are used (required). */
        public Builder setPipeline(StableDiffusion pipeline) {
            this.pipeline = pipeline;
            return this;
        }

        /** DDIM steps (default 50, the reference). */
        public Builder optSteps(int steps) {
            if (steps < 1) {
                throw new IllegalArgumentException("steps must be >= 1, got " + steps);
            }
            this.steps = steps;
            return this;
        }

        /** Fixed-point iterations per step (default 5, the reference; 0 is plain DDIM inversion). */
        public Builder optFixedPointIterations(int iterations) {
            if (iterations < 0) {
                throw new IllegalArgumentException("fixed-point iterations must be >= 0, got " + iterations);
            }
            this.iterations = iterations;
            return this;
        }

        /** How images are fitted to the model size (default {@link ImageFit#STRETCH}). */
        public Builder optImageFit(ImageFit fit) {
            this.fit = Objects.requireNonNull(fit, "fit");
            return this;
        }

        /** The image size to work at (default: the UNet's sample size times the VAE scale). */
        public Builder optSize(int width, int height) {
            if (width < 0 || height < 0) {
                throw new IllegalArgumentException("size must be positive, got " + width + "x" + height);
            }
            this.width = width;
            this.height = height;
            return this;
        }

        /**
         * Builds the inversion.
         *
         * @throws IllegalStateException without a pipeline
         * @throws IllegalArgumentException for a size the model cannot take or a step count the scheduler refuses
         */
        public DdimInversion build() {
            if (pipeline == null) {
                throw new IllegalStateException("setPipeline(...) is required");
            }
            return new DdimInversion(this);
        }
    }
}
