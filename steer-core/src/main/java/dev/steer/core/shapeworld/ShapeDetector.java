package dev.steer.core.shapeworld;

import java.awt.image.BufferedImage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The exact detector of ShapeBench: for a named colour, the largest 4-connected component of
 * pixels within a colour tolerance, its box, and its shape told from how much of the box it fills
 * (circle about 0.79, square 1, triangle 0.5). Samples are never pixel-exact, hence the tolerance
 * and the minimum area.
 *
 * @param tolerance largest RGB distance of a pixel to the colour
 * @param minArea smallest component that counts as an object, in pixels
 */
public record ShapeDetector(double tolerance, int minArea) {

    /** Defaults for 32x32 ShapeWorld samples. */
    public static final ShapeDetector DEFAULT = new ShapeDetector(90, 12);

    /**
     * A detection.
     *
     * @param color the colour looked for
     * @param kind the shape the component's fill ratio is closest to
     * @param box {x0, y0, x1, y1}, x1/y1 exclusive
     * @param area pixels in the component
     */
    public record Detection(ShapeColor color, ShapeKind kind, double[] box, int area) {
    }

    /** The largest component of {@code color}, if any reaches {@link #minArea}. */
    public Optional<Detection> detect(BufferedImage image, ShapeColor color) {
        int w = image.getWidth();
        int h = image.getHeight();
        boolean[] match = new boolean[w * h];
        int tol2 = (int) (tolerance * tolerance);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                ShapeColor nearest = nearest(image.getRGB(x, y) & 0xffffff);
                match[y * w + x] = nearest == color && color.distanceSquared(image.getRGB(x, y) & 0xffffff) <= tol2;
            }
        }
        boolean[] seen = new boolean[w * h];
        Detection best = null;
        ArrayDeque<Integer> queue = new ArrayDeque<>();
        for (int start = 0; start < w * h; start++) {
            if (!match[start] || seen[start]) {
                continue;
            }
            int area = 0;
            int x0 = w;
            int y0 = h;
            int x1 = -1;
            int y1 = -1;
            queue.add(start);
            seen[start] = true;
            while (!queue.isEmpty()) {
                int p = queue.poll();
                int x = p % w;
                int y = p / w;
                area++;
                x0 = Math.min(x0, x);
                y0 = Math.min(y0, y);
                x1 = Math.max(x1, x);
                y1 = Math.max(y1, y);
                int[] next = {x > 0 ? p - 1 : -1, x < w - 1 ? p + 1 : -1, y > 0 ? p - w : -1, y < h - 1 ? p + w : -1};
                for (int q : next) {
                    if (q >= 0 && match[q] && !seen[q]) {
                        seen[q] = true;
                        queue.add(q);
                    }
                }
            }
            if (area >= minArea && (best == null || area > best.area())) {
                double fill = (double) area / ((x1 - x0 + 1) * (y1 - y0 + 1));
                best = new Detection(color, closest(fill), new double[] {x0, y0, x1 + 1, y1 + 1}, area);
            }
        }
        return Optional.ofNullable(best);
    }

    /** Every colour's detection. */
    public List<Detection> detectAll(BufferedImage image) {
        List<Detection> out = new ArrayList<>();
        for (ShapeColor c : ShapeColor.values()) {
            detect(image, c).ifPresent(out::add);
        }
        return out;
    }

    private static ShapeColor nearest(int pixel) {
        ShapeColor best = null;
        int bestD = Integer.MAX_VALUE;
        for (ShapeColor c : ShapeColor.values()) {
            int d = c.distanceSquared(pixel);
            if (d < bestD) {
                bestD = d;
                best = c;
            }
        }
        return best;
    }

    private static ShapeKind closest(double fill) {
        ShapeKind best = null;
        double bestD = Double.MAX_VALUE;
        for (ShapeKind k : ShapeKind.values()) {
            double d = Math.abs(k.fillRatio() - fill);
            if (d < bestD) {
                bestD = d;
                best = k;
            }
        }
        return best;
    }
}
