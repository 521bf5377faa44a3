package dev.steer.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.relation.RelationParser;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.testing.Conformance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link T5Tokenizer} on {@code testdata/tokenizers/t5-test/tokenizer.json}, a small T5-style
 * Unigram tokenizer (Metaspace pre-tokenizer, {@code <pad>} 0, {@code </s>} 1, {@code <unk>} 2, a
 * TemplateProcessing post-processor appending {@code </s>}) whose vocabulary splits "teddy" into
 * {@code "▁ted", "dy"}: ids, padding, word positions, truncation, and refusal of bad files.
 */
class T5TokenizerTest {
    // ▁a=4 ▁photo=5 ▁of=6 ▁dog=7 ▁to=9 ▁the=10 ▁left=11 ▁ted=15 dy=16 ▁bear=17
    private static final String PROMPT = "a photo of a dog to the left of a teddy bear";
    private static final int[] PIECES = {4, 5, 6, 4, 7, 9, 10, 11, 6, 4, 15, 16, 17};

    private static Path json;
    private static T5Tokenizer tok;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        json = Conformance.testdata().resolve("tokenizers/t5-test/tokenizer.json");
        tok = T5Tokenizer.fromFile(json, 20);
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    @Test
    void idsArePiecesThenEndTokenThenPadWithoutStartToken() {
        assertEquals(1, tok.eosTokenId());
        assertEquals(0, tok.padTokenId());
        assertArrayEquals(PIECES, tok.encode(PROMPT));
        TokenizedPrompt tp = tok.tokenize(PROMPT);
        int[] expected = new int[20];
        System.arraycopy(PIECES, 0, expected, 0, PIECES.length);
        expected[PIECES.length] = 1; // </s>, then <pad> = 0
        assertArrayEquals(expected, tp.ids());
        assertEquals(20, tp.length());
        assertEquals(14, tp.realTokenCount());
        assertEquals(13, tp.eosPosition());
        assertFalse(tp.isTruncated());
        assertEquals(0, tp.droppedTokenCount());
    }

    @Test
    void everyWordMapsToAllItsPiecePositions() {
        TokenizedPrompt tp = tok.tokenize(PROMPT);
        assertEquals(12, tp.words().size());
        assertArrayEquals(new int[] {0}, tp.positionsOf("a"));
        assertArrayEquals(new int[] {4}, tp.positionsOf("dog"));
        assertArrayEquals(new int[] {10, 11}, tp.positionsOf("teddy"), "teddy = ▁ted + dy");
        assertArrayEquals(new int[] {10, 11, 12}, tp.positionsOf("Teddy bear"));
        assertArrayEquals(new int[] {9}, tp.positionsOf("a", 2));
        TokenizedPrompt.Word teddy = tp.words().get(10);
        assertEquals("teddy", teddy.text());
        assertEquals(2, teddy.tokenCount());
    }

    @Test
    void wordsAreCutLikeTheRelationParserWithPunctuationApartAndLowerCased() {
        // ▁a=4 ▁dog=7 ,=20 ▁left=11 ▁of=6 ▁a=4 ▁T=47 <unk>(EDDY)=2 ▁bear=17 .=21
        TokenizedPrompt tp = tok.tokenize("a dog, left of  a  TEDDY bear.");
        assertArrayEquals(new int[] {4, 7, 20, 11, 6, 4, 47, 2, 17, 21, 1, 0}, java.util.Arrays.copyOf(tp.ids(), 12));
        List<String> words = new ArrayList<>();
        for (TokenizedPrompt.Word w : tp.words()) {
            words.add(w.text());
        }
        assertEquals(List.of("a", "dog", ",", "left", "of", "a", "teddy", "bear", "."), words);
        assertArrayEquals(new int[] {1}, tp.positionsOf("dog"));
        assertArrayEquals(new int[] {2}, tp.positionsOf(","));
        assertArrayEquals(new int[] {6, 7}, tp.positionsOf("teddy"));
        assertArrayEquals(new int[] {9}, tp.positionsOf("."));
        // offsets are counted in code points: a character outside the BMP before a word does not shift it
        TokenizedPrompt emoji = tok.tokenize("\uD83D\uDE00 a dog");
        assertArrayEquals(new int[] {3}, emoji.positionsOf("dog"));
    }

    @Test
    void relationTripletsBindToT5PositionsUnchanged() {
        TokenizedPrompt tp = tok.tokenize(PROMPT);
        List<RelationTriplet> triplets = RelationParser.standard().parseRequired(PROMPT);
        assertEquals(List.of(RelationTriplet.of("dog", SpatialRelation.LEFT_OF, "teddy bear")), triplets);
        TokenBinding b = TokenBinding.bind(tp, triplets.get(0));
        assertArrayEquals(new int[] {4}, b.subjectPositions());
        assertArrayEquals(new int[] {10, 11, 12}, b.objectPositions());
    }

