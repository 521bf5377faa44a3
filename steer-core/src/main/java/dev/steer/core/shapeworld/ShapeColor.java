package dev.steer.core.shapeworld;

import java.util.Locale;

/**
 * The colours of ShapeWorld: saturated and far apart in RGB, so that a pixel's colour names its
 * object without doubt even in a blurry sample.
 */
public enum ShapeColor {
    /** Pure-ish red. */
    RED(220, 30, 30),
    /** Green. */
    GREEN(30, 170, 40),
    /** Blue. */
    BLUE(30, 60, 220),
    /** Yellow. */
    YELLOW(235, 210, 20),
    /** Purple. */
    PURPLE(150, 40, 190);

    private final int r;
    private final int g;
    private final int b;

    ShapeColor(int r, int g, int b) {
        this.r = r;
        this.g = g;
        this.b = b;
    }

    /** The adjective used in captions ("red"). */
    public String adjective() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** 0xRRGGBB. */
    public int rgb() {
        return (r << 16) | (g << 8) | b;
    }

    /** Squared RGB distance of a pixel (0xRRGGBB) to this colour. */
    public int distanceSquared(int pixel) {
        int dr = ((pixel >> 16) & 0xff) - r;
        int dg = ((pixel >> 8) & 0xff) - g;
        int db = (pixel & 0xff) - b;
        return dr * dr + dg * dg + db * db;
    }
}
