package dev.steer.core.steering;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.testing.Conformance;
import dev.steer.core.relation.CentroidRelationBaseline;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.tokenizer.ClipTokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SteeringRunTest {
    private static final List<String> CLASSES = List.of("above", "below", "to the left of", "to the right of");
    private static final String PROMPT = "a photo of a red circle left of a blue square";

    private static SteeringObjective lossOnly(float[] losses, float[] leftProbability, float[] overlaps, List<Integer> seen) {
        return new SteeringObjective() {
            @Override
            public Evaluation evaluate(float[] latent, RelationTriplet triplet) {
                throw new AssertionError("candidates are compared without gradients");
            }

            @Override
            public Evaluation lossOnly(float[] latent, RelationTriplet triplet) {
                int c = (int) latent[0];
                seen.add(c);
                float p = leftProbability[c];
                return new Evaluation(losses[c], new float[0], new float[] {(1 - p) / 3, (1 - p) / 3, p, (1 - p) / 3}, overlaps[c]);
            }
        };
    }

    private static SteeringRun run(SteeringConfig config) {
        return new SteeringRun(SteeringRequest.fromPrompt().withConfig(config),
                ClipTokenizer.fromFolder(Conformance.dir("clip-tokenizer")).tokenize(PROMPT),
                new CentroidRelationBaseline(CLASSES, 4));
    }

    private static List<float[]> candidates(int n) {
        List<float[]> out = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            out.add(new float[] {c});
        }
        return out;
    }

    // candidate:               0     1     2     3
    private static final float[] LOSS = {0.9f, 0.05f, 0.2f, 0.3f};
    private static final float[] P_LEFT = {0.4f, 0.95f, 0.82f, 0.75f};
    private static final float[] OVERLAP = {0.1f, 0.6f, 0.2f, 0.05f};

    @Test
    void aStepThatAlreadyHoldsCostsTheObjectiveNoGradientWhenItReadsTheLossFirst() {
        SteeringObjective base = lossOnly(LOSS, P_LEFT, OVERLAP, new ArrayList<>());
        SteeringObjective lossFirst = new SteeringObjective() {
            @Override
            public Evaluation evaluate(float[] latent, RelationTriplet triplet) {
                return base.evaluate(latent, triplet); // throws: no gradient may be asked for
            }

            @Override
            public Evaluation lossOnly(float[] latent, RelationTriplet triplet) {
                return base.lossOnly(latent, triplet);
            }

            @Override
            public boolean readsLossBeforeGradient() {
                return true;
            }
        };
        SteeringRun run = run(SteeringConfig.REFERENCE.withMargin(0.5).withFinalEvaluation(false));
        SteeringStepReport report = run.refine(lossFirst, 0, 20, new float[] {1}, () -> { });
        assertEquals(0, report.iterations());
        assertEquals(1, run.evaluations());
    }

    @Test
    void theCandidateWithTheLowestLossWinsAndEveryCandidateCostsOnePass() {
        List<Integer> seen = new ArrayList<>();
        SteeringRun run = run(SteeringConfig.REFERENCE.withMargin(0.5).withNoiseCandidates(4));
        assertEquals(1, run.chooseInitialNoise(lossOnly(LOSS, P_LEFT, OVERLAP, seen), candidates(4), () -> { }));
        assertEquals(List.of(0, 1, 2, 3), seen);
        assertEquals(4, run.modelCalls());
        assertTrue(run.metadata().get("steering_noise").startsWith("candidate 1 of 4"), run.metadata().toString());
    }

    @Test
    void preferringSeparateWordsTakesTheLeastOverlapAmongCandidatesThatAlreadyHold() {
        // margin 0.5: candidates 1 (0.95 - 0.017), 2 (0.82 - 0.06) and 3 (0.75 - 0.083) hold, 0 does not; 3 overlaps least
        SteeringRun run = run(SteeringConfig.REFERENCE.withMargin(0.5).withNoiseCandidates(4).withSeparateWords(true));
        assertEquals(3, run.chooseInitialNoise(lossOnly(LOSS, P_LEFT, OVERLAP, new ArrayList<>()), candidates(4), () -> { }));
        // a stricter margin leaves 1 and 2: 2 overlaps less
        SteeringRun strict = run(SteeringConfig.REFERENCE.withMargin(0.7).withNoiseCandidates(4).withSeparateWords(true));
        assertEquals(2, strict.chooseInitialNoise(lossOnly(LOSS, P_LEFT, OVERLAP, new ArrayList<>()), candidates(4), () -> { }));
        // when none holds, the lowest loss decides
        SteeringRun none = run(SteeringConfig.REFERENCE.withMargin(0.99).withNoiseCandidates(4).withSeparateWords(true));
        assertEquals(1, none.chooseInitialNoise(lossOnly(LOSS, P_LEFT, OVERLAP, new ArrayList<>()), candidates(4), () -> { }));
    }
}
