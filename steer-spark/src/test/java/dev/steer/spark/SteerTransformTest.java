package dev.steer.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.image.PngImages;
import java.io.ByteArrayInputStream;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transformation on Spark {@code local[2]}: steered generation with backward passes on Spark's task
 * threads, one model per executor JVM shared by both task slots, bad rows as error rows, the model
 * closed when the session stops.
 */
class SteerTransformTest {
    @TempDir
    static Path tmp;

    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = SparkTests.session("local[2]", tmp);
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static final StructType REQUESTS = new StructType()
            .add("id", DataTypes.StringType)
            .add("prompt", DataTypes.StringType)
            .add("seed", DataTypes.LongType)
            .add("relations", DataTypes.StringType)
            .add("steer", DataTypes.BooleanType);

    @Test
    void steersOnTaskThreadsWithOneSharedModelAndTurnsBadRowsIntoErrorRows() throws Exception {
        List<Row> rows = List.of(
                RowFactory.create("steered", "a photo of a purple square above a red circle", 0L, null, null),
                RowFactory.create("explicit", "a photo of a purple square above a red circle", 1L, "square:above:circle", null),
                RowFactory.create("vanilla", "a photo of a purple square above a red circle", 0L, null, false),
                RowFactory.create("empty", "  ", 0L, null, null),
                RowFactory.create("refused", "a photo of a red circle next to a blue square", 0L, null, null),
                RowFactory.create("missing-word", "a photo of a red circle above a blue square", 0L, "dog:above:square", null),
                RowFactory.create("bad-relation", "a photo of a red circle above a blue square", 0L, "circle:behind:square", null));
        Dataset<Row> requests = spark.createDataFrame(rows, REQUESTS).repartition(2);
        int loadsBefore = ExecutorModels.loadCount();
        SteerTransform steer = SteerTransform.builder(SparkTests.model())
                .optSettings(SteerSettings.DEFAULTS.withSteps(4).withGuidance(5f))
                .optScorer(new ShapeBenchScorer())
                .build();
        Map<String, Row> out = new HashMap<>();
        for (Row r : steer.transform(requests).collectAsList()) {
            out.put(r.getString(r.fieldIndex("id")), r);
        }
        assertEquals(rows.size(), out.size());
        assertEquals(1, ExecutorModels.loadCount() - loadsBefore, "one model load for the JVM's two task slots");

        Row steered = out.get("steered");
        assertNull(steered.getAs("error"));
        assertTrue((Boolean) steered.getAs("steered"));
        assertTrue((Integer) steered.getAs("steered_steps") > 0);
        assertTrue((Float) steered.getAs("loss_after") <= (Float) steered.getAs("loss_before"));
        assertEquals(4, steered.<scala.collection.Seq<Float>>getAs("probabilities").size());
        assertTrue((Integer) steered.getAs("unet_passes") > 4, "steering adds UNet passes");
        byte[] png = steered.getAs("png");
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(32, img.getWidth());
        assertEquals((Integer) steered.getAs("width"), img.getWidth());
        Path file = tmp.resolve("steered.png");
        Files.write(file, png);
        assertEquals("a photo of a purple square above a red circle", PngImages.readText(file).get("prompt"));
        scala.collection.Map<String, String> meta = steered.getAs("metadata");
        assertTrue(meta.contains("steering_summary"));
        scala.collection.Map<String, Double> scores = steered.getAs("scores");
        assertTrue(scores.contains("position_correct"));

        assertNull(out.get("explicit").getAs("error"));
        assertEquals("[(square, above, circle)]", out.get("explicit").<scala.collection.Map<String, String>>getAs("metadata")
                .get("steering_relations").get());
        Row vanilla = out.get("vanilla");
        assertNull(vanilla.getAs("error"));
        assertFalse((Boolean) vanilla.getAs("steered"));
        assertEquals(4, (Integer) vanilla.getAs("unet_passes"));
        assertNull(vanilla.getAs("loss_before"));

        assertEquals("prompt: empty", out.get("empty").getAs("error"));
        assertErrorNames(out.get("refused"), "next to");
        assertErrorNames(out.get("missing-word"), "dog");
        assertErrorNames(out.get("bad-relation"), "behind");
        for (String bad : List.of("empty", "refused", "missing-word", "bad-relation")) {
            assertNull(out.get(bad).getAs("png"), bad);
        }
        assertNotNull(out.get("refused").getAs("prompt"));
    }

    private static void assertErrorNames(Row row, String word) {
        String error = row.getAs("error");
        assertNotNull(error, row.getString(0));
        assertTrue(error.contains(word), error);
    }
}
