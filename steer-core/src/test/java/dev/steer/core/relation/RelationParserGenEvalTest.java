package dev.steer.core.relation;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link RelationParser} on the 100 GenEval "position" prompts
 * ({@code testdata/benchmarks/geneval-position.jsonl}): each must parse to exactly its truth, also
 * with colours added and with the relation written in each of its other phrasings; and every COCO
 * class name ({@code testdata/benchmarks/coco-object-names.txt}) must come out whole.
 */
class RelationParserGenEvalTest {
    private static final RelationParser PARSER = RelationParser.standard();
    private static final String[] COLOURS = {"red", "orange", "yellow", "green", "blue", "purple", "pink", "brown",
        "black", "white"};

    /** One GenEval prompt and its truth. */
    record Case(String prompt, String subject, String relationPhrase, String object) {
        RelationTriplet truth() {
            return RelationTriplet.of(subject, SpatialRelation.parse(relationPhrase), object);
        }
    }

    private static List<Case> cases;
    private static List<String> cocoNames;

    static Path benchmarks() {
        return Conformance.testdata().resolve("benchmarks");
    }

    @BeforeAll
    static void load() throws IOException {
        cases = new ArrayList<>();
        for (String line : Files.readAllLines(benchmarks().resolve("geneval-position.jsonl"), StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            assertEquals("position", o.get("tag").getAsString(), line);
            JsonArray include = o.getAsJsonArray("include");
            assertEquals(2, include.size(), line);
            String subject = null;
            String relation = null;
            String object = null;
            for (JsonElement e : include) {
                JsonObject c = e.getAsJsonObject();
                if (c.has("position")) {
                    JsonArray pos = c.getAsJsonArray("position");
                    subject = c.get("class").getAsString();
                    relation = pos.get(0).getAsString();
                    object = include.get(pos.get(1).getAsInt()).getAsJsonObject().get("class").getAsString();
                }
            }
            assertTrue(subject != null && object != null && !subject.equals(object), line);
            cases.add(new Case(o.get("prompt").getAsString(), subject, relation, object));
        }
        cocoNames = Files.readAllLines(benchmarks().resolve("coco-object-names.txt"), StandardCharsets.UTF_8).stream()
                .map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    @Test
    void fileHasTheHundredPromptsAndEightyNames() {
        assertEquals(100, cases.size());
        assertEquals(80, cocoNames.size());
    }

    @TestFactory
    Stream<DynamicTest> everyGenEvalPromptParsesToItsTruth() {
        return cases.stream().map(c -> dynamicTest(c.prompt(), () -> assertEquals(List.of(c.truth()), PARSER.parse(c.prompt()),
                c.prompt())));
    }

    @Test
    void everyGenEvalPromptWithColoursParsesToItsTruth() {
        int i = 0;
        for (Case c : cases) {
            String sc = COLOURS[i % COLOURS.length];
            String oc = COLOURS[(i * 3 + 1) % COLOURS.length];
            i++;
            String prompt = "a photo of " + article(sc) + " " + sc + " " + c.subject() + " " + c.relationPhrase() + " "
                    + article(oc) + " " + oc + " " + c.object();
            List<RelationTriplet> got = PARSER.parse(prompt);
            assertEquals(1, got.size(), prompt);
            assertSameWords(c.truth(), got.get(0), prompt);
        }
    }

    /** Same words and relation; occurrences may differ when a colour is also a class ("an orange carrot ... an orange"). */
    private static void assertSameWords(RelationTriplet expected, RelationTriplet actual, String prompt) {
        assertEquals(expected.subject(), actual.subject(), prompt);
        assertEquals(expected.relation(), actual.relation(), prompt);
        assertEquals(expected.object(), actual.object(), prompt);
    }

    @Test
    void everyGenEvalPromptInEveryPhrasingOfItsRelation() {
        for (Case c : cases) {
            SpatialRelation r = SpatialRelation.parse(c.relationPhrase());
            for (String phrase : r.phrases()) {
                String prompt = c.prompt().replace(" " + c.relationPhrase() + " ", " " + phrase + " ");
                assertTrue(prompt.contains(phrase), prompt);
                assertEquals(List.of(c.truth()), PARSER.parse(prompt), prompt);
                assertEquals(List.of(c.truth()), PARSER.parse(prompt.toUpperCase(java.util.Locale.ROOT)).stream()
                        .toList(), "upper case: " + prompt);
            }
        }
    }

    @Test
    void everyCocoNameIsKeptWholeAsSubjectAndObject() {
        for (String name : cocoNames) {
            String other = name.contains("dog") ? "cat" : "dog";
            assertEquals(List.of(RelationTriplet.of(name, SpatialRelation.ABOVE, other)),
                    PARSER.parse("a photo of a brown " + name + " above a " + other), name);
            assertEquals(List.of(RelationTriplet.of(other, SpatialRelation.BELOW, name)),
                    PARSER.parse("a photo of a " + other + " below a small green " + name), name);
        }
    }

    @Test
    void everyMultiWordCocoNameIsADefaultCompound() {
        for (String name : cocoNames) {
            if (name.contains(" ")) {
                assertTrue(RelationParser.COCO_COMPOUND_NOUNS.contains(name), name);
                assertTrue(PARSER.compoundNouns().contains(name), name);
            }
        }
    }

    @Test
    void everyGenEvalPromptAsTwoClauses() {
        for (int i = 0; i + 1 < cases.size(); i += 2) {
            Case a = cases.get(i);
            Case b = cases.get(i + 1);
            String prompt = a.prompt() + " and " + b.prompt().replace("a photo of ", "");
            List<RelationTriplet> got = PARSER.parse(prompt);
            assertEquals(2, got.size(), prompt);
            assertSameWords(a.truth(), got.get(0), prompt);
            assertSameWords(b.truth(), got.get(1), prompt);
        }
    }

    private static String article(String word) {
        return "aeiou".indexOf(word.charAt(0)) >= 0 ? "an" : "a";
    }
}
