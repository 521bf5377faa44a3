package dev.steer.core.tokenizer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The T5 SentencePiece (Unigram) tokenizer of FLUX.1's second text encoder, read from a HuggingFace
 * {@code tokenizer.json} ({@code tokenizer_2/tokenizer.json} in a FLUX.1 folder) and run by the
 * HuggingFace {@code tokenizers} library through DJL, so ids are those of transformers'
 * {@code T5TokenizerFast}.
 *
 * <p>{@link #tokenize} does what FluxPipeline does ({@code padding="max_length",
 * max_length=max_sequence_length, truncation=True}): no start token, the prompt's pieces, the end
 * token {@code </s>} (the token the file's post-processor appends; id 1 in T5), then the pad id
 * ({@code <pad>}, 0) up to {@link #maxLength()}. A prompt with more than {@code maxLength() - 1}
 * pieces is cut, keeping {@code </s>} last, and a warning naming the limit is logged through
 * SLF4J logger {@code dev.steer.core.tokenizer.T5Tokenizer}; the {@link TokenizedPrompt}
 * then reports the dropped tokens and the words cut off, as for CLIP.
 *
 * <p>Words are cut as for CLIP and {@code RelationParser} (lower-cased letter runs, single digits,
 * punctuation runs, "'s"-style suffixes), so steering binds a relation's words the same way for
 * both encoders. Each word gets every piece whose character span in the prompt overlaps it, taken
 * from the tokenizer's own offsets: "teddy" may be {@code "▁ted", "dy"}; "dog," is the words "dog"
 * ({@code "▁dog"}) and "," ({@code ","}). A word no piece covers (a character the normalizer
 * removes) is left out of {@link TokenizedPrompt#words()}.
 *
 * <p>Holds a native tokenizer: close it when done. Encoding is thread-safe.
 */
public final class T5Tokenizer implements AutoCloseable {
    /** FluxPipeline's {@code max_sequence_length} for FLUX.1-schnell. */
    public static final int FLUX_SCHNELL_MAX_LENGTH = 256;
    /** FluxPipeline's {@code max_sequence_length} for FLUX.1-dev (its default). */
    public static final int FLUX_DEV_MAX_LENGTH = 512;
    /** {@code tokenizer.json} files larger than this are refused (T5's is about 2.4 MB). */
    public static final long MAX_TOKENIZER_BYTES = 64L << 20;
    /** The pad token's text in T5 tokenizers. */
    public static final String PAD_TOKEN = "<pad>";

    private static final Logger LOG = LoggerFactory.getLogger(T5Tokenizer.class);

    /** Words as RelationParser and the CLIP pre-tokenizer cut them (see ClipTokenizer.WORD_PATTERN). */
    private static final Pattern WORD = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d|\\p{IsIdeographic}|[\\p{L}&&[^\\p{IsIdeographic}]]+|\\p{N}"
                    + "|[^\\s\\p{Zs}\\p{Cc}\\p{Cf}\\x{FFFD}\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);

    private final Path source;
    private final HuggingFaceTokenizer tokenizer;
    private final int maxLength;
    private final int eosId;
    private final int padId;

    private T5Tokenizer(Path source, HuggingFaceTokenizer tokenizer, int maxLength, int eosId, int padId) {
        this.source = source;
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
        this.eosId = eosId;
        this.padId = padId;
    }

    /**
     * Loads the T5 tokenizer of a FLUX.1 model folder: {@code <modelFolder>/tokenizer_2/tokenizer.json}.
     *
     * @param modelFolder the folder holding {@code tokenizer_2/}
     * @param maxLength the padded length, {@link #FLUX_SCHNELL_MAX_LENGTH} or {@link #FLUX_DEV_MAX_LENGTH}
     * @throws TokenizerFormatException naming the file when it is missing or not a usable T5 tokenizer
     */
    public static T5Tokenizer fromFolder(Path modelFolder, int maxLength) {
        Objects.requireNonNull(modelFolder, "modelFolder");
        Path dir = modelFolder.toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            throw new TokenizerFormatException(dir, "model folder not found (expected a folder holding tokenizer_2/tokenizer.json)");
        }
        return fromFile(dir.resolve("tokenizer_2").resolve("tokenizer.json"), maxLength);
    }

    /**
     * Loads a T5 tokenizer from a {@code tokenizer.json} file.
     *
     * @param tokenizerJson the file
     * @param maxLength the padded length (at least 2: one piece and {@code </s>})
     * @throws TokenizerFormatException naming the file when it is missing, too large, not UTF-8 or
     *     JSON, not a Unigram tokenizer, lacks {@code <pad>}, or its post-processor does not append
     *     exactly one end token
     */
    public static T5Tokenizer fromFile(Path tokenizerJson, int maxLength) {
        Objects.requireNonNull(tokenizerJson, "tokenizerJson");
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be at least 2 (one piece and </s>), not " + maxLength);
        }
        Path file = tokenizerJson.toAbsolutePath().normalize();
        String text = ClipTokenizer.readBounded(file, MAX_TOKENIZER_BYTES);
        JsonObject root = parseObject(file, text);
        JsonElement model = root.get("model");
        if (model == null || !model.isJsonObject()) {
            throw new TokenizerFormatException(file, "has no 'model' object: not a HuggingFace tokenizer.json");
        }
        JsonElement type = model.getAsJsonObject().get("type");
        String modelType = type != null && type.isJsonPrimitive() ? type.getAsString() : String.valueOf(type);
        if (!"Unigram".equals(modelType)) {
            throw new TokenizerFormatException(file, "model type is " + modelType
                    + ", not Unigram: not a T5 (SentencePiece) tokenizer");
        }
        int padId = addedTokenId(file, root, PAD_TOKEN);
        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)),
                    Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"));
        } catch (IOException | RuntimeException e) {
            throw new TokenizerFormatException(file, "the tokenizers library cannot read it: " + e.getMessage(), e);
        }
        try {
            Encoding empty = hf.encode("", true, false);
            long[] ids = empty.getIds();
            if (ids.length != 1) {
                throw new TokenizerFormatException(file, "its post_processor adds " + Arrays.toString(empty.getTokens())
                        + " to a text; a T5 tokenizer appends exactly one end token </s>");
            }
            return new T5Tokenizer(file, hf, maxLength, Math.toIntExact(ids[0]), padId);
        } catch (RuntimeException e) {
            hf.close();
            throw e;
        }
    }

    /** The id of an added token (T5 declares {@code <pad>}, {@code </s>} and {@code <unk>} there). */
    private static int addedTokenId(Path file, JsonObject root, String content) {
        JsonElement added = root.get("added_tokens");
        if (added != null && added.isJsonArray()) {
            for (JsonElement e : added.getAsJsonArray()) {
                if (e.isJsonObject()) {
                    JsonObject o = e.getAsJsonObject();
                    JsonElement c = o.get("content");
                    JsonElement id = o.get("id");
                    if (c != null && c.isJsonPrimitive() && content.equals(c.getAsString()) && id != null && id.isJsonPrimitive()
                            && id.getAsJsonPrimitive().isNumber()) {
                        int v = id.getAsInt();
                        if (v < 0) {
                            throw new TokenizerFormatException(file, "added token '" + content + "' has negative id " + v);
                        }
                        return v;
                    }
                }
            }
        }
        throw new TokenizerFormatException(file, "has no added token '" + content + "' (T5 pads with it)");
    }

    private static JsonObject parseObject(Path file, String text) {
        try {
            JsonReader reader = new JsonReader(new StringReader(text));
            reader.setStrictness(Strictness.STRICT);
            JsonElement root = JsonParser.parseReader(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new TokenizerFormatException(file, "malformed JSON: trailing content after the top-level value");
            }
            if (!root.isJsonObject()) {
                throw new TokenizerFormatException(file, "malformed JSON: the top level is not an object");
            }
            return root.getAsJsonObject();
        } catch (JsonParseException | IOException | IllegalStateException e) {
            throw new TokenizerFormatException(file, "malformed JSON: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Encoding

    /** The piece ids of {@code text}, without {@code </s>}, padding or truncation. */
    public int[] encode(String text) {
        Objects.requireNonNull(text, "text");
        long[] ids = tokenizer.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    /**
     * Tokenizes a prompt as FluxPipeline does: pieces, {@code </s>}, pad ids up to {@link #maxLength()},
     * truncated to {@code maxLength() - 1} pieces (logging a warning) when longer. The result records
     * the words and the positions of all their pieces.
     */
    public TokenizedPrompt tokenize(String prompt) {
        Objects.requireNonNull(prompt, "prompt");
        Encoding enc = tokenizer.encode(prompt, false, false);
        long[] pieceIds = enc.getIds();
        int[][] spans = javaSpans(prompt, enc.getCharTokenSpans());
        int keep = maxLength - 1;
        int kept = Math.min(pieceIds.length, keep);
        int[] ids = new int[maxLength];
        Arrays.fill(ids, padId);
        for (int i = 0; i < kept; i++) {
            ids[i] = Math.toIntExact(pieceIds[i]);
        }
        ids[kept] = eosId;
        List<TokenizedPrompt.Word> words = new ArrayList<>();
        Matcher m = WORD.matcher(prompt);
        while (m.find()) {
            int first = -1;
            int last = -1;
            for (int t = 0; t < spans.length; t++) {
                if (overlaps(spans[t], m.start(), m.end())) {
                    if (first < 0) {
                        first = t;
                    }
                    last = t;
                }
            }
            if (first >= 0) {
                words.add(new TokenizedPrompt.Word(words.size(), m.group().toLowerCase(Locale.ROOT), first, last - first + 1,
                        keep - 1));
            }
        }
        int dropped = pieceIds.length - kept;
        if (dropped > 0) {
            List<String> cut = new ArrayList<>();
            for (TokenizedPrompt.Word w : words) {
                if (w.isTruncated()) {
                    cut.add(w.text());
                }
            }
            LOG.warn("T5 prompt truncated to max_length {} tokens ({} pieces and </s>): dropped {} of {} pieces; words cut off: {}",
                    maxLength, keep, dropped, pieceIds.length, ClipTokenizer.abbreviate(String.join(" ", cut), 200));
        }
        return new TokenizedPrompt(this::words, keep, prompt, ids, kept + 1, dropped, words);
    }

    /** A token's span covers part of [start, end); an empty span counts when it lies inside. */
    private static boolean overlaps(int[] span, int start, int end) {
        if (span[0] == span[1]) {
            return span[0] >= start && span[0] < end;
        }
        return span[0] < end && span[1] > start;
    }

    /** Token spans in the tokenizers library's character (code point) offsets, as Java string indices. */
    private static int[][] javaSpans(String text, CharSpan[] spans) {
        int codePoints = text.codePointCount(0, text.length());
        int[][] out = new int[spans.length][];
        for (int i = 0; i < spans.length; i++) {
            CharSpan s = spans[i];
            if (s == null) {
                out[i] = new int[] {-1, -1};
                continue;
            }
            int a = Math.max(0, Math.min(s.getStart(), codePoints));
            int b = Math.max(a, Math.min(s.getEnd(), codePoints));
            out[i] = new int[] {text.offsetByCodePoints(0, a), text.offsetByCodePoints(0, b)};
        }
        return out;
    }

    /** The words of {@code text}, cut and lower-cased as {@link #tokenize} cuts a prompt. */
    List<String> words(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = WORD.matcher(text);
        while (m.find()) {
            out.add(m.group().toLowerCase(Locale.ROOT));
        }
        return out;
    }

    /** Text of ids (special tokens skipped). */
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            l[i] = ids[i];
        }
        return tokenizer.decode(l, true);
    }

    /** The end token's id ({@code </s>}: 1 in T5). */
    public int eosTokenId() {
        return eosId;
    }

    /** The pad token's id ({@code <pad>}: 0 in T5). */
    public int padTokenId() {
        return padId;
    }

    /** The padded length of {@link #tokenize} results. */
    public int maxLength() {
        return maxLength;
    }

    /** The {@code tokenizer.json} this was loaded from. */
    public Path source() {
        return source;
    }

    /** Releases the native tokenizer. */
    @Override
    public void close() {
        tokenizer.close();
    }

    @Override
    public String toString() {
        return "T5Tokenizer[" + source + ", maxLength " + maxLength + "]";
    }
}
