package dev.steer.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loader behaviour of {@link ClipTokenizer#fromFolder}, on tiny hand-written vocabularies. */
class ClipTokenizerLoadingTest {
    /** A toy vocabulary: single letters, "ca", "cat</w>", the special tokens and "!". */
    private static final String VOCAB = "{\"!\": 0, \"a\": 1, \"c\": 2, \"t\": 3, \"a</w>\": 4, \"c</w>\": 5,"
            + " \"t</w>\": 6, \"ca\": 7, \"cat</w>\": 8, \"!</w>\": 9,"
            + " \"<|startoftext|>\": 10, \"<|endoftext|>\": 11}";
    private static final String MERGES = "#version: 0.2\nc a\nca t</w>\n";

    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    private TokenizerFormatException fails() {
        return assertThrows(TokenizerFormatException.class, () -> ClipTokenizer.fromFolder(dir));
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
        }
    }

    @Test
    void toyVocabularyWorks() throws IOException {
        write("vocab.json", VOCAB);
        write("merges.txt", MERGES);
        write("tokenizer_config.json", "{\"model_max_length\": 6, \"pad_token\": {\"content\": \"!\", \"special\": true}}");
        ClipTokenizer t = ClipTokenizer.fromFolder(dir);
        assertEquals(12, t.vocabSize());
        assertEquals(6, t.maxLength());
        assertEquals(0, t.padTokenId());
        assertEquals(10, t.bosTokenId());
        assertEquals(11, t.eosTokenId());
        assertArrayEquals(new int[] {8, 4}, t.encode("CAT a"));
        assertArrayEquals(new int[] {10, 8, 8, 8, 8, 11}, t.tokenize("cat cat cat cat cat").ids());
        assertArrayEquals(new int[] {10, 8, 11, 0, 0, 0}, t.tokenize("cat").ids());
        // "tac": no merge applies; unknown pieces fall back to the unk token (<|endoftext|>).
        assertArrayEquals(new int[] {3, 1, 5}, t.encode("tac"));
        assertArrayEquals(new int[] {11}, t.encode("x"));
    }

    @Test
    void specialTokensMapOverridesTokenizerConfig() throws IOException {
        write("vocab.json", VOCAB);
        write("merges.txt", MERGES);
        write("tokenizer_config.json", "{\"pad_token\": \"!\"}");
        write("special_tokens_map.json", "{\"pad_token\": \"<|endoftext|>\"}");
        assertEquals(11, ClipTokenizer.fromFolder(dir).padTokenId());
    }

    @Test
    void hfUnsetMaxLengthMeans77() throws IOException {
        write("vocab.json", VOCAB);
        write("merges.txt", MERGES);
        write("tokenizer_config.json", "{\"model_max_length\": 1000000000000000019884624838656}");
        assertEquals(77, ClipTokenizer.fromFolder(dir).maxLength());
    }

    @Test
    void missingFolder() {
        Path nowhere = dir.resolve("no-such-tokenizer");
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> ClipTokenizer.fromFolder(nowhere));
        assertMentions(e, "no-such-tokenizer", "not found");
    }

    @Test
    void missingVocabFileIsNamed() throws IOException {
        write("merges.txt", MERGES);
        assertMentions(fails(), "vocab.json", "file not found");
    }

    @Test
    void missingMergesFileIsNamed() throws IOException {
        write("vocab.json", VOCAB);
        assertMentions(fails(), "merges.txt", "file not found");
    }

    @Test
    void malformedVocabJson() throws IOException {
        write("vocab.json", "{\"a\": 1, \"b\": }");
        write("merges.txt", MERGES);
        assertMentions(fails(), "vocab.json", "malformed");
    }

    @Test
    void vocabWithNonIntegerId() throws IOException {
        write("vocab.json", "{\"a\": \"one\"}");
        write("merges.txt", MERGES);
        assertMentions(fails(), "vocab.json", "'a'");
    }

    @Test
    void vocabThatIsNotAnObject() throws IOException {
        write("vocab.json", "[1, 2]");
        write("merges.txt", MERGES);
        assertMentions(fails(), "vocab.json", "malformed");
    }

    @Test
    void malformedTokenizerConfig() throws IOException {
        write("vocab.json", VOCAB);
        write("merges.txt", MERGES);
        write("tokenizer_config.json", "{\"pad_token\": !}");
        assertMentions(fails(), "tokenizer_config.json", "malformed JSON");
    }

    @Test
    void malformedSpecialTokensMap() throws IOException {
        write("vocab.json", VOCAB);
        write("merges.txt", MERGES);
        write("special_tokens_map.json", "{\"pad_token\": 5}");
        assertMentions(fails(), "special_tokens_map.json", "pad_token");
    }

    @Test
    void padTokenMissingFromVocabulary() throws IOException {
        write("vocab.json", VOCAB);
        write("merges.txt", MERGES);
        write("special_tokens_map.json", "{\"pad_token\": \"<pad>\"}");
        assertMentions(fails(), "vocab.json", "pad_token", "<pad>");
    }

    @Test
    void mergesWithoutVersionHeader() throws IOException {
        write("vocab.json", VOCAB);
        write("merges.txt", "c a\nca t</w>\n");
        assertMentions(fails(), "merges.txt", "#version");
    }

    @Test
    void notUtf8() throws IOException {
        Files.write(dir.resolve("vocab.json"), new byte[] {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'});
        write("merges.txt", MERGES);
        assertMentions(fails(), "vocab.json", "UTF-8");
    }

    @Test
    void oversizedVocabIsRefusedWithoutReadingIt() throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(dir.resolve("vocab.json").toFile(), "rw")) {
            f.setLength(ClipTokenizer.MAX_VOCAB_BYTES + 1); // sparse: costs no disk
        }
        write("merges.txt", MERGES);
        assertMentions(fails(), "vocab.json", "limit");
    }

    @Test
    void fileInsteadOfFolder() throws IOException {
        Path file = write("vocab.json", VOCAB);
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> ClipTokenizer.fromFolder(file));
        assertMentions(e, "vocab.json", "not a folder");
    }
}
