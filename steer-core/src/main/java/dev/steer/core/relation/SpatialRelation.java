package dev.steer.core.relation;

import java.util.List;
import java.util.Locale;

/**
 * The spatial relations the published classifiers know, by their canonical names (as stored in
 * checkpoints' {@code rel_name_to_idx}), with the phrasings users write mapped onto them.
 */
public enum SpatialRelation {
    /** Subject above the object ("on top of", "over"). */
    ABOVE("above", "on top of", "on the top of", "over"),
    /** Subject below the object ("under", "beneath"). */
    BELOW("below", "on bottom of", "on the bottom of", "under", "beneath", "underneath"),
    /** Subject left of the object. */
    LEFT_OF("to the left of", "left of", "on the left of", "next to the left of"),
    /** Subject right of the object. */
    RIGHT_OF("to the right of", "right of", "on the right of", "next to the right of");

    private final String canonical;
    private final List<String> phrases;

    SpatialRelation(String canonical, String... aliases) {
        this.canonical = canonical;
        this.phrases = List.of(aliases);
    }

    /** The name used in checkpoints and in the reference's prompts. */
    public String canonicalName() {
        return canonical;
    }

    /** Every phrase that means this relation, canonical first. */
    public List<String> phrases() {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of(canonical), phrases.stream()).distinct().toList();
    }

    /** The relation with the opposite geometry (left of {@literal <->} right of, above {@literal <->} below). */
    public SpatialRelation opposite() {
        return switch (this) {
            case ABOVE -> BELOW;
            case BELOW -> ABOVE;
            case LEFT_OF -> RIGHT_OF;
            case RIGHT_OF -> LEFT_OF;
        };
    }

    /**
     * Parses a relation phrase ("left of", "on top of", "beneath"...), ignoring case and extra spaces.
     *
     * @throws IllegalArgumentException naming the phrase and listing the understood ones
     */
    public static SpatialRelation parse(String phrase) {
        String p = phrase.trim().toLowerCase(Locale.ROOT).replaceAll("\\s+", " ");
        for (SpatialRelation r : values()) {
            if (r.phrases().contains(p)) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown relation '" + phrase + "'; understood: " + allPhrases());
    }

    /** Every phrase understood, for messages and documentation. */
    public static List<String> allPhrases() {
        return java.util.Arrays.stream(values()).flatMap(r -> r.phrases().stream()).toList();
    }
}
