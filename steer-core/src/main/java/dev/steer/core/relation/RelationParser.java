package dev.steer.core.relation;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the (subject, relation, object) triplets a text-to-image prompt asks for, so that the
 * steering knows which words' attention maps to compare. A light, rule-based parser (no model): the
 * reference uses a dependency parser, this one covers GenEval's prompt form and the common ways
 * people write spatial relations.
 *
 * <h2>What it understands</h2>
 * <ul>
 *   <li><b>GenEval's form</b>: {@code "a photo of a(n) [colour] X left of / right of / above /
 *       below a(n) [colour] Y"}, e.g. "a photo of a dog right of a teddy bear" gives
 *       (dog, to the right of, teddy bear), "a photo of an orange donut below a green bench" gives
 *       (donut, below, bench).</li>
 *   <li><b>Relation phrases</b>: every phrase of {@link SpatialRelation#allPhrases()}: "left of",
 *       "to the left of", "on the left of", "next to the left of" (and the same for right);
 *       "above", "over", "on top of", "on the top of"; "below", "under", "beneath",
 *       "underneath", "on bottom of", "on the bottom of". Phrases are matched on whole words,
 *       case-insensitively, longest first ("next to the left of" wins over "next to").</li>
 *   <li><b>Noun phrases</b>: articles, numbers, colours and other adjectives before a noun are
 *       allowed; the <em>head noun</em> (the last word of the noun phrase) is what the triplet
 *       keeps: "a brown teddy bear" gives "teddy bear". Multi-word nouns stay whole when they are in
 *       the parser's compound list (the multi-word COCO class names, {@link #COCO_COMPOUND_NOUNS},
 *       plus any added with {@link #withCompoundNouns(Collection)}); a plural of the last word
 *       ("teddy bears") matches too. The subject's noun phrase ends right before the relation
 *       phrase, after skipping linking words such as "is", "sitting", "placed", "directly"
 *       ("a cat is sitting directly above a dog" gives cat). The object's noun phrase starts
 *       after the relation phrase and ends at the end of its clause or at the first preposition,
 *       relative pronoun or linking verb after a noun ("left of a cup of coffee on a table" gives
 *       cup).</li>
 *   <li><b>Several relations</b>: clauses are separated by "and", "but", "while", "whereas", "&amp;"
 *       and by punctuation (",", ";", ".", ":", "!", "?", brackets): "a cat left of a dog and a
 *       bird above the dog", "a cup on top of a book, a lamp to the right of the book". Chains
 *       work too: "a cat left of a dog above a bird" gives (cat, left, dog) and (dog, above,
 *       bird). A coordinated subject ("a cat and a dog left of a bird") binds only the noun phrase
 *       next to the relation (dog).</li>
 * </ul>
 *
 * <h2>Words and occurrences</h2>
 * The prompt is cut into words the way the CLIP tokenizer's pre-tokenizer cuts them (lower-cased;
 * letter runs, single digits, punctuation runs, "'s"-style suffixes), so the triplet's words are
 * exactly what {@link dev.steer.core.tokenizer.TokenizedPrompt#positionsOf(String, int)} looks
 * for. Each triplet records which occurrence of its subject and object words it means, counted as
 * {@code positionsOf} counts them (whole-word, left to right, without overlap): in "a dog left of a
 * dog" the subject is "dog" occurrence 0 and the object "dog" occurrence 1; in "a cat left of a
 * dog and a bird above the dog" the second triplet's object is the second "dog" (occurrence 1), the
 * word as written in its clause. {@link TokenBinding} turns triplets into token positions.
 *
 * <h2>What it rejects</h2>
 * Relation-like phrases the classifiers have no class for ({@link #unsupportedPhrases()}: "next
 * to", "beside", "behind", "in front of", "near", "between", "inside", "on the left" without an
 * object...) throw an {@link IllegalArgumentException} naming the phrase and listing the supported
 * ones, rather than being dropped silently; so does a relation phrase without a subject or object
 * noun ("left of a cat"). A prompt without any relation phrase gives an empty list from
 * {@link #parse(String)} and an exception from {@link #parseRequired(String)}. For anything this
 * parser cannot express, build triplets directly with {@link RelationTriplet#of} or the
 * {@link RelationTriplet} constructor.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class RelationParser {

    /** The multi-word COCO class names (as GenEval writes them), kept whole as nouns by default. */
    public static final List<String> COCO_COMPOUND_NOUNS = List.of("traffic light", "fire hydrant", "stop sign",
            "parking meter", "sports ball", "baseball bat", "baseball glove", "tennis racket", "wine glass", "hot dog",
            "potted plant", "dining table", "tv remote", "computer mouse", "computer keyboard", "cell phone",
            "teddy bear", "hair drier");

    /** A few common variants of COCO names also kept whole by default. */
    private static final List<String> EXTRA_COMPOUND_NOUNS = List.of("hair dryer", "mobile phone", "dinner table",
            "remote control", "ice cream", "traffic cone", "street sign", "fire truck");

    private static final List<String> UNSUPPORTED = List.of(
            "next to", "beside", "behind", "in front of", "in the front of", "at the front of", "at the back of",
            "in back of", "near", "nearby", "near to", "close to", "adjacent to", "between", "in between",
            "among", "amongst", "inside", "inside of", "outside of", "across from", "opposite to", "opposite of",
            "alongside", "atop", "on the side of", "by the side of", "on either side of", "in the middle of",
            "in the center of", "in the centre of", "at the top of", "at the bottom of",
            "on the left", "on the right", "to the left", "to the right", "at the left", "at the right",
            "at the left of", "at the right of", "on its left", "on its right", "to its left", "to its right",
            "left side of", "right side of", "on the left side of", "on the right side of",
            "to the left side of", "to the right side of");

    /** Words that separate clauses (besides punctuation). */
    private static final Set<String> CLAUSE_WORDS = Set.of("and", "but", "while", "whereas", "&", "&&", "plus");

    /** Characters whose presence makes a punctuation word a clause boundary. */
    private static final String BOUNDARY_CHARS = ",;.:!?()[]{}|\u2026";

    /** Words that cannot be a head noun. */
    private static final Set<String> NON_HEADS = Set.of("a", "an", "the", "this", "that", "these", "those", "some", "any",
            "another", "each", "every", "my", "your", "his", "her", "its", "our", "their", "of", "one", "two", "three",
            "four", "five", "six", "seven", "eight", "nine", "ten", "several", "many", "few", "no", "to", "and", "or",
            "'s", "'t", "'re", "'ve", "'m", "'ll", "'d");

    /** Linking verbs, participles and adverbs between a noun and a relation phrase. */
    private static final Set<String> LINKING = Set.of("is", "are", "was", "were", "be", "being", "been", "sits", "sit",
            "sitting", "seated", "stands", "stand", "standing", "lies", "lie", "lying", "laying", "laid", "hangs", "hang",
            "hanging", "hung", "floats", "float", "floating", "hovers", "hover", "hovering", "flies", "fly", "flying",
            "perched", "placed", "put", "positioned", "located", "situated", "mounted", "parked", "rests", "resting",
            "leaning", "stacked", "shown", "seen", "jumping", "leaping", "walking", "running", "swimming", "looming",
            "towering", "rising", "peeking", "balanced", "balancing", "suspended", "drawn", "painted",
            "appears", "appearing", "appear", "stays", "staying", "kept",
            "directly", "just", "slightly", "far", "immediately", "exactly", "somewhat", "right", "well", "also",
            "which", "that", "who", "whose", "where", "it", "they", "there", "here");

    /** Words that end an object noun phrase once a noun was seen (besides {@link #LINKING}). */
    private static final Set<String> OBJECT_TERMINATORS = Set.of("of", "in", "on", "at", "with", "without", "from",
            "by", "for", "during", "into", "onto", "upon", "through", "against", "toward", "towards", "like", "as",
            "wearing", "holding", "carrying", "eating", "looking", "facing", "made", "covered", "filled", "or");

    private static final Pattern WORD = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^\\s\\p{L}\\p{N}]+");
    private static final Pattern SPACES = Pattern.compile("[\\t\\n\\r\\p{Zs}]");
    private static final Pattern DROPPED = Pattern.compile("[\\p{Cc}\\p{Cf}\\x{FFFD}]");
    private static final Pattern IDEOGRAPH = Pattern.compile("(\\p{IsIdeographic})");

    private static final RelationParser STANDARD = new RelationParser();

    /** A relation-like phrase: supported (relation set) or not (relation null). */
    private record Phrase(String text, List<String> words, SpatialRelation relation) {
    }

    /** Relation-like phrases, longest first. */
    private static final List<Phrase> PHRASES = buildPhrases();

    private final List<List<String>> compounds;
    private final Set<String> compoundNames;

    /** A parser that keeps the {@link #COCO_COMPOUND_NOUNS} (and a few common variants) whole. */
    public RelationParser() {
        this(defaultCompounds());
    }

    private RelationParser(Collection<String> compoundNouns) {
        LinkedHashSet<String> names = new LinkedHashSet<>();
        List<List<String>> lists = new ArrayList<>();
        for (String noun : compoundNouns) {
            Objects.requireNonNull(noun, "compound noun");
            List<String> w = words(noun);
            if (w.stream().noneMatch(x -> Character.isLetterOrDigit(x.codePointAt(0)))) {
                throw new IllegalArgumentException("compound noun \"" + noun + "\" has no words");
            }
            if (names.add(String.join(" ", w))) {
                lists.add(List.copyOf(w));
            }
        }
        lists.sort(Comparator.comparingInt((List<String> l) -> l.size()).reversed());
        this.compounds = List.copyOf(lists);
        this.compoundNames = java.util.Collections.unmodifiableSet(names);
    }

    /** The shared default parser (same as {@code new RelationParser()}). */
    public static RelationParser standard() {
        return STANDARD;
    }

    /**
     * A parser that also keeps the given multi-word nouns whole ("fire truck", "cup of coffee").
     * Matching is on whole words and case-insensitive; a plural of the last word matches too.
     *
     * @throws IllegalArgumentException if a noun has no words
     */
    public RelationParser withCompoundNouns(Collection<String> nouns) {
        List<String> all = new ArrayList<>(compoundNames);
        all.addAll(nouns);
        return new RelationParser(all);
    }

    /** Varargs form of {@link #withCompoundNouns(Collection)}. */
    public RelationParser withCompoundNouns(String... nouns) {
        return withCompoundNouns(Arrays.asList(nouns));
    }

    /** The multi-word nouns this parser keeps whole, normalised (lower-case, single spaces). */
    public Set<String> compoundNouns() {
        return compoundNames;
    }

    /** The relation phrases understood: {@link SpatialRelation#allPhrases()}. */
    public static List<String> supportedPhrases() {
        return SpatialRelation.allPhrases();
    }

    /**
     * Relation-like phrases that the classifiers have no class for; a prompt containing one is
     * rejected rather than half-understood.
     */
    public static List<String> unsupportedPhrases() {
        return UNSUPPORTED;
    }

    /**
     * The triplets of a prompt, in the order of their relation phrases.
     *
     * @return the triplets; empty if the prompt has no relation phrase
     * @throws IllegalArgumentException if the prompt contains a relation-like phrase that is not
     *     supported (naming it and listing the supported ones), or a relation phrase without a
     *     subject or object noun
     */
    public List<RelationTriplet> parse(String prompt) {
        Objects.requireNonNull(prompt, "prompt");
        List<String> w = words(prompt);
        List<Unit> units = units(w);

        for (Unit u : units) {
            if (u.kind == Kind.RELATION && u.relation == null) {
                throw new IllegalArgumentException("the relation phrase \"" + u.text(w) + "\" in prompt \"" + prompt
                        + "\" is not supported; supported phrases: " + supportedPhrases()
                        + " (or build the triplet explicitly with RelationTriplet.of)");
            }
        }

        List<RelationTriplet> out = new ArrayList<>();
        for (int r = 0; r < units.size(); r++) {
            Unit rel = units.get(r);
            if (rel.kind != Kind.RELATION) {
                continue;
            }
            Unit subject = subjectHead(units, r, w);
            if (subject == null) {
                throw new IllegalArgumentException("no subject noun before \"" + rel.text(w) + "\" in prompt \"" + prompt
                        + "\"; expected a form like \"a dog " + rel.text(w) + " a cat\"");
            }
            Unit object = objectHead(units, r, w);
            if (object == null) {
                throw new IllegalArgumentException("no object noun after \"" + rel.text(w) + "\" in prompt \"" + prompt
                        + "\"; expected a form like \"a dog " + rel.text(w) + " a cat\"");
            }
            out.add(new RelationTriplet(subject.text(w), rel.relation, object.text(w), occurrence(w, subject),
                    occurrence(w, object)));
        }
        return List.copyOf(out);
    }

    /**
     * Like {@link #parse(String)}, but a prompt without any relation phrase is an error.
     *
     * @return at least one triplet
     * @throws IllegalArgumentException if no spatial relation was found (listing the understood
     *     phrases), or as {@link #parse(String)}
     */
    public List<RelationTriplet> parseRequired(String prompt) {
        List<RelationTriplet> t = parse(prompt);
        if (t.isEmpty()) {
            throw new IllegalArgumentException("no spatial relation found in prompt \"" + prompt
                    + "\"; understood phrases: " + supportedPhrases());
        }
        return t;
    }

    // ---------------------------------------------------------------------------------------------

    private enum Kind { WORD, COMPOUND, RELATION }

    /** A span of words [start, end) acting as one unit. */
    private static final class Unit {
        final Kind kind;
        final int start;
        final int end;
        final SpatialRelation relation;

        Unit(Kind kind, int start, int end, SpatialRelation relation) {
            this.kind = kind;
            this.start = start;
            this.end = end;
            this.relation = relation;
        }

        String text(List<String> w) {
            return String.join(" ", w.subList(start, end));
        }

        String single(List<String> w) {
            return kind == Kind.WORD ? w.get(start) : null;
        }
    }

    /** Relation phrases first (longest first at each position), then compounds, then single words. */
    private List<Unit> units(List<String> w) {
        List<Unit> out = new ArrayList<>();
        int i = 0;
        while (i < w.size()) {
            Unit u = null;
            for (Phrase p : PHRASES) {
                if (matchesAt(w, i, p.words)) {
                    u = new Unit(Kind.RELATION, i, i + p.words.size(), p.relation);
                    break;
                }
            }
            if (u == null) {
                for (List<String> c : compounds) {
                    if (c.size() > 1 && compoundAt(w, i, c) && !relationInside(w, i, i + c.size())) {
                        u = new Unit(Kind.COMPOUND, i, i + c.size(), null);
                        break;
                    }
                }
            }
            if (u == null) {
                u = new Unit(Kind.WORD, i, i + 1, null);
            }
            out.add(u);
            i = u.end;
        }
        return out;
    }

    private static boolean relationInside(List<String> w, int from, int to) {
        for (int k = from + 1; k < to; k++) {
            for (Phrase p : PHRASES) {
                if (matchesAt(w, k, p.words)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean matchesAt(List<String> w, int i, List<String> target) {
        if (i + target.size() > w.size()) {
            return false;
        }
        for (int k = 0; k < target.size(); k++) {
            if (!w.get(i + k).equals(target.get(k))) {
                return false;
            }
        }
        return true;
    }

    /** A compound at i, allowing a plural of its last word ("teddy bears", "wine glasses"). */
    private static boolean compoundAt(List<String> w, int i, List<String> c) {
        int n = c.size();
        if (i + n > w.size() || !matchesAt(w, i, c.subList(0, n - 1))) {
            return false;
        }
        String last = c.get(n - 1);
        String actual = w.get(i + n - 1);
        return actual.equals(last) || actual.equals(last + "s") || actual.equals(last + "es")
                || (last.endsWith("y") && actual.equals(last.substring(0, last.length() - 1) + "ies"));
    }

    private static boolean isBoundary(Unit u, List<String> w) {
        if (u.kind == Kind.RELATION) {
            return true;
        }
        String s = u.single(w);
        if (s == null) {
            return false;
        }
        if (CLAUSE_WORDS.contains(s)) {
            return true;
        }
        if (Character.isLetterOrDigit(s.codePointAt(0)) || s.startsWith("'")) {
            return false;
        }
        for (int k = 0; k < s.length(); k++) {
            if (BOUNDARY_CHARS.indexOf(s.charAt(k)) >= 0) {
                return true;
            }
        }
        return false;
    }

    private static boolean canBeHead(Unit u, List<String> w) {
        if (u.kind == Kind.COMPOUND) {
            return true;
        }
        if (u.kind != Kind.WORD) {
            return false;
        }
        String s = w.get(u.start);
        return Character.isLetter(s.codePointAt(0)) && !NON_HEADS.contains(s) && !LINKING.contains(s)
                && !CLAUSE_WORDS.contains(s);
    }

    /** The last noun before the relation unit r, skipping linking words; null if there is none. */
    private static Unit subjectHead(List<Unit> units, int r, List<String> w) {
        int k = r - 1;
        while (k >= 0 && !isBoundary(units.get(k), w) && isLinking(units.get(k), w)) {
            k--;
        }
        if (k < 0 || isBoundary(units.get(k), w)) {
            return null;
        }
        Unit u = units.get(k);
        return canBeHead(u, w) ? u : null;
    }

    /** The head of the noun phrase after the relation unit r; null if there is none. */
    private static Unit objectHead(List<Unit> units, int r, List<String> w) {
        Unit head = null;
        for (int k = r + 1; k < units.size(); k++) {
            Unit u = units.get(k);
            if (isBoundary(u, w)) {
                break;
            }
            String s = u.single(w);
            if (head != null && s != null && (OBJECT_TERMINATORS.contains(s) || LINKING.contains(s))) {
                break;
            }
            if (canBeHead(u, w)) {
                head = u;
            }
        }
        return head;
    }

    private static boolean isLinking(Unit u, List<String> w) {
        String s = u.single(w);
        return s != null && LINKING.contains(s);
    }

    /**
     * Which occurrence of the unit's words it is, counted like TokenizedPrompt.positionsOf: greedy
     * whole-word matches left to right without overlap.
     */
    private static int occurrence(List<String> w, Unit u) {
        List<String> target = w.subList(u.start, u.end);
        int count = 0;
        int i = 0;
        while (i + target.size() <= w.size() && i < u.start) {
            if (matchesAt(w, i, target)) {
                count++;
                i += target.size();
            } else {
                i++;
            }
        }
        return count;
    }

    /**
     * Cuts text into words like the CLIP tokenizer's cleanup and pre-tokenizer (without its special
     * tokens): control characters dropped, whitespace unified, ideographs spaced apart, NFC,
     * lower-cased, then letter runs, single digits, punctuation runs and "'s"-style suffixes.
     */
    static List<String> words(String text) {
        String s = SPACES.matcher(text).replaceAll(" ");
        s = DROPPED.matcher(s).replaceAll("");
        s = IDEOGRAPH.matcher(s).replaceAll(" $1 ");
        s = Normalizer.normalize(s, Normalizer.Form.NFC).toLowerCase(Locale.ROOT);
        List<String> out = new ArrayList<>();
        Matcher m = WORD.matcher(s);
        while (m.find()) {
            out.add(m.group());
        }
        return out;
    }

    private static List<String> defaultCompounds() {
        List<String> all = new ArrayList<>(COCO_COMPOUND_NOUNS);
        all.addAll(EXTRA_COMPOUND_NOUNS);
        return all;
    }

    private static List<Phrase> buildPhrases() {
        List<Phrase> out = new ArrayList<>();
        Set<String> supported = new LinkedHashSet<>();
        for (SpatialRelation r : SpatialRelation.values()) {
            for (String p : r.phrases()) {
                supported.add(p);
                out.add(new Phrase(p, words(p), r));
            }
        }
        for (String p : UNSUPPORTED) {
            if (!supported.contains(p)) {
                out.add(new Phrase(p, words(p), null));
            }
        }
        out.sort(Comparator.comparingInt((Phrase p) -> p.words.size()).reversed());
        return List.copyOf(out);
    }
}
