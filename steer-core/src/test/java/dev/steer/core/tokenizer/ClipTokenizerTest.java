package dev.steer.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.steer.core.testing.Conformance;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Conformance of {@link ClipTokenizer} with HuggingFace's CLIPTokenizer ids
 * ({@code testdata/conformance/clip-tokenizer/golden_token_ids.json}) and the word-position API.
 * The vocabulary is parsed once per tokenizer flavour for the whole class.
 */
class ClipTokenizerTest {
    private static final int BOS = 49406;
    private static final int EOS = 49407;

    @TempDir
    static Path tmp;

    private static ClipTokenizer sd15;
    private static ClipTokenizer sd21;
    private static List<Golden> goldens;

    private record Golden(String prompt, int[] ids, int[] padded) {
    }

    @BeforeAll
    static void load() throws IOException {
        Path fixture = Conformance.dir("clip-tokenizer");
        long t0 = System.nanoTime();
        sd15 = ClipTokenizer.fromFolder(tokenizerFolder("sd15"));
        long t1 = System.nanoTime();
        sd21 = ClipTokenizer.fromFolder(tokenizerFolder("sd21"));
        System.out.printf("ClipTokenizer load: %.1f ms (first), %.1f ms (second)%n",
                (t1 - t0) / 1e6, (System.nanoTime() - t1) / 1e6);

        JsonArray arr = JsonParser.parseString(Files.readString(fixture.resolve("golden_token_ids.json"))).getAsJsonArray();
        goldens = new ArrayList<>();
        for (JsonElement e : arr) {
            JsonObject o = e.getAsJsonObject();
            goldens.add(new Golden(o.get("prompt").getAsString(), ints(o.getAsJsonArray("ids")),
                    ints(o.getAsJsonArray("ids_77_padded_with_eos"))));
        }
    }

    /** A tokenizer folder in the temp dir: the fixture's vocabulary plus the SD flavour's two config files. */
    private static Path tokenizerFolder(String flavour) throws IOException {
        Path fixture = Conformance.dir("clip-tokenizer");
        Path configs = Conformance.testdata().resolve("tokenizers").resolve(flavour);
        Path dir = Files.createDirectories(tmp.resolve(flavour));
        Files.copy(fixture.resolve("vocab.json"), dir.resolve("vocab.json"));
        Files.copy(fixture.resolve("merges.txt"), dir.resolve("merges.txt"));
        Files.copy(configs.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"));
        Files.copy(configs.resolve("special_tokens_map.json"), dir.resolve("special_tokens_map.json"));
        return dir;
    }

    private static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }

    private static TokenizedPrompt prompt(int goldenIndex) {
        return sd15.tokenize(goldens.get(goldenIndex).prompt());
    }

    // ---------------------------------------------------------------------------------- goldens

    @Test
    void goldenFileHasEveryPrompt() {
        assertEquals(11, goldens.size());
    }

    @TestFactory
    Stream<DynamicTest> goldenIdsSd15() {
        return goldens.stream().map(g -> dynamicTest("sd15 \"" + ClipTokenizer.abbreviate(g.prompt(), 40) + "\"", () -> {
            int[] bpe = Arrays.copyOfRange(g.ids(), 1, g.ids().length - 1);
            assertArrayEquals(bpe, sd15.encode(g.prompt()), "encode: " + g.prompt());
            TokenizedPrompt t = sd15.tokenize(g.prompt());
            assertArrayEquals(g.padded(), t.ids(), "ids_77_padded_with_eos: " + g.prompt());
            assertEquals(Math.min(g.ids().length, 77), t.realTokenCount());
            assertEquals(g.ids().length > 77, t.isTruncated());
            assertEquals(Math.max(0, g.ids().length - 77), t.droppedTokenCount());
            assertEquals(EOS, t.ids()[t.eosPosition()]);
            long[] longs = t.idsAsLongs();
            for (int i = 0; i < 77; i++) {
                assertEquals(g.padded()[i], longs[i]);
            }
        }));
    }

    @Test
    void folderWithoutConfigFilesUsesSd1Defaults() {
        // The conformance fixture has only vocab.json and merges.txt.
        ClipTokenizer plain = ClipTokenizer.fromFolder(Conformance.dir("clip-tokenizer"));
        assertEquals(EOS, plain.padTokenId());
        assertEquals(77, plain.maxLength());
        for (Golden g : goldens) {
            assertArrayEquals(g.padded(), plain.tokenize(g.prompt()).ids(), g.prompt());
        }
    }

    @Test
    void specialIdsAndSizes() {
        assertEquals(BOS, sd15.bosTokenId());
        assertEquals(EOS, sd15.eosTokenId());
        assertEquals(EOS, sd15.padTokenId());
        assertEquals(77, sd15.maxLength());
        assertEquals(49408, sd15.vocabSize());
        assertEquals(BOS, sd21.bosTokenId());
        assertEquals(EOS, sd21.eosTokenId());
        assertEquals(77, sd21.maxLength());
        assertEquals(49408, sd21.vocabSize());
    }

