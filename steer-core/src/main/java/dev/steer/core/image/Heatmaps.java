package dev.steer.core.image;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Pictures of attention: a small map (e.g. a word's 16x16 cross-attention) drawn as a heatmap over
 * an image, and labelled grids of such pictures, for inspecting what steering does.
 */
public final class Heatmaps {
    private Heatmaps() {
    }

    /**
     * Blends a heatmap of {@code map} (row-major, {@code side} x {@code side}, any scale: normalised
     * to its own min..max) over {@code image}, bilinearly upsampled to the image's size.
     */
    public static BufferedImage overlay(BufferedImage image, float[] map, int side, float alpha) {
        if (map.length != side * side) {
            throw new IllegalArgumentException("map has " + map.length + " values, not " + side + "x" + side);
        }
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : map) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        float range = max - min > 1e-12f ? max - min : 1f;
        int w = image.getWidth();
        int h = image.getHeight();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                // align_corners=false sampling of the map at this pixel's centre
                float fy = Math.max(0f, Math.min(side - 1f, (y + 0.5f) * side / h - 0.5f));
                float fx = Math.max(0f, Math.min(side - 1f, (x + 0.5f) * side / w - 0.5f));
                int y0 = (int) fy;
                int x0 = (int) fx;
                int y1 = Math.min(y0 + 1, side - 1);
                int x1 = Math.min(x0 + 1, side - 1);
                float dy = fy - y0;
                float dx = fx - x0;
                float v = (1 - dy) * ((1 - dx) * map[y0 * side + x0] + dx * map[y0 * side + x1])
                        + dy * ((1 - dx) * map[y1 * side + x0] + dx * map[y1 * side + x1]);
                int heat = colormap((v - min) / range);
                int base = image.getRGB(x, y);
                out.setRGB(x, y, blend(base, heat, alpha));
            }
        }
        return out;
    }

    /** A blue-cyan-yellow-red colour for t in [0, 1]. */
    static int colormap(float t) {
        float c = Math.max(0f, Math.min(1f, t));
        float r = Math.max(0f, Math.min(1f, 1.5f - Math.abs(4f * c - 3f)));
        float g = Math.max(0f, Math.min(1f, 1.5f - Math.abs(4f * c - 2f)));
        float b = Math.max(0f, Math.min(1f, 1.5f - Math.abs(4f * c - 1f)));
        return (Math.round(r * 255) << 16) | (Math.round(g * 255) << 8) | Math.round(b * 255);
    }

    private static int blend(int base, int over, float alpha) {
        int r = Math.round(((base >> 16) & 0xff) * (1 - alpha) + ((over >> 16) & 0xff) * alpha);
        int g = Math.round(((base >> 8) & 0xff) * (1 - alpha) + ((over >> 8) & 0xff) * alpha);
        int b = Math.round((base & 0xff) * (1 - alpha) + (over & 0xff) * alpha);
        return (r << 16) | (g << 8) | b;
    }

    /**
     * Lays out rows of equally sized tiles with a label above each row, scaling tiles to
     * {@code tileSize} pixels (nearest neighbour, so small model outputs stay crisp).
     */
    public static BufferedImage grid(List<String> rowLabels, List<List<BufferedImage>> rows, int tileSize) {
        int cols = rows.stream().mapToInt(List::size).max().orElse(0);
        int label = 16;
        int pad = 4;
        int width = cols * (tileSize + pad) + pad;
        int height = rows.size() * (tileSize + label + pad) + pad;
        BufferedImage out = new BufferedImage(Math.max(width, 1), Math.max(height, 1), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, out.getWidth(), out.getHeight());
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            int y = pad;
            for (int r = 0; r < rows.size(); r++) {
                g.setColor(Color.BLACK);
                g.drawString(r < rowLabels.size() ? rowLabels.get(r) : "", pad, y + 12);
                y += label;
                int x = pad;
                for (BufferedImage tile : rows.get(r)) {
                    g.drawImage(tile, x, y, tileSize, tileSize, null);
                    x += tileSize + pad;
                }
                y += tileSize + pad;
            }
        } finally {
            g.dispose();
        }
        return out;
    }
}
