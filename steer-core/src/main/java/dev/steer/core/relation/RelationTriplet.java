package dev.steer.core.relation;

import java.util.Objects;

/**
 * What a prompt asks for: the subject word(s), their relation to the object word(s). Words are as
 * written in the prompt ("teddy bear"); {@code subjectOccurrence}/{@code objectOccurrence} choose
 * among repeats of the same word (0 = first).
 *
 * @param subject the subject phrase, e.g. "dog"
 * @param relation the relation the subject should have to the object
 * @param object the object phrase, e.g. "teddy bear"
 * @param subjectOccurrence which occurrence of the subject phrase in the prompt
 * @param objectOccurrence which occurrence of the object phrase in the prompt
 */
public record RelationTriplet(String subject, SpatialRelation relation, String object, int subjectOccurrence,
        int objectOccurrence) {

    /** Validates the phrases. */
    public RelationTriplet {
        Objects.requireNonNull(relation, "relation");
        if (subject == null || subject.isBlank() || object == null || object.isBlank()) {
            throw new IllegalArgumentException("subject and object must be non-empty words");
        }
        if (subjectOccurrence < 0 || objectOccurrence < 0) {
            throw new IllegalArgumentException("occurrences are 0-based and non-negative");
        }
    }

    /** A triplet using the first occurrence of each word. */
    public static RelationTriplet of(String subject, SpatialRelation relation, String object) {
        return new RelationTriplet(subject, relation, object, 0, 0);
    }

    @Override
    public String toString() {
        return "(" + subject + ", " + relation.canonicalName() + ", " + object + ")";
    }
}
