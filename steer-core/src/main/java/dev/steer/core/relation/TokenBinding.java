package dev.steer.core.relation;

import dev.steer.core.tokenizer.TokenizedPrompt;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A {@link RelationTriplet} bound to a tokenized prompt: the token positions of its subject and of
 * its object in the padded sequence (position 0 is the start token), which is where the steering
 * reads their cross-attention maps. A word of several BPE tokens ("teddy bear", or a long word
 * split into pieces) has several positions; the classifier uses the mean of their maps.
 *
 * <p>Positions come from {@link TokenizedPrompt#positionsOf(String, int)} with the triplet's
 * occurrence indices, so triplets from {@link RelationParser} and explicit ones
 * ({@link RelationTriplet#of}) bind the same way. Binding fails, naming the word and the prompt,
 * when a word is not in the prompt, occurs fewer times than the occurrence asks, or was cut off by
 * truncation to the tokenizer's maximum length; and when the subject and the object would be the
 * same tokens.
 *
 * <p>Instances are immutable; the position arrays are copied in and out.
 */
public final class TokenBinding {
    private final RelationTriplet triplet;
    private final int[] subjectPositions;
    private final int[] objectPositions;

    private TokenBinding(RelationTriplet triplet, int[] subjectPositions, int[] objectPositions) {
        this.triplet = triplet;
        this.subjectPositions = subjectPositions;
        this.objectPositions = objectPositions;
    }

    /**
     * Locates a triplet's words in a tokenized prompt.
     *
     * @throws IllegalArgumentException naming the missing (or truncated) word and the prompt, or if
     *     subject and object resolve to overlapping tokens
     */
    public static TokenBinding bind(TokenizedPrompt prompt, RelationTriplet triplet) {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(triplet, "triplet");
        int[] s = locate(prompt, triplet, "subject", triplet.subject(), triplet.subjectOccurrence());
        int[] o = locate(prompt, triplet, "object", triplet.object(), triplet.objectOccurrence());
        for (int a : s) {
            for (int b : o) {
                if (a == b) {
                    throw new IllegalArgumentException("subject \"" + triplet.subject() + "\" (occurrence "
                            + triplet.subjectOccurrence() + ") and object \"" + triplet.object() + "\" (occurrence "
                            + triplet.objectOccurrence() + ") of " + triplet + " are the same tokens " + Arrays.toString(s)
                            + " of prompt \"" + prompt.prompt() + "\"; use different words or occurrences");
                }
            }
        }
        return new TokenBinding(triplet, s, o);
    }

    /**
     * A binding from known token positions (ids prepared elsewhere, as in the reference's fixtures).
     *
     * @throws IllegalArgumentException if a word has no positions or a position is negative
     */
    public static TokenBinding ofPositions(RelationTriplet triplet, int[] subjectPositions, int[] objectPositions) {
        Objects.requireNonNull(triplet, "triplet");
        for (int[] p : List.of(subjectPositions, objectPositions)) {
            if (p.length == 0) {
                throw new IllegalArgumentException("every word needs at least one token position: " + triplet);
            }
            for (int v : p) {
                if (v < 0) {
                    throw new IllegalArgumentException("negative token position " + v + " for " + triplet);
                }
            }
        }
        return new TokenBinding(triplet, subjectPositions.clone(), objectPositions.clone());
    }

    /** Binds each triplet, in order; see {@link #bind(TokenizedPrompt, RelationTriplet)}. */
    public static List<TokenBinding> bindAll(TokenizedPrompt prompt, List<RelationTriplet> triplets) {
        Objects.requireNonNull(triplets, "triplets");
        List<TokenBinding> out = new ArrayList<>(triplets.size());
        for (RelationTriplet t : triplets) {
            out.add(bind(prompt, t));
        }
        return List.copyOf(out);
    }

    private static int[] locate(TokenizedPrompt prompt, RelationTriplet triplet, String role, String word, int occurrence) {
        try {
            return prompt.positionsOf(word, occurrence);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot bind the " + role + " \"" + word + "\" (occurrence " + occurrence
                    + ") of " + triplet + " to prompt \"" + prompt.prompt() + "\": " + e.getMessage(), e);
        }
    }

    /** The triplet that was bound. */
    public RelationTriplet triplet() {
        return triplet;
    }

    /** The subject's token positions, ascending (never containing 0, the start token). */
    public int[] subjectPositions() {
        return subjectPositions.clone();
    }

    /** The object's token positions, ascending. */
    public int[] objectPositions() {
        return objectPositions.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenBinding b && triplet.equals(b.triplet) && Arrays.equals(subjectPositions, b.subjectPositions)
                && Arrays.equals(objectPositions, b.objectPositions);
    }

    @Override
    public int hashCode() {
        return Objects.hash(triplet, Arrays.hashCode(subjectPositions), Arrays.hashCode(objectPositions));
    }

    @Override
    public String toString() {
        return triplet + " -> subject " + Arrays.toString(subjectPositions) + ", object " + Arrays.toString(objectPositions);
    }
}
