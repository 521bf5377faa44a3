package dev.steer.core.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * A prompt tokenized for a text encoder: the padded id sequence plus its words and where their
 * tokens sit, so that steering code can find the token positions of a word such as "teddy bear".
 * <ul>
 *   <li>CLIP ({@link ClipTokenizer#tokenize}): length {@link ClipTokenizer#maxLength()}, start
 *       token at position 0, BPE ids, end token, pad ids.</li>
 *   <li>T5 ({@link T5Tokenizer#tokenize}): length {@link T5Tokenizer#maxLength()}, no start token
 *       (the first piece is at position 0), SentencePiece ids, {@code </s>}, pad ids.</li>
 * </ul>
 *
 * <p>Words are cut the same way for both, the way {@code RelationParser} cuts prompts: after
 * cleanup and lower-casing, letter runs, single digits, punctuation runs and "'s"-style suffixes
 * ("don't" gives "don" and "'t"; "4k" gives "4" and "k"; "," or "!!" are words too). Instances are
 * immutable.
 */
public final class TokenizedPrompt {

    /**
     * One pre-tokenized word of the prompt and the positions of its tokens in the padded sequence.
     * A word whose tokens fell (partly) beyond the truncation limit reports only the positions kept.
     */
    public static final class Word {
        private final int index;
        private final String text;
        private final int firstPosition;
        private final int tokenCount;
        private final int lastKeptPosition;

        Word(int index, String text, int firstPosition, int tokenCount, int lastKeptPosition) {
            this.index = index;
            this.text = text;
            this.firstPosition = firstPosition;
            this.tokenCount = tokenCount;
            this.lastKeptPosition = lastKeptPosition;
        }

        /** The word's index among the prompt's words (0 = first word). */
        public int index() {
            return index;
        }

        /** The word as pre-tokenized: cleaned and lower-cased, e.g. {@code "teddy"}, {@code "'s"}, {@code ","}. */
        public String text() {
            return text;
        }

        /** How many tokens the word has, counting any that truncation dropped. */
        public int tokenCount() {
            return tokenCount;
        }

        /**
         * The positions of the word's tokens in the padded sequence that survived truncation (for
         * CLIP position 0 is the start token; T5 has none).
         */
        public int[] positions() {
            int n = Math.max(0, Math.min(tokenCount, lastKeptPosition - firstPosition + 1));
            int[] p = new int[n];
            for (int i = 0; i < n; i++) {
                p[i] = firstPosition + i;
            }
            return p;
        }

        /** Whether truncation dropped some or all of this word's tokens. */
        public boolean isTruncated() {
            return firstPosition + tokenCount - 1 > lastKeptPosition;
        }

        int firstPosition() {
            return firstPosition;
        }

        @Override
        public String toString() {
            return text + "@" + Arrays.toString(positions()) + (isTruncated() ? "(truncated)" : "");
        }
    }

    private final Function<String, List<String>> wordSplitter;
    private final int promptCapacity;
    private final String prompt;
    private final int[] ids;
    private final int realTokens;
    private final int droppedTokens;
    private final List<Word> words;

    TokenizedPrompt(ClipTokenizer tokenizer, String prompt, int[] ids, int realTokens, int droppedTokens, List<Word> words) {
        this(tokenizer::words, ids.length - 2, prompt, ids, realTokens, droppedTokens, words);
    }

    /**
     * The general form.
     *
     * @param wordSplitter cuts a phrase into words exactly as the prompt's words were cut
     * @param promptCapacity how many of the prompt's own tokens fit (the length less the special tokens)
     * @param realTokens tokens before the padding (special tokens included)
     */
    TokenizedPrompt(Function<String, List<String>> wordSplitter, int promptCapacity, String prompt, int[] ids, int realTokens,
            int droppedTokens, List<Word> words) {
        this.wordSplitter = wordSplitter;
        this.promptCapacity = promptCapacity;
        this.prompt = prompt;
        this.ids = ids;
        this.realTokens = realTokens;
        this.droppedTokens = droppedTokens;
        this.words = List.copyOf(words);
    }

    /** The prompt as given. */
    public String prompt() {
        return prompt;
    }

    /** A copy of the padded ids, of length {@link #length()}. */
    public int[] ids() {
        return ids.clone();
    }

    /** The padded ids as longs (the int64 {@code input_ids} a text encoder takes). */
    public long[] idsAsLongs() {
        long[] out = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = ids[i];
        }
        return out;
    }

    /** The padded length, the tokenizer's {@code maxLength()}. */
    public int length() {
        return ids.length;
    }

    /** Tokens before the padding: start token (CLIP only), kept prompt tokens and end token. */
    public int realTokenCount() {
        return realTokens;
    }

    /** Position of the end token, {@code realTokenCount() - 1} (where CLIP's pooled output is read). */
    public int eosPosition() {
        return realTokens - 1;
    }

    /** Whether the prompt had more tokens than fit, so that some were dropped. */
    public boolean isTruncated() {
        return droppedTokens > 0;
    }

    /** How many prompt tokens truncation dropped (0 when the prompt fit). */
    public int droppedTokenCount() {
        return droppedTokens;
    }

    /** All pre-tokenized words of the prompt, in order, including those cut off by truncation. */
    public List<Word> words() {
        return words;
    }

    /** The token positions of the first occurrence of {@code phrase}; see {@link #positionsOf(String, int)}. */
    public int[] positionsOf(String phrase) {
        return positionsOf(phrase, 0);
    }

    /**
     * The token positions (in the padded sequence; for CLIP 0 is the start token) of an occurrence of a word
     * or multi-word phrase. The phrase is pre-tokenized like the prompt, so the match is
     * case-insensitive and on whole words: "cat" does not match "cats", and "teddy bear" matches the
     * words "teddy" then "bear". Occurrences are counted left to right without overlap.
     *
     * @param phrase a word or phrase, e.g. {@code "Teddy bear"}
     * @param occurrence which occurrence, 0 for the first
     * @return the positions of all the phrase's tokens, ascending and contiguous
     * @throws IllegalArgumentException naming the phrase and the prompt if the phrase has no words,
     *     occurs fewer than {@code occurrence + 1} times, or that occurrence was (partly) cut off
     *     by truncation
     */
    public int[] positionsOf(String phrase, int occurrence) {
        Objects.requireNonNull(phrase, "phrase");
        if (occurrence < 0) {
            throw new IllegalArgumentException("occurrence must be >= 0, not " + occurrence + " (phrase \"" + phrase + "\")");
        }
        List<int[]> matches = matches(phrase);
        if (occurrence >= matches.size()) {
            String count = matches.isEmpty() ? "not found"
                    : "found " + matches.size() + " time" + (matches.size() == 1 ? "" : "s")
                            + ", so there is no occurrence " + occurrence + " (0-based)";
            throw new IllegalArgumentException("phrase \"" + phrase + "\" " + count + " in prompt \"" + prompt
                    + "\" (words: " + wordList() + ")");
        }
        int[] m = matches.get(occurrence);
        Word first = words.get(m[0]);
        Word last = words.get(m[1]);
        if (last.isTruncated()) {
            throw new IllegalArgumentException("phrase \"" + phrase + "\" (occurrence " + occurrence + ") in prompt \""
                    + prompt + "\" was cut off by truncation to " + ids.length + " tokens: it would need positions "
                    + first.firstPosition() + ".." + (last.firstPosition() + last.tokenCount() - 1) + " but only "
                    + promptCapacity + " prompt tokens fit before the end token");
        }
        return span(first, last);
    }

    /**
     * The token positions of every occurrence of {@code phrase} that survived truncation, in
     * order (matching as in {@link #positionsOf(String, int)}); empty if there is none.
     */
    public List<int[]> allPositionsOf(String phrase) {
        Objects.requireNonNull(phrase, "phrase");
        List<int[]> out = new ArrayList<>();
        for (int[] m : matches(phrase)) {
            Word last = words.get(m[1]);
            if (!last.isTruncated()) {
                out.add(span(words.get(m[0]), last));
            }
        }
        return out;
    }

    private static int[] span(Word first, Word last) {
        int from = first.firstPosition();
        int to = last.firstPosition() + last.tokenCount() - 1;
        int[] p = new int[to - from + 1];
        for (int i = 0; i < p.length; i++) {
            p[i] = from + i;
        }
        return p;
    }

    /** Word-index ranges {first, last} of the non-overlapping occurrences of the phrase. */
    private List<int[]> matches(String phrase) {
        List<String> target = wordSplitter.apply(phrase);
        if (target.isEmpty()) {
            throw new IllegalArgumentException("phrase \"" + phrase + "\" has no words to look for in prompt \"" + prompt + "\"");
        }
        List<int[]> out = new ArrayList<>();
        int i = 0;
        while (i + target.size() <= words.size()) {
            boolean hit = true;
            for (int k = 0; k < target.size(); k++) {
                if (!words.get(i + k).text().equals(target.get(k))) {
                    hit = false;
                    break;
                }
            }
            if (hit) {
                out.add(new int[] {i, i + target.size() - 1});
                i += target.size();
            } else {
                i++;
            }
        }
        return out;
    }

    private String wordList() {
        StringBuilder sb = new StringBuilder();
        for (Word w : words) {
            if (sb.length() > 0) {
                sb.append(", ");
            }
            sb.append(w.text());
        }
        return ClipTokenizer.abbreviate(sb.toString(), 300);
    }

    @Override
    public String toString() {
        return "TokenizedPrompt[\"" + ClipTokenizer.abbreviate(prompt, 80) + "\", " + realTokens + " real tokens"
                + (isTruncated() ? ", " + droppedTokens + " dropped" : "") + "]";
    }
}
