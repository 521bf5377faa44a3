package dev.steer.core.relation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.relation.PositionRule.Box;
import dev.steer.core.relation.PositionRule.Verdict;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PositionRuleTest {
    private static Box box(double x0, double y0, double x1, double y1) {
        return Box.ofCorners(x0, y0, x1, y1);
    }

    @Test
    void eachDirectionOnItsAxis() {
        Box a = box(0, 0, 10, 10);
        Box farRight = box(50, 0, 60, 10);
        Box farBelow = box(0, 50, 10, 60);
        assertEquals(Set.of(SpatialRelation.LEFT_OF), PositionRule.relations(a, farRight));
        assertEquals(Set.of(SpatialRelation.RIGHT_OF), PositionRule.relations(farRight, a));
        assertEquals(Set.of(SpatialRelation.ABOVE), PositionRule.relations(a, farBelow), "y grows downward");
        assertEquals(Set.of(SpatialRelation.BELOW), PositionRule.relations(farBelow, a));
        assertEquals(Optional.of(SpatialRelation.LEFT_OF), PositionRule.relation(a, farRight));
        assertEquals(Verdict.SINGLE, PositionRule.classify(a, farRight));
        assertTrue(PositionRule.satisfies(a, farRight, SpatialRelation.LEFT_OF));
        assertFalse(PositionRule.satisfies(a, farRight, SpatialRelation.RIGHT_OF));
    }

    @Test
    void identicalBoxesHaveNoRelation() {
        Box a = box(10, 10, 40, 40);
        assertEquals(Set.of(), PositionRule.relations(a, a));
        assertEquals(Verdict.NONE, PositionRule.classify(a, a));
        assertEquals(Optional.empty(), PositionRule.relation(a, a));
    }

    @Test
    void offsetWithinTheSizeMarginIsNoRelation() {
        // offset 5 px, margin 0.1 * (100 + 100) = 20 px: the revised offset is 0 on both axes
        assertEquals(Set.of(), PositionRule.relations(box(0, 0, 100, 100), box(5, 0, 105, 100)));
        // offset 21 px: revised 1 px, but 1 / 21 is no clear direction
        assertEquals(Set.of(), PositionRule.relations(box(21, 0, 121, 100), box(0, 0, 100, 100)));
        // offset 41 px: revised 21 px, 21 / 41 = 0.512 -> right of
        assertEquals(Set.of(SpatialRelation.RIGHT_OF), PositionRule.relations(box(41, 0, 141, 100), box(0, 0, 100, 100)));
    }

    @Test
    void weakDirectionAfterRevisionIsNoRelation() {
        // offset (-30, -30), margins 20: revised (-10, -10), / |offset| 42.4 = (-0.236, -0.236): under 0.5 on both axes
        Box a = box(0, 0, 100, 100);
        Box b = box(30, 30, 130, 130);
        assertEquals(Set.of(), PositionRule.relations(a, b));
        assertEquals(Verdict.NONE, PositionRule.classify(a, b));
    }

    @Test
    void diagonalPlacementGivesTwoRelationsAndIsAmbiguous() {
        // offset (-50, -50), revised (-48, -48), normalised -0.679 on both axes
        Box a = box(0, 0, 10, 10);
        Box b = box(50, 50, 60, 60);
        assertEquals(EnumSet.of(SpatialRelation.LEFT_OF, SpatialRelation.ABOVE), PositionRule.relations(a, b));
        assertEquals(Verdict.AMBIGUOUS, PositionRule.classify(a, b));
        assertEquals(Optional.empty(), PositionRule.relation(a, b));
        assertTrue(PositionRule.satisfies(a, b, SpatialRelation.ABOVE), "GenEval accepts either relation of the set");
        assertTrue(PositionRule.satisfies(a, b, SpatialRelation.LEFT_OF));
    }

    @Test
    void mostlyHorizontalOffsetKeepsOnlyTheDominantAxis() {
        // offset (-20, -30), revised (-18, -28), / 36.06 = (-0.499, -0.776): above only
        assertEquals(Set.of(SpatialRelation.ABOVE), PositionRule.relations(box(0, 0, 10, 10), box(20, 30, 30, 40)));
    }

    @Test
    void exactlyHalfIsNotEnough() {
        // subject width 10, object width 40: margin 5; offset -10 -> revised -5 -> dx = -0.5 exactly, strict inequality
        Box a = box(0, 0, 10, 10);
        Box b = box(-5, 0, 35, 10);
        assertEquals(Set.of(), PositionRule.relations(a, b));
        // one pixel more and it is left of
        assertEquals(Set.of(SpatialRelation.LEFT_OF), PositionRule.relations(box(-1, 0, 9, 10), b));
    }

    @Test
    void revisedOffsetUnderEpsilonIsNoneEvenWhenItsDirectionIsClear() {
        // point boxes: no margin, so the normalised direction is (1, 0); only the 1e-3 floor decides
        Box origin = box(0, 0, 0, 0);
        assertEquals(Set.of(), PositionRule.relations(box(0.0009, 0, 0.0009, 0), origin));
        assertEquals(Set.of(SpatialRelation.RIGHT_OF), PositionRule.relations(box(0.0011, 0, 0.0011, 0), origin));
    }

    @Test
    void boxesFromXywhAndChecks() {
        Box b = Box.ofXywh(10, 20, 30, 40);
        assertEquals(box(10, 20, 40, 60), b);
        assertEquals(30, b.width());
        assertEquals(40, b.height());
        assertEquals(25, b.centerX());
        assertEquals(40, b.centerY());
        assertTrue(b.isInside(40, 60, 0));
        assertFalse(b.isInside(39, 60, 0));
        assertTrue(b.isInside(39, 60, 1));
        assertEquals(box(5, 40, 20, 120), b.scale(0.5, 2));
        assertThrows(IllegalArgumentException.class, () -> box(10, 0, 5, 10));
        assertThrows(IllegalArgumentException.class, () -> box(0, 0, Double.NaN, 10));
    }
}