    @Test
    void sd2PadsWithExclamationMarkIdZero() {
        assertEquals(0, sd21.padTokenId());
        Golden g = goldens.get(0); // "a photo of a cat"
        int[] expected = new int[77];
        System.arraycopy(g.ids(), 0, expected, 0, g.ids().length);
        assertArrayEquals(expected, sd21.tokenize(g.prompt()).ids());
        // Everything before the padding matches SD 1.x for every prompt without '!'.
        for (Golden gg : goldens) {
            if (!gg.prompt().contains("!")) {
                int[] ids = sd21.tokenize(gg.prompt()).ids();
                int real = Math.min(gg.ids().length, 77);
                assertArrayEquals(Arrays.copyOf(gg.padded(), real), Arrays.copyOf(ids, real), gg.prompt());
                for (int i = real; i < 77; i++) {
                    assertEquals(0, ids[i]);
                }
            }
        }
    }

    @Test
    void sd2SplitsTheExclamationPadTokenLikeHuggingFace() {
        // HuggingFace registers the pad token "!" as a special token and splits it out of the text
        // (diffusers issue #4153 shows [49406, 0, 0, 0, 0, 0, 0, 49407, 0, ...] for this prompt).
        int[] sd2 = sd21.tokenize("! !! !!!").ids();
        int[] expected = new int[77];
        expected[0] = BOS;
        expected[7] = EOS;
        assertArrayEquals(expected, sd2);
        // SD 1.x (and open_clip) BPE-encode them: "!</w>" 256, "!!</w>" 748, "!!!</w>" 995.
        assertArrayEquals(new int[] {256, 748, 995}, sd15.encode("! !! !!!"));
    }

    @Test
    void specialTokensInTheTextMapToTheirIds() {
        assertArrayEquals(new int[] {320, EOS, 2368}, sd15.encode("a<|endoftext|>cat"));
        assertArrayEquals(new int[] {BOS, 320}, sd15.encode("<|startoftext|> a"));
    }

    // ---------------------------------------------------------------------------- word positions

    @Test
    void multiTokenWordPositions() {
        TokenizedPrompt t = prompt(3); // "a red cube to the left of a blue sphere, photorealistic, 4k"
        int[] pos = t.positionsOf("photorealistic");
        assertArrayEquals(new int[] {12, 13}, pos);
        int[] ids = t.ids();
        assertEquals("photorealistic", sd15.decode(new int[] {ids[pos[0]], ids[pos[1]]}));
        TokenizedPrompt.Word w = t.words().get(11);
        assertEquals("photorealistic", w.text());
        assertEquals(2, w.tokenCount());
        assertArrayEquals(new int[] {12, 13}, w.positions());
        assertFalse(w.isTruncated());
        assertArrayEquals(new int[] {15}, t.positionsOf("4"));
        assertArrayEquals(new int[] {16}, t.positionsOf("k"));
        assertArrayEquals(new int[] {11}, t.positionsOf(","));
        assertArrayEquals(new int[] {14}, t.positionsOf(",", 1));
    }

    @Test
    void repeatedWordOccurrences() {
        TokenizedPrompt t = prompt(1); // "a photo of a dog right of a teddy bear"
        assertArrayEquals(new int[] {1}, t.positionsOf("a", 0));
        assertArrayEquals(new int[] {4}, t.positionsOf("a", 1));
        assertArrayEquals(new int[] {8}, t.positionsOf("a", 2));
        assertArrayEquals(new int[] {3}, t.positionsOf("of"));
        assertArrayEquals(new int[] {7}, t.positionsOf("of", 1));
        List<int[]> all = t.allPositionsOf("a");
        assertEquals(3, all.size());
        assertArrayEquals(new int[] {4}, all.get(1));
        assertTrue(t.allPositionsOf("zebra").isEmpty());
    }

    @Test
    void twoWordPhrase() {
        assertArrayEquals(new int[] {9, 10}, prompt(1).positionsOf("teddy bear"));
        TokenizedPrompt t = prompt(8); // "a teddy bear to the right of a dog, and a cup on top of a dining table"
        assertArrayEquals(new int[] {2, 3}, t.positionsOf("teddy bear"));
        int[] dining = t.positionsOf("dining table");
        assertEquals(2, dining.length);
        assertEquals("dining table", sd15.decode(new int[] {t.ids()[dining[0]], t.ids()[dining[1]]}));
        assertArrayEquals(new int[] {9, 10}, t.positionsOf("dog,"));
    }

