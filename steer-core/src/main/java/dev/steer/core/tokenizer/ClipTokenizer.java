package dev.steer.core.tokenizer;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CLIP byte-level BPE tokenizer of Stable Diffusion's text encoders, reproducing the ids of
 * HuggingFace's slow {@code CLIPTokenizer} (the one diffusers' pipelines use) when {@code ftfy} is
 * not installed:
 * <ol>
 *   <li>special and added tokens ({@code <|startoftext|>}, {@code <|endoftext|>}, the pad token,
 *       {@code added_tokens_decoder} entries) are split out of the text first, case-sensitively and
 *       leftmost-longest, and map straight to their ids;</li>
 *   <li>each remaining chunk is cleaned like BERT's {@code BasicTokenizer} without accent stripping
 *       or punctuation splitting: NUL, U+FFFD and control/format characters dropped, whitespace
 *       unified, CJK ideographs spaced apart, NFC, split on whitespace, lower-cased;</li>
 *   <li>the pre-tokenizer regex {@code <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|
 *       [\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+} (case-insensitive) cuts words;</li>
 *   <li>each word's UTF-8 bytes are mapped to printable characters (GPT-2's bytes-to-unicode), its
 *       last symbol gets the {@code </w>} suffix and {@code merges.txt} ranks merge it.</li>
 * </ol>
 *
 * <p>Consequence worth knowing (it is HuggingFace's behaviour, see diffusers issue #4153): SD 2.x
 * folders declare {@code "!"} as pad token, so every {@code !} in a prompt becomes the pad id 0 on
 * its own, where SD 1.x folders give BPE tokens such as {@code !!</w>} (748).
 *
 * <p>Character classes come from the running JVM's Unicode tables (Unicode 13 on Java 17), so a
 * character assigned in a later Unicode version, which Python may know, is dropped here as
 * unassigned. Checked against a Python port of the reference on every code point assigned in both.
 *
 * <p>Instances are immutable and thread-safe; the word-to-BPE cache is concurrent and bounded.
 */
public final class ClipTokenizer {
    /** The start-of-text token, id 49406 in the CLIP vocabulary. */
    public static final String START_OF_TEXT = "<|startoftext|>";
    /** The end-of-text token, id 49407 in the CLIP vocabulary. */
    public static final String END_OF_TEXT = "<|endoftext|>";
    /** Sequence length used when {@code tokenizer_config.json} gives none (CLIP's 77 positions). */
    public static final int DEFAULT_MAX_LENGTH = 77;
    /** Largest {@code vocab.json} accepted, in bytes (the CLIP one is about 1 MB). */
    public static final long MAX_VOCAB_BYTES = 50L * 1024 * 1024;
    /** Largest {@code merges.txt} accepted, in bytes (the CLIP one is about 0.5 MB). */
    public static final long MAX_MERGES_BYTES = 50L * 1024 * 1024;
    /** Largest {@code tokenizer_config.json} / {@code special_tokens_map.json} accepted, in bytes. */
    public static final long MAX_CONFIG_BYTES = 1024L * 1024;

    /** HuggingFace reads at most this many merges (lines 1 .. 49152-256-2 of merges.txt). */
    static final int MAX_MERGES = 49152 - 256 - 2;
    private static final int CACHE_LIMIT = 50_000;
    private static final String END_OF_WORD = "</w>";
    /** model_max_length values above this are HuggingFace's "unset" sentinel (int(1e30)). */
    private static final double UNSET_MAX_LENGTH = 1e9;

    private static final Pattern WORD_PATTERN = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d"
                    + "|[\\p{L}]+|[\\p{N}]|[^\\p{IsWhite_Space}\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private final Path source;
    private final Map<String, Integer> encoder;
    private final Map<Integer, String> decoder;
    private final Map<String, Integer> bpeRanks;
    /** Tokens split out before BPE, longest first. */
    private final List<String> splitTokens;
    private final Map<String, Integer> splitTokenIds;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final int unkId;
    private final int maxLength;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    private ClipTokenizer(Path source, Map<String, Integer> encoder, Map<String, Integer> bpeRanks, Settings s) {
        this.source = source;
        this.encoder = encoder;
        this.bpeRanks = bpeRanks;
        this.maxLength = s.maxLength;

        Map<Integer, String> dec = new HashMap<>(encoder.size() * 2);
        for (Map.Entry<String, Integer> e : encoder.entrySet()) {
            dec.put(e.getValue(), e.getKey());
        }
        Map<String, Integer> split = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : s.addedTokens.entrySet()) {
            split.put(e.getKey(), e.getValue());
            dec.put(e.getValue(), e.getKey());
        }
        Path vocabFile = source.resolve("vocab.json");
        this.bosId = resolve(vocabFile, "bos_token", s.bos, split);
        this.eosId = resolve(vocabFile, "eos_token", s.eos, split);
        this.unkId = resolve(vocabFile, "unk_token", s.unk, split);
        this.padId = resolve(vocabFile, "pad_token", s.pad, split);
        for (String extra : s.additionalSpecial) {
            resolve(vocabFile, "additional_special_tokens", extra, split);
        }
        this.decoder = dec;
        this.splitTokenIds = Collections.unmodifiableMap(split);
        List<String> byLength = new ArrayList<>(split.keySet());
        byLength.removeIf(String::isEmpty);
        byLength.sort((a, b) -> Integer.compare(b.length(), a.length()));
        this.splitTokens = List.copyOf(byLength);
    }

    /** Looks a special token up (added tokens first, as HuggingFace does) and registers it for splitting. */
    private int resolve(Path vocabFile, String key, String token, Map<String, Integer> split) {
        Integer id = split.get(token);
        if (id == null) {
            id = encoder.get(token);
        }
        if (id == null) {
            throw new TokenizerFormatException(vocabFile, "has no entry for the " + key + " '" + token + "'");
        }
        split.putIfAbsent(token, id);
        return id;
    }

    // ------------------------------------------------------------------------------------------
    // Loading

    /**
     * Loads the tokenizer of a diffusers model folder's {@code tokenizer/} (or {@code tokenizer_2/})
     * subfolder: {@code vocab.json} and {@code merges.txt} are required; {@code tokenizer_config.json}
     * and then {@code special_tokens_map.json} (which wins, as in HuggingFace) are read when present
     * for {@code bos_token}, {@code eos_token}, {@code unk_token}, {@code pad_token},
     * {@code additional_special_tokens}, {@code model_max_length} and {@code added_tokens_decoder}.
     * Without them the {@code CLIPTokenizer} defaults apply, which are SD 1.x's: pad with
     * {@code <|endoftext|>}, 77 positions.
     *
     * <p>The first line of {@code merges.txt} is the {@code #version} header and is skipped; at most
     * 48,894 merges are used, as HuggingFace does. Files are bounded by {@link #MAX_VOCAB_BYTES},
     * {@link #MAX_MERGES_BYTES} and {@link #MAX_CONFIG_BYTES}.
     *
     * @param tokenizerDir the folder holding {@code vocab.json} and {@code merges.txt}
     * @throws TokenizerFormatException if the folder or a required file is missing, a file is too
     *     large, not UTF-8 or malformed, or the vocabulary lacks a special token
     */
    public static ClipTokenizer fromFolder(Path tokenizerDir) {
        Objects.requireNonNull(tokenizerDir, "tokenizerDir");
        Path dir = tokenizerDir.toAbsolutePath().normalize();
        if (!Files.exists(dir)) {
            throw new TokenizerFormatException(dir, "tokenizer folder not found");
        }
        if (!Files.isDirectory(dir)) {
            throw new TokenizerFormatException(dir, "not a folder (expected a tokenizer folder holding vocab.json and merges.txt)");
        }
        Settings settings = new Settings();
        Path config = dir.resolve("tokenizer_config.json");
        if (Files.exists(config)) {
            settings.apply(config, readJsonObject(config), true);
        }
        Path specialMap = dir.resolve("special_tokens_map.json");
        if (Files.exists(specialMap)) {
            settings.apply(specialMap, readJsonObject(specialMap), false);
        }
        Map<String, Integer> vocab = readVocab(dir.resolve("vocab.json"));
        Map<String, Integer> ranks = readMerges(dir.resolve("merges.txt"));
        return new ClipTokenizer(dir, vocab, ranks, settings);
    }

    /** Token settings gathered from the config files, starting from CLIPTokenizer's defaults. */
    private static final class Settings {
        String bos = START_OF_TEXT;
        String eos = END_OF_TEXT;
        String unk = END_OF_TEXT;
        String pad = END_OF_TEXT;
        int maxLength = DEFAULT_MAX_LENGTH;
        final List<String> additionalSpecial = new ArrayList<>();
        final Map<String, Integer> addedTokens = new LinkedHashMap<>();

        void apply(Path file, JsonObject obj, boolean isConfig) {
            if (obj.has("bos_token")) {
                bos = tokenText(file, "bos_token", obj.get("bos_token"));
            }
            if (obj.has("eos_token")) {
                eos = tokenText(file, "eos_token", obj.get("eos_token"));
            }
            if (obj.has("unk_token")) {
                unk = tokenText(file, "unk_token", obj.get("unk_token"));
            }
            if (obj.has("pad_token")) {
                pad = tokenText(file, "pad_token", obj.get("pad_token"));
            }
            if (obj.has("additional_special_tokens") && !obj.get("additional_special_tokens").isJsonNull()) {
                JsonElement list = obj.get("additional_special_tokens");
                if (!list.isJsonArray()) {
                    throw new TokenizerFormatException(file, "'additional_special_tokens' is not a list");
                }
                additionalSpecial.clear();
                for (JsonElement e : list.getAsJsonArray()) {
                    additionalSpecial.add(tokenText(file, "additional_special_tokens", e));
                }
            }
            if (isConfig && obj.has("model_max_length")) {
                maxLength = maxLength(file, obj.get("model_max_length"));
            }
            if (isConfig && obj.has("added_tokens_decoder") && !obj.get("added_tokens_decoder").isJsonNull()) {
                readAddedTokens(file, obj.get("added_tokens_decoder"));
            }
        }

        private void readAddedTokens(Path file, JsonElement el) {
            if (!el.isJsonObject()) {
                throw new TokenizerFormatException(file, "'added_tokens_decoder' is not an object");
            }
            for (Map.Entry<String, JsonElement> e : el.getAsJsonObject().entrySet()) {
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw new TokenizerFormatException(file, "'added_tokens_decoder' key '" + e.getKey() + "' is not an integer id");
                }
                if (id < 0) {
                    throw new TokenizerFormatException(file, "'added_tokens_decoder' id " + id + " is negative");
                }
                addedTokens.put(tokenText(file, "added_tokens_decoder." + e.getKey(), e.getValue()), id);
            }
        }

        private static int maxLength(Path file, JsonElement el) {
            if (el.isJsonNull()) {
                return DEFAULT_MAX_LENGTH;
            }
            double v;
            try {
                v = el.getAsDouble();
            } catch (RuntimeException ex) {
                throw new TokenizerFormatException(file, "'model_max_length' is not a number: " + el);
            }
            if (v > UNSET_MAX_LENGTH) {
                return DEFAULT_MAX_LENGTH; // HuggingFace's VERY_LARGE_INTEGER: "no limit recorded"
            }
            if (v != Math.rint(v) || v < 2) {
                throw new TokenizerFormatException(file, "'model_max_length' must be an integer >= 2, not " + el);
            }
            return (int) v;
        }

        /** A token given as a string or as a serialized AddedToken ({@code {"content": ...}}). */
        private static String tokenText(Path file, String key, JsonElement el) {
            if (el != null && el.isJsonPrimitive() && el.getAsJsonPrimitive().isString()) {
                return el.getAsString();
            }
            if (el != null && el.isJsonObject()) {
                JsonElement content = el.getAsJsonObject().get("content");
                if (content != null && content.isJsonPrimitive() && content.getAsJsonPrimitive().isString()) {
                    return content.getAsString();
                }
            }
            if (el == null || el.isJsonNull()) {
                throw new TokenizerFormatException(file, "'" + key + "' is null; a CLIP tokenizer needs it");
            }
            throw new TokenizerFormatException(file, "'" + key + "' must be a string or an object with a string 'content', not " + el);
        }
    }

    /**
     * A tokenizer file's text: at most {@code limit} bytes of strict UTF-8 (a leading byte-order mark
     * dropped), else a {@link TokenizerFormatException} naming the file. Shared by the tokenizers.
     */
    static String readBounded(Path file, long limit) {
        if (!Files.exists(file)) {
            throw new TokenizerFormatException(file, "file not found");
        }
        if (!Files.isRegularFile(file)) {
            throw new TokenizerFormatException(file, "not a regular file");
        }
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > limit) {
                throw new TokenizerFormatException(file, "file is " + size + " bytes, over the " + limit + "-byte limit");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TokenizerFormatException(file, "cannot read: " + e, e);
        }
        if (bytes.length > limit) {
            throw new TokenizerFormatException(file, "file is " + bytes.length + " bytes, over the " + limit + "-byte limit");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new TokenizerFormatException(file, "not valid UTF-8", e);
        }
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    private static JsonReader strictReader(String text) {
        JsonReader reader = new JsonReader(new StringReader(text));
        reader.setStrictness(Strictness.STRICT);
        return reader;
    }

    private static JsonObject readJsonObject(Path file) {
        String text = readBounded(file, MAX_CONFIG_BYTES);
        try {
            JsonReader reader = strictReader(text);
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

    private static Map<String, Integer> readVocab(Path file) {
        String text = readBounded(file, MAX_VOCAB_BYTES);
        Map<String, Integer> vocab = new LinkedHashMap<>(1 << 17);
        try (JsonReader reader = strictReader(text)) {
            reader.beginObject();
            while (reader.hasNext()) {
                String token = reader.nextName();
                if (reader.peek() != JsonToken.NUMBER) {
                    throw new TokenizerFormatException(file, "malformed vocabulary: token '" + token + "' maps to "
                            + reader.peek() + ", not an integer id");
                }
                String num = reader.nextString();
                int id;
                try {
                    id = Integer.parseInt(num);
                } catch (NumberFormatException e) {
                    throw new TokenizerFormatException(file, "malformed vocabulary: token '" + token + "' has id " + num
                            + ", not a non-negative 32-bit integer");
                }
                if (id < 0) {
                    throw new TokenizerFormatException(file, "malformed vocabulary: token '" + token + "' has negative id " + id);
                }
                vocab.put(token, id);
            }
            reader.endObject();
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new TokenizerFormatException(file, "malformed JSON: trailing content after the top-level object");
            }
        } catch (IOException | IllegalStateException e) {
            throw new TokenizerFormatException(file, "malformed JSON: " + e.getMessage(), e);
        }
        if (vocab.isEmpty()) {
            throw new TokenizerFormatException(file, "vocabulary is empty");
        }
        return vocab;
    }

    private static Map<String, Integer> readMerges(Path file) {
        String text = pyStrip(readBounded(file, MAX_MERGES_BYTES));
        String[] lines = text.split("\n", -1);
        if (!lines[0].startsWith("#")) {
            throw new TokenizerFormatException(file, "first line must be the '#version' header, found '"
                    + abbreviate(lines[0], 60) + "'");
        }
        int count = Math.min(lines.length - 1, MAX_MERGES);
        Map<String, Integer> ranks = new HashMap<>(count * 2);
        for (int rank = 0; rank < count; rank++) {
            List<String> parts = pySplit(lines[rank + 1]);
            if (parts.size() == 2) {
                ranks.put(parts.get(0) + " " + parts.get(1), rank); // later duplicates win, as in HF's dict(zip(...))
            }
        }
        return ranks;
    }

    // ------------------------------------------------------------------------------------------
    // Encoding

    /**
     * The BPE ids of {@code text}, without start or end token and without truncation (HuggingFace's
     * {@code tokenizer.encode(text, add_special_tokens=False)}).
     */
    public int[] encode(String text) {
        Objects.requireNonNull(text, "text");
        List<Piece> pieces = preTokenize(text);
        int[][] parts = new int[pieces.size()][];
        int total = 0;
        for (int i = 0; i < parts.length; i++) {
            parts[i] = idsOf(pieces.get(i));
            total += parts[i].length;
        }
        int[] out = new int[total];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    /**
     * Tokenizes a prompt the way SD pipelines do ({@code padding="max_length", truncation=True,
     * max_length=model_max_length}): start token, at most {@code maxLength() - 2} BPE ids, end token,
     * then the pad id up to {@link #maxLength()}. The result also records the words and their
     * token positions.
     */
    public TokenizedPrompt tokenize(String prompt) {
        Objects.requireNonNull(prompt, "prompt");
        List<Piece> pieces = preTokenize(prompt);
        int keep = maxLength - 2;
        int[] ids = new int[maxLength];
        Arrays.fill(ids, padId);
        ids[0] = bosId;
        List<TokenizedPrompt.Word> words = new ArrayList<>(pieces.size());
        int stream = 0;
        for (int w = 0; w < pieces.size(); w++) {
            Piece piece = pieces.get(w);
            int[] pieceIds = idsOf(piece);
            for (int k = 0; k < pieceIds.length; k++) {
                if (stream + k < keep) {
                    ids[1 + stream + k] = pieceIds[k];
                }
            }
            words.add(new TokenizedPrompt.Word(w, piece.text(), 1 + stream, pieceIds.length, keep));
            stream += pieceIds.length;
        }
        int kept = Math.min(stream, keep);
        ids[1 + kept] = eosId;
        return new TokenizedPrompt(this, prompt, ids, kept + 2, stream - kept, words);
    }

    /** The pre-tokenized words of {@code text} (cleaned, lower-cased, split), in order. */
    List<String> words(String text) {
        List<Piece> pieces = preTokenize(text);
        List<String> out = new ArrayList<>(pieces.size());
        for (Piece p : pieces) {
            out.add(p.text());
        }
        return out;
    }

    /** A pre-tokenized word: its text and, for split-out special tokens, its id (else -1). */
    private record Piece(String text, int specialId) {
    }

    private List<Piece> preTokenize(String text) {
        List<Piece> out = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < text.length()) {
            String match = null;
            for (String t : splitTokens) {
                if (text.startsWith(t, i)) {
                    match = t;
                    break;
                }
            }
            if (match == null) {
                i++;
                continue;
            }
            if (i > start) {
                addWords(text.substring(start, i), out);
            }
            out.add(new Piece(match, splitTokenIds.get(match)));
            i += match.length();
            start = i;
        }
        if (start < text.length()) {
            addWords(text.substring(start), out);
        }
        return out;
    }

    private static void addWords(String chunk, List<Piece> out) {
        // Python's regex module, case-insensitive, matches U+0345 (which case-folds to a letter
        // but is a mark) with none of the pattern's classes, so findall skips it like a space.
        Matcher m = WORD_PATTERN.matcher(basicClean(chunk).replace('\u0345', ' '));
        while (m.find()) {
            out.add(new Piece(m.group(), -1));
        }
    }

    /**
     * HuggingFace's {@code BasicTokenizer(strip_accents=False, do_split_on_punc=False).tokenize}
     * joined with spaces: the text cleanup used when ftfy is not installed.
     */
    static String basicClean(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 8);
        text.codePoints().forEach(cp -> {
            if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
                return;
            }
            if (isBertWhitespace(cp)) {
                sb.append(' ');
            } else if (isCjk(cp)) {
                sb.append(' ').appendCodePoint(cp).append(' ');
            } else {
                sb.appendCodePoint(cp);
            }
        });
        String normalized = Normalizer.normalize(sb, Normalizer.Form.NFC);
        StringBuilder out = new StringBuilder(normalized.length());
        for (String token : pySplit(normalized)) {
            if (out.length() > 0) {
                out.append(' ');
            }
            out.append(token.toLowerCase(Locale.ROOT));
        }
        return out.toString();
    }

    private static boolean isControl(int cp) {
        if (cp == '\t' || cp == '\n' || cp == '\r') {
            return false;
        }
        switch (Character.getType(cp)) {
            case Character.CONTROL:
            case Character.FORMAT:
            case Character.PRIVATE_USE:
            case Character.SURROGATE:
            case Character.UNASSIGNED:
                return true;
            default:
                return false;
        }
    }

    private static boolean isBertWhitespace(int cp) {
        return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || Character.getType(cp) == Character.SPACE_SEPARATOR;
    }

    private static boolean isCjk(int cp) {
        return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF)
                || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F)
                || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
                || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
    }

    /** Python's {@code str.isspace()} (general category Zs, or bidi class WS, B or S). */
    private static boolean isPySpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0
                || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029
                || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    /** Python's {@code str.split()} without arguments. */
    private static List<String> pySplit(String s) {
        List<String> out = new ArrayList<>();
        int i = 0;
        int n = s.length();
        while (i < n) {
            while (i < n && isPySpace(s.codePointAt(i))) {
                i += Character.charCount(s.codePointAt(i));
            }
            int start = i;
            while (i < n && !isPySpace(s.codePointAt(i))) {
                i += Character.charCount(s.codePointAt(i));
            }
            if (i > start) {
                out.add(s.substring(start, i));
            }
        }
        return out;
    }

    /** Python's {@code str.strip()} without arguments (only BMP whitespace exists). */
    private static String pyStrip(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && isPySpace(s.charAt(a))) {
            a++;
        }
        while (b > a && isPySpace(s.charAt(b - 1))) {
            b--;
        }
        return s.substring(a, b);
    }

    private int[] idsOf(Piece piece) {
        if (piece.specialId() >= 0) {
            return new int[] {piece.specialId()};
        }
        byte[] utf8 = piece.text().getBytes(StandardCharsets.UTF_8);
        char[] chars = new char[utf8.length];
        for (int i = 0; i < utf8.length; i++) {
            chars[i] = BYTE_TO_CHAR[utf8[i] & 0xFF];
        }
        String token = new String(chars);
        int[] ids = cache.get(token);
        if (ids == null) {
            List<String> symbols = bpe(token);
            ids = new int[symbols.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = encoder.getOrDefault(symbols.get(i), unkId);
            }
            if (cache.size() >= CACHE_LIMIT) {
                cache.clear();
            }
            cache.put(token, ids);
        }
        return ids;
    }

    /** HuggingFace's {@code CLIPTokenizer.bpe}: merges a byte-encoded word by rank. */
    private List<String> bpe(String token) {
        if (token.equals(START_OF_TEXT) || token.equals(END_OF_TEXT)) {
            return List.of(token);
        }
        int n = token.length();
        List<String> word = new ArrayList<>(n);
        for (int i = 0; i < n - 1; i++) {
            word.add(String.valueOf(token.charAt(i)));
        }
        word.add(token.charAt(n - 1) + END_OF_WORD);
        while (word.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            int best = -1;
            for (int i = 0; i + 1 < word.size(); i++) {
                Integer r = bpeRanks.get(word.get(i) + " " + word.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            String first = word.get(best);
            String second = word.get(best + 1);
            List<String> merged = new ArrayList<>(word.size());
            int i = 0;
            while (i < word.size()) {
                if (i + 1 < word.size() && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i += 2;
                } else {
                    merged.add(word.get(i));
                    i++;
                }
            }
            word = merged;
        }
        return word;
    }

    // ------------------------------------------------------------------------------------------
    // Decoding and accessors

    /**
     * Turns ids back into text as HuggingFace's {@code convert_tokens_to_string} does: pieces are
     * concatenated, byte-decoded as UTF-8 (invalid sequences become U+FFFD), {@code </w>} becomes a
     * space, and the result is trimmed. Special tokens appear literally (so a padded SD 1.x prompt
     * ends in {@code <|endoftext|><|endoftext|>...}); an id outside the vocabulary appears as
     * {@code <unk:ID>} rather than failing, so this is safe to use in error messages.
     */
    public String decode(int[] ids) {
        Objects.requireNonNull(ids, "ids");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            String piece = decoder.get(id);
            if (piece == null) {
                bytes.writeBytes(("<unk:" + id + ">").getBytes(StandardCharsets.UTF_8));
                continue;
            }
            for (int i = 0; i < piece.length(); i++) {
                char c = piece.charAt(i);
                int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
                if (b >= 0) {
                    bytes.write(b);
                } else {
                    bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
                }
            }
        }
        String text = new String(bytes.toByteArray(), StandardCharsets.UTF_8);
        return text.replace(END_OF_WORD, " ").strip();
    }

    /** The id used to pad to {@link #maxLength()}: 49407 for SD 1.x folders, 0 ({@code "!"}) for SD 2.x. */
    public int padTokenId() {
        return padId;
    }

    /** The start-of-text id (49406 for CLIP). */
    public int bosTokenId() {
        return bosId;
    }

    /** The end-of-text id (49407 for CLIP). */
    public int eosTokenId() {
        return eosId;
    }

    /** The padded sequence length, {@code model_max_length} (77 for SD). */
    public int maxLength() {
        return maxLength;
    }

    /** The number of entries in {@code vocab.json} (49,408 for CLIP), added tokens excluded. */
    public int vocabSize() {
        return encoder.size();
    }

    /** The folder this tokenizer was loaded from. */
    public Path source() {
        return source;
    }

    @Override
    public String toString() {
        return "ClipTokenizer[" + source + ", vocab=" + encoder.size() + ", merges=" + bpeRanks.size()
                + ", maxLength=" + maxLength + ", pad=" + padId + "]";
    }

    static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "...";
    }
}