    @Test
    void longPromptIsTruncatedKeepingEndTokenLastWithWarningNamingTheLimit() {
        List<LogRecord> records = new ArrayList<>();
        Logger jul = Logger.getLogger(T5Tokenizer.class.getName());
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jul.addHandler(h);
        try (T5Tokenizer small = T5Tokenizer.fromFile(json, 12)) {
            TokenizedPrompt tp = small.tokenize(PROMPT);
            // 11 pieces fit: ... ▁a(9) ▁ted(10), then </s>; dy and ▁bear are dropped
            assertArrayEquals(new int[] {4, 5, 6, 4, 7, 9, 10, 11, 6, 4, 15, 1}, tp.ids());
            assertTrue(tp.isTruncated());
            assertEquals(2, tp.droppedTokenCount());
            assertEquals(12, tp.realTokenCount());
            TokenizedPrompt.Word teddy = tp.words().get(10);
            assertTrue(teddy.isTruncated());
            assertArrayEquals(new int[] {10}, teddy.positions(), "only the kept piece");
            assertTrue(tp.words().get(11).isTruncated());
            assertFalse(tp.words().get(9).isTruncated());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tp.positionsOf("teddy bear"));
            assertTrue(e.getMessage().contains("truncation") && e.getMessage().contains("11 prompt tokens fit"), e.getMessage());
            assertEquals(1, records.size(), "one warning");
            assertEquals(java.util.logging.Level.WARNING, records.get(0).getLevel());
            String msg = records.get(0).getMessage();
            assertTrue(msg.contains("max_length 12") && msg.contains("teddy bear"), msg);

            records.clear();
            try (T5Tokenizer exact = T5Tokenizer.fromFile(json, 14)) {
                TokenizedPrompt fits = exact.tokenize(PROMPT);
                assertFalse(fits.isTruncated());
                assertEquals(1, fits.ids()[13]);
            }
            assertTrue(records.isEmpty(), "no warning when the prompt fits");
        } finally {
            jul.removeHandler(h);
        }
    }

    @Test
    void fromFolderReadsFluxTokenizer2Layout() throws IOException {
        Files.createDirectories(tmp.resolve("tokenizer_2"));
        Files.copy(json, tmp.resolve("tokenizer_2/tokenizer.json"));
        try (T5Tokenizer t = T5Tokenizer.fromFolder(tmp, T5Tokenizer.FLUX_SCHNELL_MAX_LENGTH)) {
            TokenizedPrompt tp = t.tokenize(PROMPT);
            assertEquals(256, tp.length());
            assertArrayEquals(PIECES, java.util.Arrays.copyOf(tp.ids(), PIECES.length));
        }
    }

    @Test
    void missingFileIsNamed() {
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> T5Tokenizer.fromFolder(tmp, 256));
        assertTrue(e.getMessage().contains("tokenizer_2") && e.getMessage().contains("tokenizer.json")
                && e.getMessage().contains("file not found"), e.getMessage());
    }

    @Test
    void garbledOrForeignFilesAreRefusedNamingTheFile() throws IOException {
        Path bad = tmp.resolve("tokenizer.json");
        Files.writeString(bad, "{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"<pad>\", 0.0]");
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> T5Tokenizer.fromFile(bad, 16));
        assertTrue(e.getMessage().startsWith(bad.toString()) && e.getMessage().contains("malformed JSON"), e.getMessage());

        Files.writeString(bad, "{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}");
        e = assertThrows(TokenizerFormatException.class, () -> T5Tokenizer.fromFile(bad, 16));
        assertTrue(e.getMessage().contains("BPE") && e.getMessage().contains("not Unigram"), e.getMessage());

        Files.writeString(bad, Files.readString(json).replace("\"<pad>\"", "\"<blank>\""));
        e = assertThrows(TokenizerFormatException.class, () -> T5Tokenizer.fromFile(bad, 16));
        assertTrue(e.getMessage().contains("<pad>"), e.getMessage());

        Files.writeString(bad, "{\"added_tokens\": [{\"id\": 0, \"content\": \"<pad>\"}], \"model\": {\"type\": \"Unigram\", \"vocab\": 7}}");
        e = assertThrows(TokenizerFormatException.class, () -> T5Tokenizer.fromFile(bad, 16));
        assertTrue(e.getMessage().startsWith(bad.toString()) && e.getMessage().contains("cannot read"), e.getMessage());

        Files.write(bad, new byte[] {'{', (byte) 0xC3, '}'});
        e = assertThrows(TokenizerFormatException.class, () -> T5Tokenizer.fromFile(bad, 16));
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    }

    @Test
    void tokenizerWithoutEndTokenTemplateIsRefused() throws IOException {
        Path noTemplate = tmp.resolve("tokenizer.json");
        com.google.gson.JsonObject o = com.google.gson.JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        o.add("post_processor", com.google.gson.JsonNull.INSTANCE);
        Files.writeString(noTemplate, o.toString());
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> T5Tokenizer.fromFile(noTemplate, 16));
        assertTrue(e.getMessage().contains("post_processor") && e.getMessage().contains("</s>"), e.getMessage());
    }
}
