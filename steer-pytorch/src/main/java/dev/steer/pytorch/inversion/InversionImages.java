package dev.steer.pytorch.inversion;

import java.awt.AlphaComposite;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.Objects;

/**
 * The image side that every {@link ImageInversion} shares: fitting an image to the model size,
 * pixels to and from [-1, 1] CHW, PSNR and the relative L2 error of latents.
 */
public final class InversionImages {
    private InversionImages() {
    }

    /**
     * Fits an image to {@code width x height} as an RGB image: {@link ImageFit#STRETCH} resizes the
     * whole image (aspect ratio not kept, nothing cut off: left/right/above/below survive an
     * axis-aligned stretch); {@link ImageFit#CENTER_CROP} scales it to cover the size and cuts out the
     * centre. Downscaling halves the image with bilinear filtering until within a factor of two, then
     * finishes with bicubic filtering; transparent pixels are composited over white.
     */
    public static BufferedImage prepare(BufferedImage image, ImageFit fit, int width, int height) {
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

    /** [-1, 1] values to [0, 1], clamped (NaN to 0). */
    static float[] toUnit(float[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            float u = v[i] / 2f + 0.5f;
            out[i] = u >= 0f ? Math.min(u, 1f) : 0f; // NaN -> 0
        }
        return out;
    }

    /** ||a - b|| / ||b||. */
    public static double relativeL2(float[] a, float[] b) {
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
     * The reconstruction of {@code inverted} from its re-denoised {@code latent} and that latent's
     * decoded {@code pixels} ([3, H, W] in about [-1, 1]): PSNR against the inverted image (NaN when a
     * bare latent was inverted) and the latent error against the clean latent.
     */
    static Reconstruction reconstruction(Inverted inverted, float[] latent, float[] pixels, int height, int width) {
        BufferedImage image = dev.steer.core.image.PngImages.fromChw(pixels, height, width);
        double psnr = inverted.image() == null ? Double.NaN : psnr(toUnit(pixels), toUnit(toChw(inverted.image())));
        return new Reconstruction(latent, image, psnr, relativeL2(latent, inverted.cleanLatent()));
    }
}
