package dev.steer.core.shapeworld;

import dev.steer.core.relation.PositionRule;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * ShapeBench: GenEval's "position" task over ShapeWorld objects. A fixed set of prompts of GenEval's
 * form ("a photo of a red circle left of a blue square"), balanced over the four relations, each
 * scored on generated images with the exact {@link ShapeDetector} and GenEval's position rule.
 */
public final class ShapeBench {
    private ShapeBench() {
    }

    /**
     * One benchmark prompt.
     *
     * @param prompt the text
     * @param subjectColor the subject's colour
     * @param subjectKind the subject's shape
     * @param relation the relation asked for
     * @param objectColor the object's colour
     * @param objectKind the object's shape
     */
    public record Prompt(String prompt, ShapeColor subjectColor, ShapeKind subjectKind, SpatialRelation relation,
            ShapeColor objectColor, ShapeKind objectKind) {

        /** The relation to steer, with the nouns as the prompt writes them. */
        public RelationTriplet triplet() {
            int objectOccurrence = subjectKind == objectKind ? 1 : 0;
            return new RelationTriplet(subjectKind.noun(), relation, objectKind.noun(), 0, objectOccurrence);
        }
    }

    /**
     * How one image scored.
     *
     * @param objectsPresent both named objects (colour and shape) were detected
     * @param positionCorrect objects present and the asked relation holds under GenEval's rule
     */
    public record Score(boolean objectsPresent, boolean positionCorrect) {
    }

    /** The fixed prompt set: {@code count} prompts from {@code seed}, relations in rotation, distinct colours. */
    public static List<Prompt> prompts(int count, long seed) {
        Random rng = new Random(seed);
        ShapeColor[] colors = ShapeColor.values();
        ShapeKind[] kinds = ShapeKind.values();
        SpatialRelation[] relations = SpatialRelation.values();
        List<Prompt> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ShapeColor sc = colors[rng.nextInt(colors.length)];
            ShapeColor oc;
            do {
                oc = colors[rng.nextInt(colors.length)];
            } while (oc == sc);
            ShapeKind sk = kinds[rng.nextInt(kinds.length)];
            ShapeKind ok = kinds[rng.nextInt(kinds.length)];
            SpatialRelation r = relations[i % relations.length];
            out.add(new Prompt(Captions.relationalPrompt(sc, sk, r, oc, ok), sc, sk, r, oc, ok));
        }
        return out;
    }

    /**
     * A prompt with three objects and two relations that share the middle object, e.g. "a photo of
     * a red circle left of a blue square and a green triangle above the square": {@code first}
     * relates the first object to the second, {@code second} the third to the second. The three
     * objects have distinct colours and distinct shapes, so each noun names one object.
     *
     * @param prompt the text
     * @param first the first relation, as a two-object prompt
     * @param second the second relation, as a two-object prompt
     */
    public record MultiPrompt(String prompt, Prompt first, Prompt second) {

        /** Both relations to steer: the shared object's noun is its first mention, then "the ..." (occurrence 1). */
        public List<RelationTriplet> triplets() {
            return List.of(new RelationTriplet(first.subjectKind().noun(), first.relation(), first.objectKind().noun(), 0, 0),
                    new RelationTriplet(second.subjectKind().noun(), second.relation(), second.objectKind().noun(), 0, 1));
        }
    }

    /**
     * How an image scored on a {@link MultiPrompt}.
     *
     * @param objectsPresent all three named objects (colour and shape) were detected
     * @param firstCorrect objects present and the first relation holds
     * @param secondCorrect objects present and the second relation holds
     */
    public record MultiScore(boolean objectsPresent, boolean firstCorrect, boolean secondCorrect) {
        /** Both relations hold. */
        public boolean bothCorrect() {
            return firstCorrect && secondCorrect;
        }
    }

    /**
     * {@code count} three-object prompts from {@code seed}: three distinct colours, the three shapes
     * in random order, each relation drawn uniformly.
     */
    public static List<MultiPrompt> multiRelationPrompts(int count, long seed) {
        Random rng = new Random(seed);
        ShapeColor[] colors = ShapeColor.values();
        SpatialRelation[] relations = SpatialRelation.values();
        List<MultiPrompt> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            List<ShapeColor> c = new ArrayList<>(List.of(colors));
            java.util.Collections.shuffle(c, rng);
            List<ShapeKind> k = new ArrayList<>(List.of(ShapeKind.values()));
            java.util.Collections.shuffle(k, rng);
            SpatialRelation r1 = relations[rng.nextInt(relations.length)];
            SpatialRelation r2 = relations[rng.nextInt(relations.length)];
            String first = Captions.relationalPrompt(c.get(0), k.get(0), r1, c.get(1), k.get(1));
            String text = first + " and a " + c.get(2).adjective() + " " + k.get(2).noun() + " " + Captions.genevalPhrase(r2)
                    + " the " + k.get(1).noun();
            out.add(new MultiPrompt(text, new Prompt(first, c.get(0), k.get(0), r1, c.get(1), k.get(1)),
                    new Prompt(text, c.get(2), k.get(2), r2, c.get(1), k.get(1))));
        }
        return out;
    }

    /** The standard multi-relation set: 50 prompts. */
    public static List<MultiPrompt> standardMultiRelationPrompts() {
        return multiRelationPrompts(50, 2027);
    }

    /** Scores an image for a three-object prompt: each relation by {@link #score(BufferedImage, Prompt, ShapeDetector)}. */
    public static MultiScore score(BufferedImage image, MultiPrompt p, ShapeDetector detector) {
        Score a = score(image, p.first(), detector);
        Score b = score(image, p.second(), detector);
        return new MultiScore(a.objectsPresent() && b.objectsPresent(), a.positionCorrect(), b.positionCorrect());
    }

    /** The standard set: 100 prompts. */
    public static List<Prompt> standardPrompts() {
        return prompts(100, 2026);
    }

    /** Scores an image for a prompt. */
    public static Score score(BufferedImage image, Prompt p, ShapeDetector detector) {
        Optional<ShapeDetector.Detection> s = detector.detect(image, p.subjectColor());
        Optional<ShapeDetector.Detection> o = detector.detect(image, p.objectColor());
        boolean present = s.isPresent() && o.isPresent() && s.get().kind() == p.subjectKind() && o.get().kind() == p.objectKind();
        if (!present) {
            return new Score(false, false);
        }
        double[] a = s.get().box();
        double[] b = o.get().box();
        boolean ok = PositionRule.satisfies(PositionRule.Box.ofCorners(a[0], a[1], a[2], a[3]),
                PositionRule.Box.ofCorners(b[0], b[1], b[2], b[3]), p.relation());
        return new Score(true, ok);
    }
}
