package dev.steer.core.dataset;

import dev.steer.core.relation.PositionRule;
import dev.steer.core.relation.SpatialRelation;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One validated input record for a relation dataset: an image, a subject word, an object word and
 * the relation that is true in the image (stated by the source, or derived from boxes by
 * {@link PositionRule}).
 *
 * @param source where the record came from, for reports (e.g. "pairs.jsonl line 12")
 * @param image the image file (resolved; it existed when the record was read)
 * @param subject the subject word(s) as they will be written in the prompt, e.g. "dog"
 * @param relation the true relation of the subject to the object
 * @param object the object word(s), e.g. "teddy bear"
 * @param subjectBox the subject's box in the image's pixels, or null when the source gave none
 * @param objectBox the object's box, or null when the source gave none
 */
public record RelationRecord(String source, Path image, String subject, SpatialRelation relation, String object,
        PositionRule.Box subjectBox, PositionRule.Box objectBox) {

    /** Checks the required fields. */
    public RelationRecord {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(relation, "relation");
        if (subject == null || subject.isBlank() || object == null || object.isBlank()) {
            throw new IllegalArgumentException("subject and object must be non-empty words (" + source + ")");
        }
        if ((subjectBox == null) != (objectBox == null)) {
            throw new IllegalArgumentException("give both boxes or neither (" + source + ")");
        }
    }

    /** True when the source gave boxes. */
    public boolean hasBoxes() {
        return subjectBox != null;
    }

    @Override
    public String toString() {
        return source + ": (" + subject + ", " + relation.canonicalName() + ", " + object + ") in " + image;
    }
}
