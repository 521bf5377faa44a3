package dev.steer.core.steering;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradientSteererTest {
    private static final RelationTriplet A = RelationTriplet.of("dog", SpatialRelation.LEFT_OF, "cat");
    private static final RelationTriplet B = RelationTriplet.of("cup", SpatialRelation.ABOVE, "book");

    /** loss = sum(x^2), gradient 2x. */
    private static SteeringObjective quadratic(List<RelationTriplet> seen) {
        return (latent, triplet) -> {
            seen.add(triplet);
            float loss = 0;
            float[] g = new float[latent.length];
            for (int i = 0; i < latent.length; i++) {
                loss += latent[i] * latent[i];
                g[i] = 2 * latent[i];
            }
            return new SteeringObjective.Evaluation(loss, g, new float[] {1 - loss, loss});
        };
    }

    @Test
    void stopsAtTheStepsLossTargetWithPlainGradientSteps() {
        List<RelationTriplet> seen = new ArrayList<>();
        GradientSteerer s = new GradientSteerer(SteeringConfig.DEFAULTS.withStepSize(0.25f), List.of(A), null);
        float[] z = {1f};
        SteeringStepReport r = s.refine(quadratic(seen), 0, 50, z);
        // each step halves x and quarters the loss: 4^-9 is the first value <= 1e-5
        assertEquals(9, r.iterations());
        assertEquals(1f, r.lossBefore());
        assertTrue(r.lossAfter() <= 1e-5, "loss after " + r.lossAfter());
        assertEquals(1f / 512, z[0], 1e-9);
        assertEquals(10, seen.size(), "no extra evaluation once the target is reached");
        assertNull(r.abandoned());
    }

    @Test
    void laterStepsUseTheirOwnLooserTarget() {
        GradientSteerer s = new GradientSteerer(SteeringConfig.DEFAULTS.withStepSize(0.25f), List.of(A), null);
        float[] z = {1f};
        // 7e-5 applies from step 3 on: 4^-7 = 6.1e-5 is the first value below it
        assertEquals(7, s.refine(quadratic(new ArrayList<>()), 10, 50, z).iterations());
    }

    @Test
    void runsAtMostTheIterationBudgetThenEvaluatesOnceMore() {
        List<RelationTriplet> seen = new ArrayList<>();
        GradientSteerer s = new GradientSteerer(SteeringConfig.DEFAULTS.withStepSize(0.01f), List.of(A, B), null);
        float[] z = {1f, -1f};
        SteeringStepReport r = s.refine(quadratic(seen), 0, 50, z);
        assertEquals(15, r.iterations());
        assertEquals(16, seen.size());
        assertEquals(List.of(A, B, A, B), seen.subList(0, 4), "one triplet per iteration, cycling");
        assertEquals(2f, r.lossBefore());
        assertEquals((float) (2 * Math.pow(0.98, 30)), r.lossAfter(), 1e-5);
    }

    @Test
    void nonFiniteLossUndoesTheLastUpdateAndStopsTheStep() {
        int[] calls = {0};
        SteeringObjective exploding = (latent, t) -> {
            calls[0]++;
            float loss = calls[0] == 3 ? Float.NaN : 1f;
            return new SteeringObjective.Evaluation(loss, new float[] {1f}, new float[] {0.5f, 0.5f});
        };
        List<SteeringStepReport> reports = new ArrayList<>();
        GradientSteerer s = new GradientSteerer(SteeringConfig.DEFAULTS.withStepSize(1f), List.of(A), reports::add);
        float[] z = {10f};
        SteeringStepReport r = s.refine(exploding, 0, 50, z);
        assertArrayEquals(new float[] {9f}, z, "the update that produced NaN is undone, the earlier one kept");
        assertNotNull(r.abandoned());
        assertTrue(r.abandoned().contains("non-finite loss"), r.abandoned());
        assertEquals(List.of(r), reports);
    }

    @Test
    void nonFiniteGradientAtFirstEvaluationLeavesLatentUntouched() {
        SteeringObjective bad = (latent, t) -> new SteeringObjective.Evaluation(1f, new float[] {Float.POSITIVE_INFINITY}, new float[0]);
        float[] z = {3f};
        SteeringStepReport r = new GradientSteerer(SteeringConfig.DEFAULTS, List.of(A), null).refine(bad, 0, 50, z);
        assertArrayEquals(new float[] {3f}, z);
        assertTrue(r.abandoned().contains("non-finite gradient"), r.abandoned());
        assertEquals(0, r.iterations());
    }

    @Test
    void anUpdateThatOverflowsTheLatentIsUndoneWithoutTheFinalEvaluation() {
        // finite loss and gradient, but alpha * gradient overflows float: z - 1e30 * 1e10 = -inf
        List<RelationTriplet> seen = new ArrayList<>();
        SteeringObjective steep = (latent, t) -> {
            seen.add(t);
            return new SteeringObjective.Evaluation(1f, new float[] {1e10f, 0f}, new float[] {0.5f, 0.5f});
        };
        SteeringConfig config = SteeringConfig.DEFAULTS.withStepSize(1e30f).withMaxIterations(1).withFinalEvaluation(false);
        float[] z = {2f, 3f};
        SteeringStepReport r = new GradientSteerer(config, List.of(A), null).refine(steep, 0, 50, z);
        assertArrayEquals(new float[] {2f, 3f}, z, "the overflowing update is undone: the latent stays finite");
        assertNotNull(r.abandoned());
        assertTrue(r.abandoned().contains("non-finite") && r.abandoned().contains("undone"), r.abandoned());
        assertEquals(0, r.iterations(), "the undone update is not counted");
        assertEquals(1, seen.size());
        // with the final evaluation on, the same holds (the final evaluation never sees the overflow)
        float[] z2 = {2f, 3f};
        SteeringStepReport r2 = new GradientSteerer(config.withFinalEvaluation(true), List.of(A), null).refine(steep, 0, 50, z2);
        assertArrayEquals(new float[] {2f, 3f}, z2);
        assertNotNull(r2.abandoned());
    }

    @Test
    void steersTheFirstHalfOfAnySchedule() {
        GradientSteerer s = new GradientSteerer(SteeringConfig.DEFAULTS, List.of(A), null);
        assertTrue(s.isSteered(0, 50));
        assertTrue(s.isSteered(24, 50));
        assertTrue(!s.isSteered(25, 50));
        assertTrue(s.isSteered(9, 20));
        assertTrue(!s.isSteered(10, 20));
    }

    /** Classes [left, above]; p(left) = 1 - sigmoid(x0) rises as x0 falls; gradient of -log p(left). */
    private static SteeringObjective leftness(List<RelationTriplet> seen) {
        return (latent, triplet) -> {
            seen.add(triplet);
            double other = 1 / (1 + Math.exp(-latent[0]));
            float loss = (float) -Math.log(1 - other);
            return new SteeringObjective.Evaluation(loss, new float[] {(float) other}, new float[] {(float) (1 - other), (float) other});
        };
    }

    private static final List<String> CLASSES = List.of(SpatialRelation.LEFT_OF.canonicalName(), SpatialRelation.ABOVE.canonicalName());

    @Test
    void aMarginOverTheRunnerUpEndsTheStepLongBeforeTheLossTarget() {
        List<RelationTriplet> seen = new ArrayList<>();
        SteeringConfig config = SteeringConfig.DEFAULTS.withStepSize(1f).withMargin(0.5).withFinalEvaluation(false);
        float[] z = {2f};
        SteeringStepReport r = new GradientSteerer(config, List.of(A), null, CLASSES).refine(leftness(seen), 0, 50, z);
        // p(left) - p(above) >= 0.5 needs sigmoid(x0) <= 0.25, x0 <= -1.0986
        float p = r.probabilities()[0];
        assertTrue(p - r.probabilities()[1] >= 0.5f, "stopped with a margin: " + r);
        assertTrue(r.iterations() < 15 && seen.size() == r.iterations() + 1, "stopped early, one evaluation per update plus the check: " + r);
        SteeringStepReport plain = new GradientSteerer(config.withMargin(0), List.of(A), null, CLASSES).refine(leftness(new ArrayList<>()),
                0, 50, new float[] {2f});
        assertEquals(15, plain.iterations(), "without the margin only the 1e-5 loss target stops the step");
    }

    @Test
    void aMarginNeedsTheClassNamesOtherwiseOnlyLossTargetsStop() {
        SteeringConfig config = SteeringConfig.DEFAULTS.withStepSize(1f).withMargin(0.5).withFinalEvaluation(false);
        SteeringStepReport r = new GradientSteerer(config, List.of(A), null).refine(leftness(new ArrayList<>()), 0, 50, new float[] {2f});
        assertEquals(15, r.iterations());
    }

    @Test
    void normalisedStepsMoveTheLatentByTheStepSizeInRootMeanSquare() {
        SteeringConfig config = SteeringConfig.DEFAULTS.withStepSize(0.1f).withMaxIterations(1).withFinalEvaluation(false)
                .withNormalizedSteps(true);
        SteeringObjective fixed = (latent, t) -> new SteeringObjective.Evaluation(1f, new float[] {30f, -40f}, new float[] {0.5f, 0.5f});
        float[] z = {0f, 0f};
        new GradientSteerer(config, List.of(A), null).refine(fixed, 0, 50, z);
        // rms of (30, -40) is sqrt(1250) = 35.36: the step is 0.1 * g / 35.36
        assertArrayEquals(new float[] {-0.0848528f, 0.1131371f}, z, 1e-6f);
    }

    @Test
    void backtrackingTakesBackAnUpdateThatRaisedTheLossAndRetriesAtHalfTheStep() {
        // loss = x^2 with step 1.5 overshoots: 1 -> -2 (loss 4); backtracking returns to 1 and steps 0.75 * 2 = 1.5 -> -0.5
        List<RelationTriplet> seen = new ArrayList<>();
        SteeringConfig config = SteeringConfig.DEFAULTS.withStepSize(1.5f).withMaxIterations(3).withFinalEvaluation(false)
                .withBacktracking(true);
        float[] z = {1f};
        SteeringStepReport r = new GradientSteerer(config, List.of(A), null).refine(quadratic(seen), 0, 50, z);
        assertEquals(3, seen.size(), "the retry reuses the stored gradient: no extra evaluation");
        // it0: x=1 -> -2; it1: loss 4 > 1: back to 1, half step -> -0.5; it2: loss 0.25 < 1 -> -0.5 - 0.75 * -1 = 0.25
        assertArrayEquals(new float[] {0.25f}, z, 1e-6f);
        assertEquals(2, r.iterations(), "two updates kept");
        float[] plain = {1f};
        new GradientSteerer(config.withBacktracking(false), List.of(A), null).refine(quadratic(new ArrayList<>()), 0, 50, plain);
        assertArrayEquals(new float[] {-8f}, plain, 1e-6f, "without backtracking the overshoot grows: 1 -> -2 -> 4 -> -8");
    }

    @Test
    void withSeveralRelationsASatisfiedOneIsLeftAloneAndTheStepEndsWhenAllAre() {
        // A is satisfied from the start (margin), B needs updates: only B's evaluations move the latent
        List<RelationTriplet> seen = new ArrayList<>();
        SteeringObjective objective = (latent, t) -> {
            seen.add(t);
            double other = t.equals(A) ? 0.01 : 1 / (1 + Math.exp(-latent[0]));
            float loss = (float) -Math.log(1 - other);
            float gradient = t.equals(A) ? 100f : (float) other;
            return new SteeringObjective.Evaluation(loss, new float[] {gradient}, new float[] {(float) (1 - other), (float) other});
        };
        List<String> classes = List.of(SpatialRelation.LEFT_OF.canonicalName(), SpatialRelation.ABOVE.canonicalName());
        RelationTriplet bLeft = RelationTriplet.of("cup", SpatialRelation.LEFT_OF, "book");
        List<RelationTriplet> both = List.of(A, bLeft);
        SteeringConfig config = SteeringConfig.DEFAULTS.withStepSize(2f).withMargin(0.5).withFinalEvaluation(false);
        float[] z = {2f};
        SteeringStepReport r = new GradientSteerer(config, both, null, classes).refine(objective, 0, 50, z);
        assertTrue(z[0] > -50f, "A's steep gradient was never applied: " + z[0]);
        assertTrue(z[0] < -1.0986f, "B was steered to its margin: " + z[0]);
        // A, B(update), A, B(update), A, B(update), A, B: both satisfied by the latent after the last update
        assertEquals(3, r.iterations(), r.toString());
        assertEquals(8, seen.size(), "the step ends once both relations hold on the same latent: " + seen);
    }

    @Test
    void anObjectiveWhoseGradientCostsMoreIsAskedForItOnlyBeforeAnUpdateWithTheSameResult() {
        SteeringConfig config = SteeringConfig.DEFAULTS.withStepSize(1f).withMargin(0.5).withFinalEvaluation(false);
        int[] gradients = {0};
        int[] losses = {0};
        SteeringObjective plain = leftness(new ArrayList<>());
        SteeringObjective lossFirst = new SteeringObjective() {
            @Override
            public Evaluation evaluate(float[] latent, RelationTriplet triplet) {
                gradients[0]++;
                return plain.evaluate(latent, triplet);
            }

            @Override
            public Evaluation lossOnly(float[] latent, RelationTriplet triplet) {
                losses[0]++;
                Evaluation e = plain.evaluate(latent, triplet);
                return new Evaluation(e.loss(), new float[latent.length], e.probabilities());
            }

            @Override
            public boolean readsLossBeforeGradient() {
                return true;
            }
        };
        float[] expected = {2f};
        SteeringStepReport a = new GradientSteerer(config, List.of(A), null, CLASSES).refine(plain, 0, 50, expected);
        float[] z = {2f};
        SteeringStepReport b = new GradientSteerer(config, List.of(A), null, CLASSES).refine(lossFirst, 0, 50, z);
        assertEquals(expected[0], z[0], "the same updates");
        assertEquals(a.iterations(), b.iterations());
        assertEquals(a.lossAfter(), b.lossAfter());
        assertTrue(b.iterations() > 0);
        assertEquals(b.iterations(), gradients[0], "a gradient per update, none for the check that ended the step: " + b);
        assertEquals(b.iterations() + 1, losses[0]);
        // a step whose relation already holds asks for no gradient at all
        gradients[0] = 0;
        new GradientSteerer(config, List.of(A), null, CLASSES).refine(lossFirst, 0, 50, new float[] {-3f});
        assertEquals(0, gradients[0]);
    }

    @Test
    void classifierTimestepIndexIsNearestTrainedIndexAtOrAbove() {
        assertEquals(5, ClassifierTimesteps.indexFor(0, 50));
        assertEquals(5, ClassifierTimesteps.indexFor(5, 50));
        assertEquals(10, ClassifierTimesteps.indexFor(6, 50));
        assertEquals(25, ClassifierTimesteps.indexFor(25, 50));
        assertEquals(49, ClassifierTimesteps.indexFor(26, 50));
        assertEquals(10, ClassifierTimesteps.indexFor(3, 25), "step 3 of 25 is step 6 of 50");
    }
}
