package dev.steer.pytorch.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.steer.core.dataset.RecordReport;
import dev.steer.core.relation.RelationParser;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.steering.ClassifierTimesteps;
import dev.steer.core.testing.Conformance;
import dev.steer.core.tokenizer.ClipTokenizer;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.internal.weights.TensorDType;
import dev.steer.pytorch.testing.TinyModels;
import dev.steer.pytorch.pipeline.StableDiffusion;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RelationDatasetBuilderTest {
    private static final int SIZE = 96;
    private static final int STEPS = 10;
    private static final int ITERATIONS = 2;
    private static final int SAMPLES_PER_TRIPLET = 2 * ClassifierTimesteps.TRAINED.length; // positive + 1 negative

    @TempDir
    static Path tmp;

    private static StableDiffusion sd;
    private static Path manifest;

    @BeforeAll
    static void setUp() throws Exception {
        sd = TinyModels.fixtureTiny(tmp.resolve("tiny"));
        Path images = tmp.resolve("data/images");
        Files.createDirectories(images);
        // red square at (x, y), blue square at (x2, y2), 24 px each, on a light background
        square(images.resolve("left.png"), 8, 36, 64, 36);
        square(images.resolve("above.png"), 36, 8, 36, 64);
        square(images.resolve("right.png"), 64, 36, 8, 36);
        manifest = tmp.resolve("data/pairs.jsonl");
        Files.writeString(manifest, String.join("\n",
                "{\"image\": \"images/left.png\", \"subject\": \"cube\", \"object\": \"ball\", \"relation\": \"left of\"}",
                "{\"image\": \"images/above.png\", \"subject\": \"cube\", \"object\": \"ball\", "
                        + "\"subject_box\": [36, 8, 60, 32], \"object_box\": [36, 64, 60, 88]}",
                "{\"image\": \"images/missing.png\", \"subject\": \"cube\", \"object\": \"ball\", \"relation\": \"above\"}",
                "{\"image\": \"images/right.png\", \"subject\": \"cube\", \"object\": \"ball\", "
                        + "\"subject_box\": [64, 36, 88, 60], \"object_box\": [8, 36, 32, 60]}",
                "{\"image\": \"images/left.png\", \"subject\": \"cube\", \"object\": \"ball\", "
                        + "\"subject_box\": [8, 36, 32, 60], \"object_box\": [64, 36, 120, 60]}",
                "{\"image\": \"images/above.png\", \"subject\": \"ball\", \"object\": \"cube\", \"relation\": \"below\", "
                        + "\"subject_box\": [36, 64, 60, 88], \"object_box\": [36, 8, 60, 32]}",
                ""));
    }

    @AfterAll
    static void tearDown() {
        sd.close();
    }

    private static void square(Path file, int rx, int ry, int bx, int by) throws Exception {
        BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(230, 230, 215));
        g.fillRect(0, 0, SIZE, SIZE);
        g.setColor(new Color(210, 30, 30));
        g.fillRect(rx, ry, 24, 24);
        g.setColor(new Color(30, 60, 210));
        g.fillRect(bx, by, 24, 24);
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }

    private static RelationDatasetBuilder.Builder configured(Path out) {
        return RelationDatasetBuilder.builder().setPipeline(sd).setOutputDir(out).addManifest(manifest)
                .optSteps(STEPS).optFixedPointIterations(ITERATIONS).optPsnrThreshold(0).optShardSize(20)
                .optProgress(null);
    }

    private static JsonObject json(Path file) throws Exception {
        return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    }

    private static List<Integer> ints(JsonArray a) {
        List<Integer> out = new ArrayList<>();
        for (JsonElement e : a) {
            out.add(e.getAsInt());
        }
        return out;
    }

    @Test
    void buildsInterruptsAndResumesWithoutDuplicates() throws Exception {
        Path out = tmp.resolve("dataset");
        long t0 = System.nanoTime();

        // run 1: a listener failure at the third triplet stands for a crash
        List<Integer> heard = new ArrayList<>();
        RuntimeException crash = assertThrows(RuntimeException.class, () -> configured(out).optListener(o -> {
            heard.add(o.id());
            assertEquals(SAMPLES_PER_TRIPLET, o.samples());
            assertEquals(2, o.inversions());
            assertTrue(o.psnrs()[0] > 0 && Double.isFinite(o.psnrs()[0]), "PSNR " + o.psnrs()[0]);
            if (o.id() == 2) {
                throw new IllegalStateException("simulated crash");
            }
        }).build().run());
        assertEquals("simulated crash", crash.getMessage());
        assertEquals(List.of(0, 1, 2), heard);
        JsonObject m = json(out.resolve("manifest.json"));
        assertEquals(List.of(0, 1), ints(m.getAsJsonArray("completed_triplets")), "triplet 2's samples were never written");
        assertEquals(1, m.getAsJsonArray("shards").size());
        assertEquals(2 * SAMPLES_PER_TRIPLET, m.getAsJsonArray("shards").get(0).getAsJsonObject().get("samples").getAsInt());

        // run 2: resumes, processes one triplet and stops
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        RelationDatasetBuilder.Summary second = configured(out).optStopAfter(1)
                .optProgress(new PrintStream(log, true, StandardCharsets.UTF_8)).optProgressInterval(Duration.ZERO).build().run();
        assertEquals(4, second.triplets());
        assertEquals(2, second.alreadyCompleted());
        assertEquals(1, second.processed());
        assertFalse(second.complete());
        assertEquals(SAMPLES_PER_TRIPLET, second.samples());
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("missing image: 1") && text.contains("box outside image: 1"), text);
        assertTrue(text.contains("3/4 triplets") && text.contains("ETA"), text);

        // run 3: finishes
        RelationDatasetBuilder.Summary third = configured(out).build().run();
        assertEquals(3, third.alreadyCompleted());
        assertEquals(1, third.processed());
        assertTrue(third.complete());
        assertEquals(0, third.droppedLowPsnr());
        // run 4: nothing left to do
        RelationDatasetBuilder.Summary fourth = configured(out).build().run();
        assertEquals(0, fourth.processed());
        assertEquals(0, fourth.shards());
        assertTrue(fourth.complete());
        System.out.printf("dataset runs took %.1fs; mean PSNR %.2f dB%n", (System.nanoTime() - t0) / 1e9, third.meanPsnr());

        checkFormat(out);

        // other settings cannot resume this dataset
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> configured(out).optPsnrThreshold(5).build().run());
        assertTrue(e.getMessage().contains("psnr_threshold_db"), e.getMessage());
    }

    /** Checks the folder against docs/relation-dataset.md. */
    private static void checkFormat(Path out) throws Exception {
        JsonObject m = json(out.resolve("manifest.json"));
        assertEquals("steer-relation-dataset", m.get("format").getAsString());
        assertEquals(1, m.get("version").getAsInt());
        assertTrue(m.get("model").getAsString().startsWith("tiny"), m.get("model").getAsString());
        assertEquals(44, m.get("maps_per_word").getAsInt(), "11 cross-attention layers x 4 heads");
        assertEquals(16, m.get("map_size").getAsInt());
        assertEquals(List.of(5, 10, 15, 20, 25, 49), ints(m.getAsJsonArray("step_indices")));
        assertEquals("[\"above\",\"below\",\"to the left of\",\"to the right of\"]", m.getAsJsonArray("relations").toString());
        JsonObject inv = m.getAsJsonObject("inversion");
        assertEquals(STEPS, inv.get("steps").getAsInt());
        assertEquals(ITERATIONS, inv.get("fixed_point_iterations").getAsInt());
        assertEquals(1.0, inv.get("guidance").getAsDouble());
        assertEquals(0.0, inv.get("psnr_threshold_db").getAsDouble());
        assertEquals(List.of(0, 1, 2, 3), ints(m.getAsJsonArray("completed_triplets")));
        JsonObject report = m.getAsJsonObject("report");
        assertEquals(6, report.get("records").getAsInt());
        assertEquals(4, report.get("kept").getAsInt());
        assertEquals("{\"missing image\":1,\"box outside image\":1}", report.getAsJsonObject("skipped").toString());
        assertEquals(0, report.get("dropped_low_psnr").getAsInt());
        assertEquals(8, report.get("inversions").getAsInt(), "triplet 2's lost inversions are not counted");

        List<String> triplets = Files.readAllLines(out.resolve("triplets.jsonl"));
        assertEquals(4, triplets.size());
        SpatialRelation[] truth = {SpatialRelation.LEFT_OF, SpatialRelation.ABOVE, SpatialRelation.RIGHT_OF, SpatialRelation.BELOW};
        for (int id = 0; id < 4; id++) {
            JsonObject t = JsonParser.parseString(triplets.get(id)).getAsJsonObject();
            assertEquals(id, t.get("id").getAsInt());
            assertEquals(truth[id].canonicalName(), t.get("relation").getAsString());
            assertTrue(Files.isRegularFile(Path.of(t.get("image").getAsString())));
            assertTrue(t.get("source").getAsString().startsWith("pairs.jsonl line "), t.toString());
        }
        assertEquals("cube", JsonParser.parseString(triplets.get(0)).getAsJsonObject().get("subject").getAsString());
        assertEquals("ball", JsonParser.parseString(triplets.get(3)).getAsJsonObject().get("subject").getAsString());
        List<String> skipped = Files.readAllLines(out.resolve("skipped.jsonl"));
        assertEquals(2, skipped.size());
        assertTrue(skipped.get(0).contains("missing image") && skipped.get(0).contains("pairs.jsonl line 3"), skipped.get(0));

        JsonArray shards = m.getAsJsonArray("shards");
        assertEquals(3, shards.size());
        Map<Long, Integer> perTriplet = new HashMap<>();
        Map<Long, Integer> positives = new HashMap<>();
        int total = 0;
        for (JsonElement s : shards) {
            String file = s.getAsJsonObject().get("file").getAsString();
            int k = s.getAsJsonObject().get("samples").getAsInt();
            total += k;
            try (SafetensorsFile f = SafetensorsFile.open(out.resolve(file))) {
                assertEquals(TensorDType.F32, f.info("maps").dtype());
                assertArrayEquals(new long[] {k, 2, 44, 16, 16}, f.info("maps").shape());
                for (String name : List.of("timestep", "label", "prompt_relation", "triplet")) {
                    assertEquals(TensorDType.I64, f.info(name).dtype(), name);
                    assertArrayEquals(new long[] {k}, f.info(name).shape(), name);
                }
                assertEquals(TensorDType.U8, f.info("positive").dtype());
                assertArrayEquals(new long[] {k}, f.info("positive").shape());
                float[] maps = f.readFloats("maps");
                long[] timestep = f.readLongs("timestep");
                long[] label = f.readLongs("label");
                long[] prompted = f.readLongs("prompt_relation");
                long[] positive = f.readLongs("positive");
                long[] triplet = f.readLongs("triplet");
                for (int i = 0; i < k; i++) {
                    assertTrue(List.of(5L, 10L, 15L, 20L, 25L, 49L).contains(timestep[i]));
                    int id = (int) triplet[i];
                    assertEquals(truth[id].ordinal(), label[i], "the label is the true relation");
                    if (positive[i] == 1) {
                        assertEquals(label[i], prompted[i]);
                        positives.merge(triplet[i], 1, Integer::sum);
                    } else {
                        assertEquals(0, positive[i]);
                        assertNotEquals(label[i], prompted[i], "a negative prompt states a wrong relation");
                    }
                    perTriplet.merge(triplet[i], 1, Integer::sum);
                    // every 16x16 map is renormalised to sum to 1
                    for (int map = 0; map < 2 * 44; map += 43) {
                        double sum = 0;
                        int base = (i * 2 * 44 + map) * 256;
                        for (int p = 0; p < 256; p++) {
                            sum += maps[base + p];
                        }
                        assertEquals(1.0, sum, 1e-4);
                    }
                }
            }
        }
        assertEquals(4 * SAMPLES_PER_TRIPLET, total);
        assertEquals(Map.of(0L, SAMPLES_PER_TRIPLET, 1L, SAMPLES_PER_TRIPLET, 2L, SAMPLES_PER_TRIPLET, 3L, SAMPLES_PER_TRIPLET), perTriplet,
                "each triplet exactly once, none duplicated by the resume");
        assertEquals(Map.of(0L, 6, 1L, 6, 2L, 6, 3L, 6), positives);
    }

    @Test
    void inversionsUnderThePsnrThresholdAreDroppedAndCounted() throws Exception {
        Path out = tmp.resolve("strict");
        RelationDatasetBuilder.Summary s = RelationDatasetBuilder.builder().setPipeline(sd).setOutputDir(out).addManifest(manifest)
                .optMaxTriplets(1).optSteps(4).optFixedPointIterations(1).optStepIndices(5, 49).optPsnrThreshold(60)
                .optProgress(null).build().run();
        assertEquals(1, s.triplets());
        assertEquals(2, s.inversions());
        assertEquals(2, s.droppedLowPsnr());
        assertEquals(0, s.samples());
        assertTrue(s.complete());
        JsonObject m = json(out.resolve("manifest.json"));
        assertEquals(2, m.getAsJsonObject("report").get("dropped_low_psnr").getAsInt());
        assertEquals(0, m.getAsJsonArray("shards").size());
        assertEquals(List.of(0), ints(m.getAsJsonArray("completed_triplets")));
        assertEquals(3, m.getAsJsonObject("report").getAsJsonObject("skipped").get(RecordReport.BEYOND_MAX_TRIPLETS).getAsInt());
    }

    @Test
    void stepIndicesFollowTheClassifierMappingAtOtherStepCounts() {
        for (int k : ClassifierTimesteps.TRAINED) {
            assertEquals(k, RelationDatasetBuilder.stepFor(k, 50));
            int step = RelationDatasetBuilder.stepFor(k, STEPS);
            assertEquals(k, ClassifierTimesteps.indexFor(step, STEPS), "step " + step + " of " + STEPS);
        }
        assertEquals(9, RelationDatasetBuilder.stepFor(49, 10));
        assertThrows(IllegalArgumentException.class, () -> RelationDatasetBuilder.builder().setPipeline(sd)
                .setOutputDir(tmp.resolve("x")).addManifest(manifest).optSteps(4).build());
        assertThrows(IllegalStateException.class, () -> RelationDatasetBuilder.builder().setPipeline(sd).setOutputDir(tmp).build());
        assertEquals("A dog to the left of a cat", RelationDatasetBuilder.prompt("dog", SpatialRelation.LEFT_OF, "cat"));
    }

    @Test
    void refusesAFolderWithOtherFiles() throws Exception {
        Path out = tmp.resolve("busy");
        Files.createDirectories(out);
        Files.writeString(out.resolve("notes.txt"), "mine");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> configured(out).build().run());
        assertTrue(e.getMessage().contains("notes.txt"), e.getMessage());
    }

    @Test
    void colourPhrasesBindTheirNounsAsSteeringDoes() throws Exception {
        ClipTokenizer tokenizer = ClipTokenizer.fromFolder(Conformance.testdata().resolve("architectures/sd15/tokenizer"));
        String text = RelationDatasetBuilder.prompt("red circle", SpatialRelation.LEFT_OF, "blue circle");
        TokenizedPrompt prompt = tokenizer.tokenize(text);
        TokenBinding dataset = RelationDatasetBuilder.bind(prompt, "red circle", SpatialRelation.LEFT_OF, "blue circle");
        TokenBinding steering = TokenBinding.bind(prompt, RelationParser.standard().parseRequired(text).get(0));
        assertArrayEquals(steering.subjectPositions(), dataset.subjectPositions(), text);
        assertArrayEquals(steering.objectPositions(), dataset.objectPositions(), text);
        assertArrayEquals(prompt.positionsOf("circle", 0), dataset.subjectPositions(), "the noun only, not the colour");
        assertArrayEquals(prompt.positionsOf("circle", 1), dataset.objectPositions(), "the second circle");
    }
}
