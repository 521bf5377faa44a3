package dev.steer.pytorch.relation;

import static dev.steer.core.testing.Conformance.assertClose;
import static dev.steer.core.testing.Conformance.assertRelL2;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.steer.core.relation.RelationClassifierConfig;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.weights.WeightsFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RelationClassifierTest {
    private static final String FIXTURE = "classifier-sd2-reference";
    private static final List<String> CLASSES = List.of("above", "below", "to the left of", "to the right of", "is");

    private static NDManager manager;
    private static SafetensorsFile golden;

    @TempDir
    Path tmp;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
        golden = Conformance.golden(FIXTURE);
    }

    @AfterAll
    static void close() {
        golden.close();
        manager.close();
    }

    private static Path fixture(String name) {
        return Conformance.dir(FIXTURE).resolve(name);
    }

    private static NDArray maps(NDManager m) {
        return m.create(golden.readFloats("input.maps"), new Shape(golden.info("input.maps").shape()));
    }

    private static NDArray timesteps(NDManager m) {
        return m.create(golden.readLongs("input.timestep"), new Shape(golden.info("input.timestep").shape()));
    }

    /** Mean cross-entropy of logits [B, C] against integer targets. */
    private static NDArray crossEntropy(NDArray logits, long[] targets) {
        int b = (int) logits.getShape().get(0);
        int c = (int) logits.getShape().get(1);
        float[] oneHot = new float[b * c];
        for (int i = 0; i < b; i++) {
            oneHot[i * c + (int) targets[i]] = 1f;
        }
        NDArray mask = logits.getManager().create(oneHot, new Shape(b, c));
        return logits.logSoftmax(1).mul(mask).sum().neg().div(b);
    }

    /** Logits, loss and d loss / d maps against the golden. */
    private static void assertMatchesGolden(PublishedRelationClassifier classifier, String source) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray maps = maps(scope);
            maps.setRequiresGradient(true);
            NDArray logits;
            NDArray loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                logits = classifier.logits(maps, timesteps(scope));
                loss = crossEntropy(logits, golden.readLongs("input.target"));
                gc.backward(loss);
            }
            assertSame(scope, logits.getManager(), "logits belong to the caller's scope");
            assertEquals(new Shape(4, 5), logits.getShape());
            assertClose(source + " output.logits", golden.readFloats("output.logits"), logits.toFloatArray(), 1e-4);
            assertClose(source + " output.ce_loss", golden.readFloats("output.ce_loss"), new float[] {loss.getFloat()}, 1e-5);
            NDArray grad = maps.getGradient();
            assertNotNull(grad);
            assertRelL2(source + " output.grad_maps", golden.readFloats("output.grad_maps"), grad.toFloatArray(), 1e-3);
        }
    }

    @Test
    void publishedPthMatchesReferenceLogitsLossAndGradient() {
        try (PublishedRelationClassifier c = PublishedRelationClassifier.load(fixture("classifier.pth"), manager)) {
            assertEquals(CLASSES, c.classNames());
            assertEquals(2, c.classIndex(SpatialRelation.LEFT_OF));
            assertEquals(1368, c.config().inputChannels());
            assertEquals(1368, c.mapsPerWord());
            assertEquals(50, c.timestepIndices());
            assertEquals(RelationClassifierConfig.publishedSd(CLASSES), c.config());
            assertMatchesGolden(c, "pth");
        }
    }

    @Test
    void safetensorsFileAndFolderMatchReference() {
        try (PublishedRelationClassifier c = PublishedRelationClassifier.load(fixture("classifier.safetensors"), manager)) {
            assertEquals(CLASSES, c.classNames());
            assertMatchesGolden(c, "safetensors");
        }
        try (PublishedRelationClassifier c = PublishedRelationClassifier.load(Conformance.dir(FIXTURE), manager)) {
            assertMatchesGolden(c, "folder");
        }
    }

    @Test
    void intermediatesStayInTheCallersScope() {
        try (PublishedRelationClassifier c = PublishedRelationClassifier.load(fixture("classifier.pth"), manager)) {
            int before = manager.getManagedArrays().size();
            for (int i = 0; i < 2; i++) {
                assertMatchesGolden(c, "repeat " + i);
            }
            assertEquals(before, manager.getManagedArrays().size(), "no arrays left behind in the weights' manager");
        }
    }

    @Test
    void parameterCountIsThePublishedTwoMillion() {
        PublishedRelationClassifier c = new PublishedRelationClassifier(RelationClassifierConfig.publishedSd(CLASSES));
        long buffers = c.namedParameters().size() - c.trainableParameters().size();
        assertEquals(2, buffers, "two positional-encoding buffers");
        long trainable = c.trainableParameters().values().stream().mapToLong(w -> w.shape().size()).sum();
        assertTrue(trainable > 1_900_000 && trainable < 2_100_000, "about 2.0M parameters, got " + trainable);
    }

    @Test
    void saveThenLoadReproducesTheLogitsExactly() throws IOException {
        Path dir = tmp.resolve("saved");
        try (PublishedRelationClassifier c = PublishedRelationClassifier.load(fixture("classifier.pth"), manager);
                NDManager scope = manager.newSubManager()) {
            c.save(dir);
            assertTrue(Files.isRegularFile(dir.resolve("classifier.safetensors")));
            RelationClassifierConfig saved = RelationClassifierConfig.load(dir.resolve("config.json"));
            assertEquals(c.config(), saved);
            float[] before = c.logits(maps(scope), timesteps(scope)).toFloatArray();
            try (PublishedRelationClassifier back = PublishedRelationClassifier.load(dir, manager)) {
                assertArrayEquals(before, back.logits(maps(scope), timesteps(scope)).toFloatArray());
                assertEquals(c.classNames(), back.classNames());
            }
            // and the fixture's own config.json reads as the same configuration
            assertEquals(c.config(), RelationClassifierConfig.load(fixture("config.json")));
        }
    }

    @Test
    void safetensorsWhoseShapesDisagreeWithTheConfigAreRefusedNamingTheKey() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("bad"));
        Files.copy(fixture("classifier.safetensors"), dir.resolve("classifier.safetensors"));
        String json = Files.readString(fixture("config.json"), StandardCharsets.UTF_8);
        // the head's FFN width: 128 in the weights, 64 in this config
        int at = json.indexOf("\"classifier\"");
        String changed = json.substring(0, at) + json.substring(at).replaceFirst("\"dim_feedforward\": 128", "\"dim_feedforward\": 64");
        Files.writeString(dir.resolve("config.json"), changed, StandardCharsets.UTF_8);
        WeightsFormatException e = assertThrows(WeightsFormatException.class,
                () -> PublishedRelationClassifier.load(dir.resolve("classifier.safetensors"), manager));
        assertTrue(e.getMessage().contains("relation_classifier.transformer.layers.0.linear1.weight"), e.getMessage());
    }

    @Test
    void pthWhoseShapesDisagreeWithItsConfigIsRefusedNamingTheKey() throws IOException {
        // patch input_channels 1368 -> 1367 in data.pkl: the extractor's positional table no longer fits
        Path src = fixture("classifier.pth");
        Path bad = tmp.resolve("bad.pth");
        try (ZipFile in = new ZipFile(src.toFile()); ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(bad))) {
            var entries = in.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                byte[] data = in.getInputStream(e).readAllBytes();
                if (e.getName().endsWith("/data.pkl")) {
                    byte[] key = "input_channels".getBytes(StandardCharsets.US_ASCII);
                    int i = indexOf(data, key);
                    assertTrue(i > 0);
                    // BINUNICODE 'input_channels', LONG_BINPUT n (5 bytes), BININT2 1368 = 'M' 0x58 0x05
                    int m = i + key.length + 5;
                    assertEquals('M', data[m]);
                    assertEquals(1368, (data[m + 1] & 0xff) | (data[m + 2] & 0xff) << 8);
                    data[m + 1] = (byte) 0x57;
                }
                out.putNextEntry(new ZipEntry(e.getName()));
                out.write(data);
                out.closeEntry();
            }
        }
        WeightsFormatException e = assertThrows(WeightsFormatException.class, () -> PublishedRelationClassifier.load(bad, manager));
        assertTrue(e.getMessage().contains("object_extractor.positional_encoding.pe") && e.getMessage().contains("1367"),
                e.getMessage());
    }

    private static int indexOf(byte[] data, byte[] key) {
        outer:
        for (int i = 0; i + key.length <= data.length; i++) {
            for (int j = 0; j < key.length; j++) {
                if (data[i + j] != key[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void wrongNumberOfMapsPerWordIsRefusedSayingExpectedAndGot() {
        RelationClassifierConfig pinned = RelationClassifierConfig.publishedSd(CLASSES).withMapsPerWord(195);
        try (PublishedRelationClassifier c = PublishedRelationClassifier.initialize(pinned, 1, manager);
                NDManager scope = manager.newSubManager()) {
            assertEquals(195, c.mapsPerWord());
            NDArray t = scope.create(new long[] {5});
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> c.logits(scope.ones(new Shape(1, 2, 44, 16, 16)), t));
            assertTrue(e.getMessage().contains("expected 195") && e.getMessage().contains("got 44"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> c.logits(scope.ones(new Shape(1, 195, 16, 16)), t));
            assertTrue(e.getMessage().contains("[batch, 2, maps per word, 16, 16]") && e.getMessage().contains("(1, 195, 16, 16)"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> c.logits(scope.ones(new Shape(1, 2, 195, 8, 8)), t));
            assertTrue(e.getMessage().contains("got"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> c.logits(scope.ones(new Shape(1, 2, 195, 16, 16)), scope.create(new long[] {50})));
            assertTrue(e.getMessage().contains("timestep index 50"), e.getMessage());
        }
        try (PublishedRelationClassifier c = PublishedRelationClassifier.load(fixture("classifier.pth"), manager);
                NDManager scope = manager.newSubManager()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> c.logits(scope.ones(new Shape(1, 2, 1369, 16, 16)), scope.create(new long[] {5})));
            assertTrue(e.getMessage().contains("1368") && e.getMessage().contains("got 1369"), e.getMessage());
            // published checkpoints read any count up to input_channels (e.g. the 44 maps of a tiny UNet)
            NDArray logits = c.logits(scope.ones(new Shape(2, 2, 44, 16, 16)).div(256f), scope.create(new long[] {5, 49}));
            assertEquals(new Shape(2, 5), logits.getShape());
        }
    }

    @Test
    void dropoutOnlyInTrainingAndBuffersAreNotTrained() {
        try (PublishedRelationClassifier c = PublishedRelationClassifier.load(fixture("classifier.pth"), manager);
                NDManager scope = manager.newSubManager()) {
            NDArray maps = maps(scope);
            NDArray t = timesteps(scope);
            float[] eval1 = c.logits(maps, t).toFloatArray();
            assertArrayEquals(eval1, c.logits(maps, t).toFloatArray(), "evaluation is deterministic");
            c.setTraining(true);
            try {
                assertTrue(c.isTraining());
                assertFalse(java.util.Arrays.equals(eval1, c.logits(maps, t).toFloatArray()), "dropout changes the logits");
            } finally {
                c.setTraining(false);
            }
            assertArrayEquals(eval1, c.logits(maps, t).toFloatArray());
            c.setRequiresGradient(true);
            try {
                assertFalse(c.namedParameters().get("object_extractor.positional_encoding.pe").value().hasGradient());
                assertTrue(c.namedParameters().get("object_extractor.query_vector").value().hasGradient());
            } finally {
                c.setRequiresGradient(false);
            }
        }
    }

    @Test
    void randomlyInitialisedClassifierUsesTheSinusoidalTable() {
        try (PublishedRelationClassifier fresh = PublishedRelationClassifier.initialize(RelationClassifierConfig.publishedSd(CLASSES), 7,
                manager); PublishedRelationClassifier published = PublishedRelationClassifier.load(fixture("classifier.pth"), manager)) {
            for (String key : List.of("object_extractor.positional_encoding.pe", "relation_classifier.positional_encoding.pe")) {
                assertClose("sinusoidal " + key, published.namedParameters().get(key).value().toFloatArray(),
                        fresh.namedParameters().get(key).value().toFloatArray(), 1e-4);
            }
            try (NDManager scope = manager.newSubManager()) {
                for (float v : fresh.logits(maps(scope), timesteps(scope)).toFloatArray()) {
                    assertTrue(Float.isFinite(v));
                }
            }
        }
    }
}
