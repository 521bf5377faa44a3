package dev.steer.pytorch.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.steer.core.image.PngImages;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Accuracy breakdowns, leakage, confusion matrix, JSON and chart from known predictions. */
class RelationEvaluationTest {
    private static final List<String> REL = SyntheticRelationData.RELATIONS;

    @TempDir
    Path tmp;

    /**
     * 8 samples: 4 positive (all right), 4 negative of which 1 right and 3 predicted as the prompt's
     * relation: the pattern of a classifier that reads the word.
     */
    private static RelationEvaluation leaking() {
        long[] labels = {0, 1, 2, 3, 0, 1, 2, 3};
        long[] prompts = {0, 1, 2, 3, 2, 3, 0, 1};
        long[] predicted = {0, 1, 2, 3, 0, 3, 0, 1};
        long[] steps = {5, 5, 49, 49, 5, 5, 49, 49};
        boolean[] positive = {true, true, true, true, false, false, false, false};
        float[] logits = new float[8 * 4];
        for (int i = 0; i < 8; i++) {
            logits[i * 4 + (int) predicted[i]] = 3f;
        }
        return RelationEvaluation.of(REL, logits, labels, prompts, steps, positive);
    }

    @Test
    void breakdownsAndLeakage() {
        RelationEvaluation e = leaking();
        assertEquals(8, e.samples());
        assertEquals(5 / 8.0, e.accuracy(), 1e-12);
        assertEquals(new RelationEvaluation.Group(4, 4), e.positivePrompts());
        assertEquals(new RelationEvaluation.Group(4, 1), e.negativePrompts());
        assertEquals(0.75, e.leakage(), 1e-12);
        assertEquals(0.75, e.negativesFollowingPrompt(), 1e-12);
        assertEquals(new RelationEvaluation.Group(2, 2), e.perRelation().get("above"));
        assertEquals(new RelationEvaluation.Group(2, 1), e.perRelation().get("below"));
        assertEquals(List.of(5, 49), List.copyOf(e.perStep().keySet()));
        assertEquals(new RelationEvaluation.Group(4, 3), e.perStep().get(5));
        assertEquals(new RelationEvaluation.Group(4, 2), e.perStep().get(49));
        long[][] cm = e.confusionMatrix();
        assertArrayEquals(new long[] {2, 0, 0, 0}, cm[0]);
        assertArrayEquals(new long[] {0, 1, 0, 1}, cm[1]);
        assertArrayEquals(new long[] {1, 0, 1, 0}, cm[2]);
        assertArrayEquals(new long[] {0, 1, 0, 1}, cm[3]);
        // cross-entropy of logit 3 on the right class among zeros, or on a wrong one
        double right = Math.log(3 + Math.exp(3)) - 3;
        double wrong = Math.log(3 + Math.exp(3));
        assertEquals((5 * right + 3 * wrong) / 8, e.loss(), 1e-6);
        assertTrue(e.leakageStatement().startsWith("Leakage 0.750 (accuracy on positive-prompt samples minus accuracy on negative-prompt"
                + " samples): 100.0% right when the prompt states the true relation, 25.0% when it states a wrong one"), e.leakageStatement());
        assertTrue(e.leakageStatement().contains("strong leakage"), e.leakageStatement());
    }

    @Test
    void leakageIsNotMeasurableWithoutNegatives() {
        RelationEvaluation e = RelationEvaluation.of(REL, new float[] {1, 0, 0, 0}, new long[] {0}, new long[] {0}, new long[] {5},
                new boolean[] {true});
        assertTrue(Double.isNaN(e.leakage()));
        assertTrue(e.leakageStatement().contains("not measurable"), e.leakageStatement());
        JsonObject json = JsonParser.parseString(e.toJson()).getAsJsonObject();
        assertTrue(json.getAsJsonObject("leakage").get("value").isJsonNull());
    }

    @Test
    void writesJsonAndChart() throws Exception {
        RelationEvaluation e = leaking();
        Path json = tmp.resolve("eval/evaluation.json");
        Path png = tmp.resolve("eval/evaluation.png");
        e.writeJson(json);
        e.writeChart(png, "synthetic test");
        JsonObject o = JsonParser.parseString(Files.readString(json)).getAsJsonObject();
        assertEquals(0.625, o.get("accuracy").getAsDouble(), 1e-12);
        assertEquals(0.75, o.getAsJsonObject("leakage").get("value").getAsDouble(), 1e-12);
        assertTrue(o.getAsJsonObject("leakage").get("definition").getAsString().startsWith("accuracy on positive-prompt samples"));
        assertEquals(1, o.getAsJsonObject("per_prompt_type").getAsJsonObject("negative").get("correct").getAsInt());
        assertEquals(2, o.getAsJsonObject("per_relation").getAsJsonObject("above").get("samples").getAsInt());
        assertEquals(3, o.getAsJsonObject("per_step").getAsJsonObject("5").get("correct").getAsInt());
        assertEquals(1, o.getAsJsonObject("confusion_matrix").getAsJsonArray("counts").get(1).getAsJsonArray().get(3).getAsInt());
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(1500, img.getWidth());
        assertTrue(PngImages.readText(png).get("Description").startsWith("Leakage 0.750"));
        // the positive bar (green) and the negative bar (red) are drawn
        assertTrue(countColour(img, 0x2E8B57) > 1000 && countColour(img, 0xC0504D) > 100);
    }

    private static int countColour(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                n += (img.getRGB(x, y) & 0xffffff) == rgb ? 1 : 0;
            }
        }
        return n;
    }
}
