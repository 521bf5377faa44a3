package dev.steer.core.relation;

import static dev.steer.core.relation.SpatialRelation.ABOVE;
import static dev.steer.core.relation.SpatialRelation.BELOW;
import static dev.steer.core.relation.SpatialRelation.LEFT_OF;
import static dev.steer.core.relation.SpatialRelation.RIGHT_OF;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link RelationParser}: phrasings, noun phrases, clauses, occurrences and errors. */
class RelationParserTest {
    private static final RelationParser P = new RelationParser();

    private static RelationTriplet t(String s, SpatialRelation r, String o) {
        return RelationTriplet.of(s, r, o);
    }

    private static RelationTriplet t(String s, int so, SpatialRelation r, String o, int oo) {
        return new RelationTriplet(s, r, o, so, oo);
    }

    private static void assertParses(String prompt, RelationTriplet... expected) {
        assertEquals(List.of(expected), P.parse(prompt), prompt);
    }

    @Test
    void genEvalForm() {
        assertParses("a photo of a dog right of a teddy bear", t("dog", RIGHT_OF, "teddy bear"));
        assertParses("a photo of an orange donut below a green bench", t("donut", BELOW, "bench"));
        assertParses("a photo of a carrot left of an orange", t("carrot", LEFT_OF, "orange"));
        assertParses("a photo of a wine glass above a kite", t("wine glass", ABOVE, "kite"));
    }

    @Test
    void everySupportedPhraseLongestFirst() {
        for (SpatialRelation r : SpatialRelation.values()) {
            for (String phrase : r.phrases()) {
                assertParses("a cat " + phrase + " a dog", t("cat", r, "dog"));
                assertParses("A Cat " + phrase.toUpperCase(java.util.Locale.ROOT) + " the  Dog.", t("cat", r, "dog"));
            }
        }
        assertParses("a cat next to the left of a dog", t("cat", LEFT_OF, "dog"));
        assertParses("a cat next to the right of a dog", t("cat", RIGHT_OF, "dog"));
        assertParses("a cat on the top of a dog", t("cat", ABOVE, "dog"));
        assertParses("a cat on the bottom of a dog", t("cat", BELOW, "dog"));
        assertParses("a lamp over a table", t("lamp", ABOVE, "table"));
        assertParses("a cat underneath a table", t("cat", BELOW, "table"));
        assertEquals(SpatialRelation.allPhrases(), RelationParser.supportedPhrases());
    }

    @Test
    void adjectivesColoursArticlesAndNumbers() {
        assertParses("a big fluffy white cat to the left of an old wooden chair", t("cat", LEFT_OF, "chair"));
        assertParses("the red apple on top of the blue book", t("apple", ABOVE, "book"));
        assertParses("two red apples beneath three yellow bananas", t("apples", BELOW, "bananas"));
        assertParses("a brown teddy bear under a small pink umbrella", t("teddy bear", BELOW, "umbrella"));
        assertParses("an image of a dog's bowl above a cat", t("bowl", ABOVE, "cat"));
    }

    @Test
    void linkingWordsAndTrailingPhrases() {
        assertParses("a cat is sitting directly above a dog", t("cat", ABOVE, "dog"));
        assertParses("a bird flying over a house", t("bird", ABOVE, "house"));
        assertParses("a dog left of a cat sitting on a couch", t("dog", LEFT_OF, "cat"));
        assertParses("a dog left of a cup of coffee on a table", t("dog", LEFT_OF, "cup"));
        assertParses("a dog left of a cat in a park, high quality, 4k", t("dog", LEFT_OF, "cat"));
        assertParses("a photo of a dog that is right of a teddy bear wearing a hat", t("dog", RIGHT_OF, "teddy bear"));
    }

    @Test
    void multiWordNouns() {
        assertParses("a hair drier left of a cell phone", t("hair drier", LEFT_OF, "cell phone"));
        assertParses("a stop sign above a fire hydrant", t("stop sign", ABOVE, "fire hydrant"));
        assertParses("a baseball bat below a wine glass", t("baseball bat", BELOW, "wine glass"));
        assertParses("two teddy bears on the left of three wine glasses", t("teddy bears", LEFT_OF, "wine glasses"));
        assertParses("a red hot dog to the right of a hot dog", t("hot dog", 0, RIGHT_OF, "hot dog", 1));
        // "fire truck" is a default compound; "garden gnome" is not: the head noun only
        assertParses("a fire truck left of a garden gnome", t("fire truck", LEFT_OF, "gnome"));
    }

