package dev.steer.core.relation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.testing.Conformance;
import dev.steer.core.tokenizer.ClipTokenizer;
import dev.steer.core.tokenizer.TokenizedPrompt;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link TokenBinding} with the real CLIP tokenizer (SD 1.x vocabulary): parsed and explicit
 * triplets to token positions, multi-token words, repeated words, missing and truncated words; and
 * the parser's word splitting agreeing with the tokenizer's.
 */
class RelationParserTokenBindingTest {
    private static ClipTokenizer tok;
    private static final RelationParser P = RelationParser.standard();

    @BeforeAll
    static void load() {
        tok = ClipTokenizer.fromFolder(Conformance.dir("clip-tokenizer"));
    }

    private static TokenBinding bindOne(String prompt) {
        List<RelationTriplet> t = P.parseRequired(prompt);
        assertEquals(1, t.size(), prompt);
        return TokenBinding.bind(tok.tokenize(prompt), t.get(0));
    }

    @Test
    void genEvalPromptPositions() {
        // <start>=0 a=1 photo=2 of=3 a=4 dog=5 right=6 of=7 a=8 teddy=9 bear=10
        TokenizedPrompt tp = tok.tokenize("a photo of a dog right of a teddy bear");
        assertEquals(tok.bosTokenId(), tp.ids()[0], "position 0 is the start token");
        TokenBinding b = TokenBinding.bind(tp, P.parse(tp.prompt()).get(0));
        assertArrayEquals(new int[] {5}, b.subjectPositions());
        assertArrayEquals(new int[] {9, 10}, b.objectPositions());
        assertEquals(RelationTriplet.of("dog", SpatialRelation.RIGHT_OF, "teddy bear"), b.triplet());
    }

    @Test
    void multiTokenWord() {
        String word = "xylophonists";
        int pieces = tok.encode(word).length;
        assertTrue(pieces > 1, "expected a word of several BPE tokens, got " + pieces);
        // <start>=0 a=1 brown=2 xylophonists=3..(3+pieces-1) left=.. of=.. a=.. cat
        TokenBinding b = bindOne("a brown " + word + " left of a cat");
        int[] expected = new int[pieces];
        for (int i = 0; i < pieces; i++) {
            expected[i] = 3 + i;
        }
        assertArrayEquals(expected, b.subjectPositions());
        assertArrayEquals(new int[] {3 + pieces + 3}, b.objectPositions());
        for (int p : b.subjectPositions()) {
            assertTrue(p > 0, "position 0 is the start token");
        }
    }

    @Test
    void repeatedWordBindsToItsOccurrence() {
        // <start>=0 a=1 dog=2 left=3 of=4 a=5 dog=6
        TokenBinding b = bindOne("a dog left of a dog");
        assertArrayEquals(new int[] {2}, b.subjectPositions());
        assertArrayEquals(new int[] {6}, b.objectPositions());

        // <start>=0 a=1 hot=2 dog=3 left=4 of=5 a=6 dog=7
        b = bindOne("a hot dog left of a dog");
        assertArrayEquals(new int[] {2, 3}, b.subjectPositions());
        assertArrayEquals(new int[] {7}, b.objectPositions());

        // <start>=0 a=1 cat=2 left=3 of=4 a=5 dog=6 and=7 a=8 bird=9 above=10 the=11 dog=12
        TokenizedPrompt tp = tok.tokenize("a cat left of a dog and a bird above the dog");
        List<TokenBinding> all = TokenBinding.bindAll(tp, P.parse(tp.prompt()));
        assertEquals(2, all.size());
        assertArrayEquals(new int[] {2}, all.get(0).subjectPositions());
        assertArrayEquals(new int[] {6}, all.get(0).objectPositions());
        assertArrayEquals(new int[] {9}, all.get(1).subjectPositions());
        assertArrayEquals(new int[] {12}, all.get(1).objectPositions());
    }

    @Test
    void explicitTripletWithoutParsing() {
        TokenizedPrompt tp = tok.tokenize("A photo of a Teddy Bear under a dog");
        TokenBinding b = TokenBinding.bind(tp, RelationTriplet.of("teddy bear", SpatialRelation.BELOW, "Dog"));
        assertArrayEquals(new int[] {5, 6}, b.subjectPositions());
        assertArrayEquals(new int[] {9}, b.objectPositions());
    }

    @Test
    void missingWordNamesTheWordAndThePrompt() {
        TokenizedPrompt tp = tok.tokenize("a photo of a dog left of a bird");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TokenBinding.bind(tp, RelationTriplet.of("cat", SpatialRelation.LEFT_OF, "bird")));
        assertTrue(e.getMessage().contains("\"cat\"") && e.getMessage().contains("subject"), e.getMessage());
        assertTrue(e.getMessage().contains("a photo of a dog left of a bird"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> TokenBinding.bind(tp, new RelationTriplet("dog", SpatialRelation.LEFT_OF, "bird", 0, 1)));
        assertTrue(e.getMessage().contains("\"bird\"") && e.getMessage().contains("object"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> TokenBinding.bind(tp, RelationTriplet.of("dog", SpatialRelation.LEFT_OF, "dog")));
        assertTrue(e.getMessage().contains("same tokens"), e.getMessage());
    }

    @Test
    void truncatedWordIsReported() {
        StringBuilder sb = new StringBuilder("a dog left of a");
        for (int i = 0; i < 80; i++) {
            sb.append(" very");
        }
        String prompt = sb.append(" big cat").toString();
        List<RelationTriplet> t = P.parse(prompt);
        assertEquals(List.of(RelationTriplet.of("dog", SpatialRelation.LEFT_OF, "cat")), t);
        TokenizedPrompt tp = tok.tokenize(prompt);
        assertTrue(tp.isTruncated());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TokenBinding.bind(tp, t.get(0)));
        assertTrue(e.getMessage().contains("\"cat\"") && e.getMessage().contains("truncation"), e.getMessage());
        assertTrue(e.getMessage().contains(prompt), e.getMessage());
    }

    @Test
    void everyGenEvalPromptBinds() throws IOException {
        for (String line : Files.readAllLines(
                Conformance.testdata().resolve("benchmarks").resolve("geneval-position.jsonl"), StandardCharsets.UTF_8)) {
            String prompt = com.google.gson.JsonParser.parseString(line).getAsJsonObject().get("prompt").getAsString();
            TokenizedPrompt tp = tok.tokenize(prompt);
            TokenBinding b = TokenBinding.bind(tp, P.parse(prompt).get(0));
            List<String> words = tp.words().stream().map(TokenizedPrompt.Word::text).toList();
            // the subject directly follows "a photo of a(n)" (word 4 onwards, position 5 onwards)
            assertEquals(5, b.subjectPositions()[0], prompt);
            assertTrue(b.objectPositions()[b.objectPositions().length - 1] == tp.eosPosition() - 1, prompt);
            assertEquals(words, RelationParser.words(prompt), prompt);
        }
    }

    @Test
    void parserWordsAgreeWithTheTokenizer() {
        List<String> prompts = new ArrayList<>(List.of(
                "A Dog's bowl, LEFT of the cat!!",
                "a  t-shirt\tabove a \"stop sign\"; 4k, ultra-detailed",
                "café crème à gauche: un chat ... sur la table",
                "a cat (left of) a dog & a bird [above] the dog?",
                "don't put a cup under the mug’s handle",
                "ein Hund links von 2 Katzen 猫の上"));
        for (String p : prompts) {
            List<String> expected = tok.tokenize(p).words().stream().map(TokenizedPrompt.Word::text).toList();
            assertEquals(expected, RelationParser.words(p), p);
        }
    }
}