    @Test
    void caseInsensitive() {
        TokenizedPrompt t = prompt(2); // "A giraffe ABOVE an airplane."
        assertArrayEquals(new int[] {3}, t.positionsOf("above"));
        assertArrayEquals(new int[] {2}, t.positionsOf("GIRAFFE"));
        assertArrayEquals(new int[] {1}, t.positionsOf("a"));
        assertArrayEquals(new int[] {9, 10}, prompt(1).positionsOf("Teddy BEAR"));
        assertEquals("above", t.words().get(2).text());
    }

    @Test
    void wholeWordsOnly() {
        TokenizedPrompt t = prompt(5); // "two dogs and 3 cats don't play   together!!"
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.positionsOf("cat"));
        assertTrue(e.getMessage().contains("\"cat\""), e.getMessage());
        assertArrayEquals(new int[] {5}, t.positionsOf("cats"));
        assertArrayEquals(new int[] {6, 7}, t.positionsOf("don't"));
        assertArrayEquals(new int[] {10}, t.positionsOf("!!"));
        assertThrows(IllegalArgumentException.class, () -> prompt(1).positionsOf("ted"));
    }

    @Test
    void missingWordErrorNamesPhraseAndPrompt() {
        TokenizedPrompt t = prompt(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.positionsOf("zebra"));
        assertTrue(e.getMessage().contains("\"zebra\""), e.getMessage());
        assertTrue(e.getMessage().contains("a photo of a cat"), e.getMessage());
        assertTrue(e.getMessage().contains("not found"), e.getMessage());

        IllegalArgumentException again = assertThrows(IllegalArgumentException.class, () -> t.positionsOf("cat", 1));
        assertTrue(again.getMessage().contains("found 1 time"), again.getMessage());
        assertTrue(again.getMessage().contains("a photo of a cat"), again.getMessage());

        assertThrows(IllegalArgumentException.class, () -> t.positionsOf("   "));
        assertThrows(IllegalArgumentException.class, () -> t.positionsOf("cat", -1));
    }

    @Test
    void truncationKeepsEndTokenLast() {
        Golden g = goldens.get(10);
        TokenizedPrompt t = sd15.tokenize(g.prompt());
        assertEquals(97, g.ids().length);
        assertTrue(t.isTruncated());
        assertEquals(20, t.droppedTokenCount());
        assertEquals(77, t.realTokenCount());
        assertEquals(76, t.eosPosition());
        assertEquals(EOS, t.ids()[76]);
        assertEquals(77, t.length());

        TokenizedPrompt.Word lastWord = t.words().get(t.words().size() - 1);
        assertEquals("prompt", lastWord.text());
        assertTrue(lastWord.isTruncated());
        assertEquals(0, lastWord.positions().length);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.positionsOf("prompt"));
        assertTrue(e.getMessage().contains("truncation"), e.getMessage());
        assertTrue(e.getMessage().contains("\"prompt\""), e.getMessage());
        assertTrue(e.getMessage().contains("a photo of very very"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.positionsOf("long prompt"));

        assertArrayEquals(new int[] {3}, t.positionsOf("of"));
        assertArrayEquals(new int[] {75}, t.positionsOf("very", 71));
        // every kept "very" is listed; the cut-off ones are not
        assertEquals(72, t.allPositionsOf("very").size());
        assertTrue(t.words().stream().filter(w -> w.text().equals("very")).count() > 72);
    }

    @Test
    void phraseMatchesDoNotOverlap() {
        TokenizedPrompt t = sd15.tokenize("very very very");
        assertEquals(1, t.allPositionsOf("very very").size());
        assertArrayEquals(new int[] {1, 2}, t.positionsOf("very very"));
    }

    // ------------------------------------------------------------------------------ text cleanup

    @Test
    void whitespaceAndCaseAreNormalised() {
        assertArrayEquals(sd15.encode("a photo of a cat"), sd15.encode("  A\tPHOTO\n of\u00A0a   Cat \r\n"));
        assertArrayEquals(sd15.encode("a cat"), sd15.encode("a\u200B cat\u0000"));
        assertArrayEquals(new int[0], sd15.encode(""));
        assertArrayEquals(new int[0], sd15.encode(" \t\n "));
    }

    /**
     * Ids from a line-by-line Python port of transformers' CLIPTokenizer (no ftfy) and
     * PreTrainedTokenizer's special-token split, run with the {@code regex} module; the Java
     * tokenizer agreed with it on these and on 300 random strings.
     */
    @Test
    void trickyTextMatchesPythonPort() {
        assertArrayEquals(new int[] {3306, 267, 1002, 748, 585, 568}, sd15.encode("Hello, World!! it's"));
        assertArrayEquals(new int[] {3306, 267, 1002, 0, 0, 585, 568}, sd21.encode("Hello, World!! it's"));
        assertArrayEquals(new int[] {15304, 15304, 1097, 35689, 563}, sd15.encode("caf\u00e9 cafe\u0301 na\u00efve"));
        assertArrayEquals(new int[] {328, 880, 592, 982, 649, 1200, 889, 1342, 797, 1896, 568},
                sd15.encode("I'M YOU'RE WE'VE THEY'LL HE'D 'S"));
        assertArrayEquals(new int[] {343, 49407, 344, 256, 49406}, sd15.encode("x<|endoftext|>y!<|startoftext|>"));
        assertArrayEquals(new int[] {343, 49407, 344, 0, 49406}, sd21.encode("x<|endoftext|>y!<|startoftext|>"));
        assertArrayEquals(new int[] {49407, 7067}, sd15.encode("<|ENDOFTEXT|> upper"));
        assertArrayEquals(new int[] {6121, 272, 273, 274, 275, 276, 149, 352, 149, 353, 158, 227, 375, 33613, 41175},
                sd15.encode("numbers 12345 \u0663\u0664 \u216b \u00bd \u00b2"));
        assertArrayEquals(new int[] {1156, 331, 4229, 331, 3718}, sd15.encode("\u0000nul \ufffd repl \u0007bell"));
        assertArrayEquals(new int[] {14724, 763, 1148, 699, 514, 832, 6459, 4393, 1909, 334},
                sd15.encode("tab\there\u2028line\u2029para\u0085nel\u00a0nbsp\u3000ideo"));
        assertArrayEquals(new int[] {14867, 23571, 683, 5155, 19469}, sd15.encode("zero\u200bwidth\u200d joiner\ufeff bom"));
        assertArrayEquals(new int[] {16327, 35710, 10631, 18966, 18800, 964, 356, 1752, 16223},
                sd15.encode("emoji \ud83d\udc31\ud83d\udc36 \ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67 \u2764\ufe0f \ud83c\uddeb\ud83c\uddf7"));
        assertArrayEquals(new int[] {27667, 365, 21078, 361, 34941, 2429, 107, 30391, 37156, 19277, 361, 34002, 508, 2429, 228,
            47121, 32421, 486, 162, 120, 351, 35751, 501},
                sd15.encode("\u6771\u4eac\u30bf\u30ef\u30fc \u65e5\u672c\u8a9e\u30c6\u30ad\u30b9\u30c8 \u6f22\u5b57"));
        assertArrayEquals(new int[] {328, 16384, 11231, 139, 225, 138, 109, 139, 480, 138, 123, 138, 112, 138, 123, 139, 480,
            139, 225, 138, 109, 139, 480},
                sd15.encode("\u0130stanbul \u03a3\u0391\u03a3 \u039f\u0394\u039f\u03a3 \u03c3\u03b1\u03c2"));
        assertArrayEquals(new int[] {1894, 127, 253, 324, 1894, 8938}, sd15.encode("Stra\u00dfe STRASSE"));
        assertArrayEquals(new int[] {46594, 6, 8445}, sd15.encode("'''''"));
        // U+0345 matches none of the pattern's classes in Python's case-insensitive regex: skipped.
        assertArrayEquals(new int[] {320, 88, 3057}, sd15.encode("a\u0345 ypo"));
        assertArrayEquals(sd15.encode("a b"), sd15.encode("a\u0345b"));
        assertArrayEquals(new int[] {3306, 0, 1002, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, sd21.encode("hello!world ! !! !!! !!!!"));
        assertArrayEquals(new int[] {3306, 256, 1002, 256, 748, 995, 2360}, sd15.encode("hello!world ! !! !!! !!!!"));
    }

    @Test
    void decodeRoundTrips() {
        assertEquals("a photo of a cat", sd15.decode(sd15.encode("A photo of a cat")));
        assertEquals("the quick brown fox jumps over the lazy dog 's back ; it 's café time",
                sd15.decode(sd15.encode(goldens.get(6).prompt())));
        String padded = sd15.decode(sd15.tokenize("a cat").ids());
        assertTrue(padded.startsWith("<|startoftext|>a cat <|endoftext|><|endoftext|>"), padded);
        assertEquals("a <unk:99999999>", sd15.decode(new int[] {320, 99999999}));
    }

    @Test
    void multiByteCharactersUseByteLevelBpe() {
        // Every id is valid and the text survives the round trip, whatever the script.
        for (String s : new String[] {"東京 タワー", "ελληνικά", "🐱 cat", "naïve façade"}) {
            int[] ids = sd15.encode(s);
            assertTrue(ids.length > 0, s);
            for (int id : ids) {
                assertTrue(id >= 0 && id < 49406, s + " -> " + id);
            }
            assertEquals(String.join(" ", s.split(" ")).replace(" ", ""), sd15.decode(ids).replace(" ", ""), s);
        }
    }
}