    @Test
    void userCompoundNouns() {
        RelationParser custom = P.withCompoundNouns("garden gnome", "Cup of Coffee");
        assertEquals(List.of(t("fire truck", LEFT_OF, "garden gnome")), custom.parse("a fire truck left of a garden gnome"));
        assertEquals(List.of(t("cup of coffee", ABOVE, "saucer")), custom.parse("a cup of coffee above a saucer"));
        assertEquals(List.of(t("dog", LEFT_OF, "cup of coffee")), custom.parse("a dog left of a hot cup of coffee"));
        assertTrue(custom.compoundNouns().contains("teddy bear"));
        assertTrue(custom.compoundNouns().contains("cup of coffee"));
        assertTrue(!P.compoundNouns().contains("garden gnome"), "the original parser is unchanged");
        assertThrows(IllegalArgumentException.class, () -> P.withCompoundNouns(" , "));
    }

    @Test
    void twoRelationsInOnePrompt() {
        assertParses("a cat left of a dog and a bird above the dog",
                t("cat", 0, LEFT_OF, "dog", 0), t("bird", 0, ABOVE, "dog", 1));
        assertParses("a cup on top of a book, a lamp to the right of the book",
                t("cup", 0, ABOVE, "book", 0), t("lamp", 0, RIGHT_OF, "book", 1));
        assertParses("a cup on top of a book; a lamp to the right of a vase",
                t("cup", ABOVE, "book"), t("lamp", RIGHT_OF, "vase"));
        assertParses("a cat left of a dog above a bird", t("cat", LEFT_OF, "dog"), t("dog", ABOVE, "bird"));
        assertParses("a cat and a dog left of a bird", t("dog", LEFT_OF, "bird"));
        assertParses("a cat left of a dog and a bird", t("cat", LEFT_OF, "dog"));
    }

    @Test
    void repeatedWordsGetTheirOccurrence() {
        assertParses("a dog left of a dog", t("dog", 0, LEFT_OF, "dog", 1));
        assertParses("a photo of a big dog right of a small dog", t("dog", 0, RIGHT_OF, "dog", 1));
        assertParses("a hot dog left of a dog", t("hot dog", 0, LEFT_OF, "dog", 1));
        assertParses("a dog above a cat and a dog below a cat",
                t("dog", 0, ABOVE, "cat", 0), t("dog", 1, BELOW, "cat", 1));
    }

    @Test
    void noRelation() {
        assertEquals(List.of(), P.parse("a photo of a dog and a cat"));
        assertEquals(List.of(), P.parse(""));
        assertEquals(List.of(), P.parse("a dog with a bone in the park outside"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> P.parseRequired("a photo of a dog and a cat"));
        assertTrue(e.getMessage().contains("no spatial relation found"), e.getMessage());
        assertTrue(e.getMessage().contains("a photo of a dog and a cat"), e.getMessage());
        assertTrue(e.getMessage().contains("to the left of") && e.getMessage().contains("beneath"), e.getMessage());
        assertEquals(List.of(t("dog", LEFT_OF, "cat")), P.parseRequired("a dog left of a cat"));
    }

    @Test
    void unsupportedPhrasesAreNamed() {
        String[][] cases = {
            {"a dog next to a cat", "next to"},
            {"a dog behind a cat", "behind"},
            {"a dog in front of a cat", "in front of"},
            {"a dog near a cat", "near"},
            {"a dog between a cat and a bird", "between"},
            {"a dog inside a box", "inside"},
            {"a dog beside a cat", "beside"},
            {"a dog on the left and a cat on the right", "on the left"},
            {"a cat left of a dog and a bird next to the dog", "next to"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> P.parse(c[0]), c[0]);
            assertTrue(e.getMessage().contains("\"" + c[1] + "\""), e.getMessage());
            assertTrue(e.getMessage().contains("not supported"), e.getMessage());
            assertTrue(e.getMessage().contains("to the left of") && e.getMessage().contains("on top of"), e.getMessage());
        }
        for (String phrase : RelationParser.unsupportedPhrases()) {
            assertThrows(IllegalArgumentException.class, () -> P.parse("a dog " + phrase + " a cat"), phrase);
        }
    }

    @Test
    void relationWithoutSubjectOrObject() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> P.parse("left of a cat"));
        assertTrue(e.getMessage().contains("no subject") && e.getMessage().contains("left of a cat"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> P.parse("a dog above"));
        assertTrue(e.getMessage().contains("no object") && e.getMessage().contains("\"above\""), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> P.parse("a dog above, a cat"));
        assertThrows(IllegalArgumentException.class, () -> P.parse("a dog left of the"));
    }

    @Test
    void wordsFollowTheClipPreTokenizer() {
        assertEquals(List.of("a", "dog", "'s", "bowl", ",", "4", "k", "!!"), RelationParser.words("A Dog's  bowl, 4k!!"));
        assertEquals(List.of("t", "-", "shirt"), RelationParser.words("T-shirt"));
    }
}
