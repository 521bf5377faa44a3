package dev.steer.core.shapeworld;

import java.util.Locale;

/** The shapes of ShapeWorld, by the noun captions use. */
public enum ShapeKind {
    /** A filled disc. */
    CIRCLE,
    /** A filled axis-aligned square. */
    SQUARE,
    /** A filled upward-pointing isosceles triangle. */
    TRIANGLE;

    /** The noun used in captions ("circle"). */
    public String noun() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Fraction of its bounding box the shape fills (what the detector uses to tell shapes apart). */
    public double fillRatio() {
        return switch (this) {
            case CIRCLE -> Math.PI / 4;
            case SQUARE -> 1.0;
            case TRIANGLE -> 0.5;
        };
    }
}
