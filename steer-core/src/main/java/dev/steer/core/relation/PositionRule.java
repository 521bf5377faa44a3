package dev.steer.core.relation;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * GenEval's "position" rule: the spatial relations of a subject box to an object box, factoring in
 * the boxes' sizes (GenEval's {@code relative_position} with {@code POSITION_THRESHOLD} 0.1).
 *
 * <p>With {@code offset = centre(A) - centre(B)} per axis and {@code size} the box's extent on that
 * axis: {@code revised = max(|offset| - 0.1 (size(A) + size(B)), 0) * sign(offset)}. When both
 * {@code |revised|} are under 1e-3 there is no relation. Otherwise {@code (dx, dy) = revised /
 * |offset|} (Euclidean norm of the unrevised offset): left of if {@code dx < -0.5}, right of if
 * {@code dx > 0.5}, above if {@code dy < -0.5}, below if {@code dy > 0.5}; image coordinates, y
 * grows downward. A diagonal placement can satisfy two relations (e.g. left of and above): GenEval
 * counts a prompt's relation as correct when it is among them; {@link #relation} calls such a pair
 * ambiguous.
 *
 * <p>Pure Java and stateless; used for benchmark scoring and to label training pairs from boxes.
 */
public final class PositionRule {
    /** GenEval's {@code POSITION_THRESHOLD}: the fraction of the summed box sizes an offset must exceed. */
    public static final double THRESHOLD = 0.1;
    /** Below this revised offset on both axes there is no relation. */
    public static final double NONE_EPSILON = 1e-3;
    /** A normalised revised offset must exceed this on an axis to give a relation. */
    public static final double DIRECTION_THRESHOLD = 0.5;

    private PositionRule() {
    }

    /**
     * An axis-aligned box in image pixels, corners {@code (x0, y0)} top-left and {@code (x1, y1)}
     * bottom-right (y grows downward).
     *
     * @param x0 left
     * @param y0 top
     * @param x1 right
     * @param y1 bottom
     */
    public record Box(double x0, double y0, double x1, double y1) {
        /** Checks the values are finite and the corners ordered ({@code x1 >= x0}, {@code y1 >= y0}). */
        public Box {
            if (!Double.isFinite(x0) || !Double.isFinite(y0) || !Double.isFinite(x1) || !Double.isFinite(y1)) {
                throw new IllegalArgumentException("box coordinates must be finite: [" + x0 + ", " + y0 + ", " + x1 + ", " + y1 + "]");
            }
            if (x1 < x0 || y1 < y0) {
                throw new IllegalArgumentException("box corners must be [x0, y0, x1, y1] with x1 >= x0 and y1 >= y0, got ["
                        + x0 + ", " + y0 + ", " + x1 + ", " + y1 + "]");
            }
        }

        /** A box from corners {@code [x0, y0, x1, y1]}. */
        public static Box ofCorners(double x0, double y0, double x1, double y1) {
            return new Box(x0, y0, x1, y1);
        }

        /** A box from COCO/GQA style {@code [x, y, width, height]}. */
        public static Box ofXywh(double x, double y, double width, double height) {
            return new Box(x, y, x + width, y + height);
        }

        /** Width ({@code x1 - x0}). */
        public double width() {
            return x1 - x0;
        }

        /** Height ({@code y1 - y0}). */
        public double height() {
            return y1 - y0;
        }

        /** Area. */
        public double area() {
            return width() * height();
        }

        /** Horizontal centre. */
        public double centerX() {
            return (x0 + x1) / 2;
        }

        /** Vertical centre. */
        public double centerY() {
            return (y0 + y1) / 2;
        }

        /** This box scaled by {@code sx} horizontally and {@code sy} vertically (image resized). */
        public Box scale(double sx, double sy) {
            return new Box(x0 * sx, y0 * sy, x1 * sx, y1 * sy);
        }

        /** True when the box lies within a {@code width x height} image, allowing {@code tolerance} pixels outside. */
        public boolean isInside(double imageWidth, double imageHeight, double tolerance) {
            return x0 >= -tolerance && y0 >= -tolerance && x1 <= imageWidth + tolerance && y1 <= imageHeight + tolerance;
        }

        @Override
        public String toString() {
            return "[" + x0 + ", " + y0 + ", " + x1 + ", " + y1 + "]";
        }
    }

    /**
     * Every relation of {@code subject} to {@code object} under the rule: empty when they are too close
     * to call, one relation, or two for a diagonal placement (one horizontal, one vertical). Iteration
     * order is {@link SpatialRelation}'s.
     */
    public static Set<SpatialRelation> relations(Box subject, Box object) {
        double ox = subject.centerX() - object.centerX();
        double oy = subject.centerY() - object.centerY();
        double rx = revised(ox, subject.width() + object.width());
        double ry = revised(oy, subject.height() + object.height());
        if (Math.abs(rx) < NONE_EPSILON && Math.abs(ry) < NONE_EPSILON) {
            return Collections.emptySet();
        }
        double norm = Math.hypot(ox, oy);
        double dx = rx / norm;
        double dy = ry / norm;
        EnumSet<SpatialRelation> out = EnumSet.noneOf(SpatialRelation.class);
        if (dx < -DIRECTION_THRESHOLD) {
            out.add(SpatialRelation.LEFT_OF);
        }
        if (dx > DIRECTION_THRESHOLD) {
            out.add(SpatialRelation.RIGHT_OF);
        }
        if (dy < -DIRECTION_THRESHOLD) {
            out.add(SpatialRelation.ABOVE);
        }
        if (dy > DIRECTION_THRESHOLD) {
            out.add(SpatialRelation.BELOW);
        }
        return Collections.unmodifiableSet(out);
    }

    private static double revised(double offset, double summedSize) {
        return Math.max(Math.abs(offset) - THRESHOLD * summedSize, 0) * Math.signum(offset);
    }

    /**
     * The single relation of {@code subject} to {@code object}, or empty when the rule gives none or
     * two (ambiguous); see {@link #classify} to tell those apart.
     */
    public static Optional<SpatialRelation> relation(Box subject, Box object) {
        Set<SpatialRelation> r = relations(subject, object);
        return r.size() == 1 ? Optional.of(r.iterator().next()) : Optional.empty();
    }

    /** What the rule says about a pair: no relation, exactly one, or an ambiguous pair. */
    public enum Verdict {
        /**
         * No relation: the centres are within the size margin on both axes, or the remaining offset
         * points in no clear direction (no normalised component beyond 0.5).
         */
        NONE,
        /** Exactly one relation. */
        SINGLE,
        /** Two relations at once (a diagonal placement). */
        AMBIGUOUS
    }

    /** Classifies a pair: {@link Verdict#NONE}, {@link Verdict#SINGLE} or {@link Verdict#AMBIGUOUS}. */
    public static Verdict classify(Box subject, Box object) {
        int n = relations(subject, object).size();
        return n == 0 ? Verdict.NONE : n == 1 ? Verdict.SINGLE : Verdict.AMBIGUOUS;
    }

    /**
     * GenEval's check of a generated image: true when {@code expected} is among the relations of the
     * subject box to the object box.
     */
    public static boolean satisfies(Box subject, Box object, SpatialRelation expected) {
        return relations(subject, object).contains(expected);
    }
}
