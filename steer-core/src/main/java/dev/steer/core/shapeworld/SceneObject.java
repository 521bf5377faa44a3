package dev.steer.core.shapeworld;

/**
 * One object of a scene and its exact box in pixels (x0, y0 inclusive; x1, y1 exclusive).
 *
 * @param color its colour
 * @param kind its shape
 * @param x0 left edge
 * @param y0 top edge
 * @param x1 right edge (exclusive)
 * @param y1 bottom edge (exclusive)
 */
public record SceneObject(ShapeColor color, ShapeKind kind, int x0, int y0, int x1, int y1) {

    /** "red circle". */
    public String phrase() {
        return color.adjective() + " " + kind.noun();
    }

    /** The box as {x0, y0, x1, y1}. */
    public double[] box() {
        return new double[] {x0, y0, x1, y1};
    }

    /** True when the two boxes intersect (touching edges do not count). */
    public boolean overlaps(SceneObject o) {
        return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1;
    }
}
