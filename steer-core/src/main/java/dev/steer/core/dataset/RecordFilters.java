package dev.steer.core.dataset;

/**
 * Which records the readers of {@link RelationSources} keep. The defaults follow the reference's
 * filters for scene graphs: one instance per class, no same-name pairs.
 *
 * @param oneInstancePerClass skip pairs whose subject or object class occurs more than once in the
 *     image (GQA, COCO); a word in the prompt must name one thing
 * @param allowSameName keep pairs whose subject and object have the same name (off by default)
 * @param skipCrowd skip COCO pairs involving a crowd annotation (a crowd also counts as several
 *     instances of its class)
 * @param minBoxFraction skip pairs where a box covers less than this fraction of the image area
 *     (0 keeps all); tiny objects barely show in 16x16 attention maps
 * @param requireBoxAgreement when a record has both a stated relation and boxes (GQA, manifests with
 *     both), skip it unless the stated relation is among {@link dev.steer.core.relation.PositionRule}'s
 *     relations for the boxes
 * @param boxTolerance how many pixels a box may extend beyond the image before it is "outside"
 */
public record RecordFilters(boolean oneInstancePerClass, boolean allowSameName, boolean skipCrowd, double minBoxFraction,
        boolean requireBoxAgreement, double boxTolerance) {

    /** The defaults: one instance per class, no same-name pairs, no crowds, any box size, no agreement check, 1 px tolerance. */
    public static final RecordFilters DEFAULTS = new RecordFilters(true, false, true, 0.0, false, 1.0);

    /** Validates the numbers. */
    public RecordFilters {
        if (!(minBoxFraction >= 0 && minBoxFraction < 1)) {
            throw new IllegalArgumentException("minBoxFraction must be in [0, 1), got " + minBoxFraction);
        }
        if (!(boxTolerance >= 0)) {
            throw new IllegalArgumentException("boxTolerance must be >= 0, got " + boxTolerance);
        }
    }

    /** With {@code oneInstancePerClass} changed. */
    public RecordFilters withOneInstancePerClass(boolean v) {
        return new RecordFilters(v, allowSameName, skipCrowd, minBoxFraction, requireBoxAgreement, boxTolerance);
    }

    /** With {@code allowSameName} changed. */
    public RecordFilters withAllowSameName(boolean v) {
        return new RecordFilters(oneInstancePerClass, v, skipCrowd, minBoxFraction, requireBoxAgreement, boxTolerance);
    }

    /** With {@code skipCrowd} changed. */
    public RecordFilters withSkipCrowd(boolean v) {
        return new RecordFilters(oneInstancePerClass, allowSameName, v, minBoxFraction, requireBoxAgreement, boxTolerance);
    }

    /** With {@code minBoxFraction} changed. */
    public RecordFilters withMinBoxFraction(double v) {
        return new RecordFilters(oneInstancePerClass, allowSameName, skipCrowd, v, requireBoxAgreement, boxTolerance);
    }

    /** With {@code requireBoxAgreement} changed. */
    public RecordFilters withRequireBoxAgreement(boolean v) {
        return new RecordFilters(oneInstancePerClass, allowSameName, skipCrowd, minBoxFraction, v, boxTolerance);
    }

    /** With {@code boxTolerance} changed. */
    public RecordFilters withBoxTolerance(double v) {
        return new RecordFilters(oneInstancePerClass, allowSameName, skipCrowd, minBoxFraction, requireBoxAgreement, v);
    }
}
