package dev.steer.pytorch.relation;

import static dev.steer.core.testing.Conformance.assertClose;
import static dev.steer.core.testing.Conformance.assertRelL2;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.steer.core.relation.RelationClassifier;
import dev.steer.core.relation.RelationClassifierConfig;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The published relation classifier in its FLUX configurations: {@code classifier-flux-reference}
 * (flux_schnell_config.yaml: 1368 maps per word, 4 timestep indices, training timesteps [1, 3]) and the
 * small classifiers of {@code flux-steer-step} (map_size 8 with 4 indices; map_size 4 with 50).
 */
class FluxRelationClassifierTest {
    private static final String FIXTURE = "classifier-flux-reference";

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

    private static NDArray tensor(NDManager m, SafetensorsFile g, String name) {
        return m.create(g.readFloats(name), new Shape(g.info(name).shape()));
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

    private static void assertMatchesGolden(PublishedRelationClassifier classifier, String source) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray maps = tensor(scope, golden, "input.maps");
            maps.setRequiresGradient(true);
            NDArray timesteps = scope.create(golden.readLongs("input.timestep"), new Shape(golden.info("input.timestep").shape()));
            NDArray logits;
            NDArray loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                logits = classifier.logits(maps, timesteps);
                loss = crossEntropy(logits, golden.readLongs("input.target"));
                gc.backward(loss);
            }
            assertEquals(new Shape(2, 5), logits.getShape());
            assertClose(source + " output.logits", golden.readFloats("output.logits"), logits.toFloatArray(), 1e-4);
            assertClose(source + " output.ce_loss", golden.readFloats("output.ce_loss"), new float[] {loss.getFloat()}, 1e-5);
            NDArray grad = maps.getGradient();
            assertNotNull(grad);
            assertRelL2(source + " output.grad_maps", golden.readFloats("output.grad_maps"), grad.toFloatArray(), 1e-3);
        }
    }

    private static void assertFluxSchnellShape(RelationClassifier c) {
        assertEquals(1368, c.mapsPerWord());
        assertEquals(4, c.timestepIndices());
        assertEquals(16, c.mapSide());
        assertArrayEquals(new int[] {1, 3}, c.trainedTimesteps());
        assertEquals(1, c.timestepIndexFor(0, 4));
        assertEquals(3, c.timestepIndexFor(2, 4));
    }

    @Test
    void publishedPthMatchesReferenceLogitsLossAndGradient() {
        try (PublishedRelationClassifier c = PublishedRelationClassifier.load(Conformance.dir(FIXTURE).resolve("classifier.pth"), manager)) {
            assertFluxSchnellShape(c);
            assertEquals(RelationClassifierConfig.load(Conformance.dir(FIXTURE).resolve("config.json")), c.config());
            assertEquals(4, c.config().extractor().numLayers());
            assertEquals(4, c.config().classifier().numLayers());
            assertMatchesGolden(c, "flux pth");
        }
    }

    @Test
    void convertedToTheLibraryFormatMatchesReference() {
        Path dir = tmp.resolve("flux-classifier");
        try (PublishedRelationClassifier c = PublishedRelationClassifier.load(Conformance.dir(FIXTURE).resolve("classifier.pth"), manager)) {
            c.save(dir);
        }
        assertEquals(List.of(1, 3), RelationClassifierConfig.load(dir.resolve("config.json")).trainedTimesteps(),
                "training timesteps are stored in the library's config.json");
        try (PublishedRelationClassifier back = PublishedRelationClassifier.load(dir, manager)) {
            assertFluxSchnellShape(back);
            assertMatchesGolden(back, "flux converted");
        }
        try (PublishedRelationClassifier back = PublishedRelationClassifier.load(dir.resolve("classifier.safetensors"), manager)) {
            assertMatchesGolden(back, "flux converted file");
        }
    }

    /**
     * The flux-steer-step classifiers load from .pth and from safetensors + config, and both reproduce the
     * golden logits and loss from the golden maps at the golden classifier timestep index.
     */
    @ParameterizedTest
    @CsvSource({
        "classifier.pth, golden.safetensors, 8, 4, 1;3",
        "classifier.safetensors, golden.safetensors, 8, 4, 1;3",
        "classifier_dev.pth, golden_dev.safetensors, 4, 50, 5;10;15;20;25;49",
        "classifier_dev.safetensors, golden_dev.safetensors, 4, 50, 5;10;15;20;25;49"})
    void steerStepClassifiersLoadAndReproduceTheStepLogits(String file, String goldenFile, int mapSize, int indices, String trained) {
        Path path = Conformance.dir("flux-steer-step").resolve(file);
        try (PublishedRelationClassifier c = PublishedRelationClassifier.load(path, manager);
                SafetensorsFile g = Conformance.golden("flux-steer-step", goldenFile);
                NDManager scope = manager.newSubManager()) {
            assertEquals(mapSize, c.mapSide());
            assertEquals(indices, c.timestepIndices());
            assertEquals(8, c.mapsPerWord(), "input_channels 8 = 4 blocks x 2 heads");
            int[] expectedTrained = java.util.Arrays.stream(trained.split(";")).mapToInt(Integer::parseInt).toArray();
            assertArrayEquals(expectedTrained, c.trainedTimesteps());
            long index = g.readLongs("input.classifier_timestep_index")[0];
            int steps = indices == 4 ? 4 : 50;
            assertEquals(index, c.timestepIndexFor((int) g.readLongs("input.step_index")[0], steps));

            NDArray maps = tensor(scope, g, "output.maps");
            NDArray logits = c.logits(maps, scope.create(new long[] {index}, new Shape(1, 1)));
            assertClose(file + " logits", g.readFloats("output.logits"), logits.toFloatArray(), 1e-4);
            NDArray loss = crossEntropy(logits, g.readLongs("input.target_relation"));
            assertClose(file + " loss", g.readFloats("output.loss"), new float[] {loss.getFloat()}, 1e-5);
        }
    }

    @Test
    void smallClassifierRoundTripsThroughTheLibraryFormat() throws Exception {
        Path dir = tmp.resolve("dev");
        Path src = Conformance.dir("flux-steer-step").resolve("classifier_dev.pth");
        try (PublishedRelationClassifier c = PublishedRelationClassifier.load(src, manager);
                SafetensorsFile g = Conformance.golden("flux-steer-step", "golden_dev.safetensors");
                NDManager scope = manager.newSubManager()) {
            c.save(dir);
            assertEquals(Files.readString(dir.resolve("config.json")), c.config().toJson());
            try (PublishedRelationClassifier back = PublishedRelationClassifier.load(dir, manager)) {
                assertEquals(c.config(), back.config());
                NDArray maps = tensor(scope, g, "output.maps");
                NDArray t = scope.create(new long[] {5}, new Shape(1));
                assertArrayEquals(c.logits(maps, t).toFloatArray(), back.logits(maps, t).toFloatArray());
            }
        }
    }
}
