package dev.steer.pytorch.training;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.steer.core.shapeworld.ShapeColor;
import dev.steer.core.shapeworld.ShapeKind;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The T5-side tokenizer of the FLUX-architecture ShapeWorld model: a HuggingFace {@code tokenizer.json}
 * with a Unigram (SentencePiece) model over the words ShapeWorld's captions and ShapeBench's prompts
 * use, laid out as T5's own: {@code <pad>} id 0, {@code </s>} id 1 (appended by the post-processor),
 * {@code <unk>} id 2, Metaspace pre-tokenization ("▁" marks a word start), lower-casing.
 *
 * <p>Pieces: the caption words as whole pieces ("▁a", "▁photo", "▁of", "▁and", "▁left", "▁right",
 * "▁above", "▁below", the colour adjectives and shape nouns, score -3), then single characters
 * (a-z, 0-9, common punctuation, and a bare "▁"; score -12) so that any other lower-case text
 * still tokenizes, spelled out, instead of becoming {@code <unk>}.
 */
final class ShapeWorldT5Vocabulary {
    static final List<String> FUNCTION_WORDS = List.of("a", "photo", "of", "and", "left", "right", "above", "below", "the", "an");
    private static final String PUNCTUATION = ".,;:!?-'\"()";

    private ShapeWorldT5Vocabulary() {
    }

    /** The pieces in id order (the first three are the special tokens). */
    static List<String> pieces() {
        Set<String> out = new LinkedHashSet<>(List.of("<pad>", "</s>", "<unk>"));
        for (String w : FUNCTION_WORDS) {
            out.add("▁" + w);
        }
        for (ShapeColor c : ShapeColor.values()) {
            out.add("▁" + c.adjective());
        }
        for (ShapeKind k : ShapeKind.values()) {
            out.add("▁" + k.noun());
        }
        out.add("▁");
        for (char c = 'a'; c <= 'z'; c++) {
            out.add(String.valueOf(c));
        }
        for (char c = '0'; c <= '9'; c++) {
            out.add(String.valueOf(c));
        }
        for (char c : PUNCTUATION.toCharArray()) {
            out.add(String.valueOf(c));
        }
        return new ArrayList<>(out);
    }

    /** The {@code tokenizer.json} text. */
    static String tokenizerJson() {
        List<String> pieces = pieces();
        JsonArray vocab = new JsonArray();
        for (String p : pieces) {
            JsonArray entry = new JsonArray();
            entry.add(p);
            entry.add(p.startsWith("<") && p.endsWith(">") ? 0.0 : p.startsWith("▁") && p.length() > 1 ? -3.0 : -12.0);
            vocab.add(entry);
        }
        String template = String.format(Locale.ROOT, """
                {
                  "version": "1.0",
                  "truncation": null,
                  "padding": null,
                  "added_tokens": [
                    {"id": 0, "content": "<pad>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                    {"id": 1, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
                    {"id": 2, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}
                  ],
                  "normalizer": {"type": "Sequence", "normalizers": [
                    {"type": "Lowercase"},
                    {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
                  "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                    {"type": "WhitespaceSplit"},
                    {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true}]},
                  "post_processor": {"type": "TemplateProcessing",
                    "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                    "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                             {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                    "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
                  "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
                  "model": {"type": "Unigram", "unk_id": 2, "vocab": [], "byte_fallback": false}
                }
                """);
        JsonObject root = JsonParser.parseString(template).getAsJsonObject();
        root.getAsJsonObject("model").add("vocab", vocab);
        return new com.google.gson.GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(root);
    }
}
