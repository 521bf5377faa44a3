package dev.steer.core.dataset;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What happened to the input records of a relation dataset: how many were read, how many were kept,
 * and how many were skipped for each reason, with the first {@value #EXAMPLES_PER_REASON} skipped
 * records of each reason (source, reason, detail) so that none is skipped silently. Bad records are
 * never fatal: readers and the dataset builder count them here and go on.
 *
 * <p>Not thread-safe.
 */
public final class RecordReport {
    /** How many skipped records of each reason are kept as examples. */
    public static final int EXAMPLES_PER_REASON = 1000;

    /** The image file does not exist. */
    public static final String MISSING_IMAGE = "missing image";
    /** The image exists but cannot be decoded. */
    public static final String UNREADABLE_IMAGE = "unreadable image";
    /** A box extends beyond the image (by more than {@link RecordFilters#boxTolerance()} pixels). */
    public static final String BOX_OUTSIDE_IMAGE = "box outside image";
    /** A box is not of the form [x0, y0, x1, y1] with x1 > x0 and y1 > y0. */
    public static final String BAD_BOX = "bad box";
    /** A box is smaller than {@link RecordFilters#minBoxFraction()} of the image. */
    public static final String BOX_TOO_SMALL = "box too small";
    /** The relation phrase is not one {@link dev.steer.core.relation.SpatialRelation} understands. */
    public static final String UNKNOWN_RELATION = "unknown relation";
    /** A required field is absent or empty. */
    public static final String MISSING_FIELD = "missing field";
    /** A line or element is not the expected JSON. */
    public static final String MALFORMED = "malformed record";
    /** {@link dev.steer.core.relation.PositionRule} gives no relation for the boxes. */
    public static final String NO_RELATION_FROM_BOXES = "no relation from boxes";
    /** {@link dev.steer.core.relation.PositionRule} gives two relations (a diagonal placement). */
    public static final String AMBIGUOUS_BOXES = "ambiguous boxes";
    /** The stated relation is not among the boxes' relations (with {@link RecordFilters#requireBoxAgreement()}). */
    public static final String RELATION_CONTRADICTS_BOXES = "relation contradicts boxes";
    /** Subject and object have the same name. */
    public static final String SAME_NAME = "same-name pair";
    /** The subject's or object's class occurs more than once in the image. */
    public static final String CLASS_NOT_UNIQUE = "class not unique";
    /** The pair involves a crowd annotation (COCO {@code iscrowd}). */
    public static final String CROWD = "crowd annotation";
    /** A scene-graph relation points to an object the image does not have. */
    public static final String DANGLING_RELATION = "dangling relation";
    /** The same pair of objects was already kept (possibly in the reverse order with the opposite relation). */
    public static final String DUPLICATE_PAIR = "duplicate pair";
    /** The same pair of objects is given contradicting relations. */
    public static final String CONFLICTING_RELATIONS = "conflicting relations";
    /** The subject or object word cannot be located in the tokenized prompt. */
    public static final String WORD_NOT_IN_PROMPT = "word not found in prompt";
    /** A valid record beyond the configured maximum number of triplets. */
    public static final String BEYOND_MAX_TRIPLETS = "beyond max triplets";

    /**
     * One skipped record.
     *
     * @param reason why it was skipped (one of this class's constants)
     * @param source where it came from
     * @param detail what exactly was wrong
     */
    public record Skip(String reason, String source, String detail) {
    }

    private int records;
    private int kept;
    private final Map<String, Integer> skipped = new LinkedHashMap<>();
    private final List<Skip> examples = new ArrayList<>();

    /** Counts one record read from a source. */
    public void countRecord() {
        records++;
    }

    /** Counts one record kept. */
    public void countKept() {
        kept++;
    }

    /** Counts a skipped record and keeps it as an example while there are fewer than the limit for its reason. */
    public void skip(String reason, String source, String detail) {
        Objects.requireNonNull(reason, "reason");
        int n = skipped.merge(reason, 1, Integer::sum);
        if (n <= EXAMPLES_PER_REASON) {
            examples.add(new Skip(reason, source, detail));
        }
    }

    /**
     * Skips a record that was already counted as kept (a later check failed, e.g. its words could not
     * be found in the prompt): one fewer kept, one more skipped.
     */
    public void skipKept(String reason, String source, String detail) {
        if (kept == 0) {
            throw new IllegalStateException("no kept record to skip");
        }
        kept--;
        skip(reason, source, detail);
    }

    /** Adds {@code count} skips of a reason without examples (counts carried over from an earlier run). */
    public void addSkipped(String reason, int count) {
        if (count > 0) {
            skipped.merge(reason, count, Integer::sum);
        }
    }

    /** Records read. */
    public int records() {
        return records;
    }

    /** Records kept. */
    public int kept() {
        return kept;
    }

    /** Skipped records per reason, in order of first occurrence. */
    public Map<String, Integer> skipped() {
        return Collections.unmodifiableMap(skipped);
    }

    /** Total skipped records. */
    public int skippedTotal() {
        return skipped.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** The first skipped records of each reason, in the order they were met. */
    public List<Skip> examples() {
        return Collections.unmodifiableList(examples);
    }

    /**
     * A multi-line summary: counts, then for each reason up to {@code examplesPerReason} examples.
     */
    public String summary(int examplesPerReason) {
        StringBuilder sb = new StringBuilder();
        sb.append(records).append(" records, ").append(kept).append(" kept, ").append(skippedTotal()).append(" skipped");
        for (Map.Entry<String, Integer> e : skipped.entrySet()) {
            sb.append("\n  ").append(e.getKey()).append(": ").append(e.getValue());
            int shown = 0;
            for (Skip s : examples) {
                if (shown >= examplesPerReason) {
                    break;
                }
                if (s.reason().equals(e.getKey())) {
                    sb.append("\n    ").append(s.source()).append(": ").append(s.detail());
                    shown++;
                }
            }
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return records + " records, " + kept + " kept, skipped " + skipped;
    }
}
