package dev.steer.spark;

import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code relations} column: relations written out instead of parsed from the prompt, as
 * {@code subject:relation:object} triplets separated by {@code ;}, e.g.
 * {@code square:above:circle} or {@code teddy bear:to the right of:dog; cup:on top of:book}. The relation is any
 * phrase {@link SpatialRelation#parse} understands; the words are looked up in the prompt when the
 * row is generated (a word the prompt lacks makes the row a bad row). When the subject and the object
 * are the same word the object is its second occurrence ("a circle left of a circle").
 */
public final class ExplicitRelations {
    /** The longest {@code relations} value read, in characters. */
    public static final int MAX_LENGTH = 2000;

    /** The most triplets one row may give. */
    public static final int MAX_TRIPLETS = 16;

    private ExplicitRelations() {
    }

    /**
     * Parses a {@code relations} value.
     *
     * @throws IllegalArgumentException naming what is wrong (too long, a triplet without three parts, an unknown relation)
     */
    public static List<RelationTriplet> parse(String text) {
        if (text.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("relations: longer than " + MAX_LENGTH + " characters");
        }
        List<RelationTriplet> out = new ArrayList<>();
        for (String part : text.split(";", -1)) {
            if (part.isBlank()) {
                continue;
            }
            if (out.size() == MAX_TRIPLETS) {
                throw new IllegalArgumentException("relations: more than " + MAX_TRIPLETS + " triplets");
            }
            String[] f = part.split(":", -1);
            if (f.length != 3 || f[0].isBlank() || f[1].isBlank() || f[2].isBlank()) {
                throw new IllegalArgumentException("relations: '" + part.strip() + "' is not subject:relation:object");
            }
            String subject = f[0].strip();
            String object = f[2].strip();
            SpatialRelation relation = SpatialRelation.parse(f[1]);
            out.add(new RelationTriplet(subject, relation, object, 0, subject.equalsIgnoreCase(object) ? 1 : 0));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("relations: no triplet in '" + text.strip() + "'");
        }
        return out;
    }
}
