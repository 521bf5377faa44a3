package dev.steer.core.relation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.model.ModelConfigException;
import dev.steer.core.steering.ClassifierTimesteps;
import dev.steer.core.testing.Conformance;
import dev.steer.core.weights.WeightsFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.steer.core.internal.weights.RelationClassifierWeights;

/**
 * Training timesteps ({@code training_config.timesteps}) read from, and written to, classifier configs and
 * checkpoints; and the FLUX-configured classifiers read by the backend-neutral reader.
 */
class RelationClassifierTrainingTimestepsTest {
    private static final List<String> CLASSES = List.of("above", "below", "to the left of", "to the right of", "is");

    private static Path fixture(String dir, String file) {
        return Conformance.dir(dir).resolve(file);
    }

    @Test
    void fluxConfigsCarryTheirTrainingTimesteps() {
        RelationClassifierConfig schnell = RelationClassifierConfig.load(fixture("classifier-flux-reference", "config.json"));
        assertEquals(List.of(1, 3), schnell.trainedTimesteps());
        assertEquals(4, schnell.numTimesteps());
        assertEquals(1368, schnell.inputChannels());
        RelationClassifierConfig dev = RelationClassifierConfig.load(fixture("flux-steer-step", "classifier_dev_config.json"));
        assertEquals(List.of(5, 10, 15, 20, 25, 49), dev.trainedTimesteps());
        assertEquals(50, dev.numTimesteps());
        assertEquals(4, dev.mapSize());
    }

    @Test
    void configsWithoutTrainingTimestepsAssumeThePublishedSdOnes() {
        RelationClassifierConfig sd = RelationClassifierConfig.load(fixture("classifier-sd2-reference", "config.json"));
        assertArrayEquals(ClassifierTimesteps.TRAINED, sd.trainedTimestepArray());
        assertEquals(RelationClassifierConfig.publishedSd(CLASSES), sd);
    }

    @Test
    void trainingTimestepsSurviveTheLibraryFormat() {
        RelationClassifierConfig schnell = RelationClassifierConfig.load(fixture("classifier-flux-reference", "config.json"));
        String json = schnell.toJson();
        assertTrue(json.contains("\"training_config\""), json);
        assertEquals(schnell, RelationClassifierConfig.parse(Path.of("config.json"), json));
        RelationClassifierConfig sd = RelationClassifierConfig.publishedSd(CLASSES);
        assertEquals(sd, RelationClassifierConfig.parse(Path.of("config.json"), sd.toJson()));
    }

    @Test
    void inconsistentTrainingConfigIsRefusedNamingTheFileAndKey() throws IOException {
        String json = Files.readString(fixture("classifier-flux-reference", "config.json"));
        Path file = Path.of("classifier/config.json");
        // an index the classifier does not embed
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> RelationClassifierConfig.parse(file,
                json.replaceFirst("\"timesteps\": \\[\\s*1,\\s*3\\s*\\]", "\"timesteps\": [1, 4]")));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("4") && e.getMessage().contains("num_timesteps"),
                e.getMessage());
        // training_config.num_timesteps against config.num_timesteps
        e = assertThrows(ModelConfigException.class, () -> RelationClassifierConfig.parse(file,
                json.replaceFirst("\"num_timesteps\": 4,\\s*\"data_size\"", "\"num_timesteps\": 50, \"data_size\"")));
        assertTrue(e.getMessage().contains("training_config.num_timesteps"), e.getMessage());
        // not integers
        e = assertThrows(ModelConfigException.class, () -> RelationClassifierConfig.parse(file,
                json.replaceFirst("\"timesteps\": \\[\\s*1,\\s*3\\s*\\]", "\"timesteps\": [\"early\"]")));
        assertTrue(e.getMessage().contains("training_config.timesteps"), e.getMessage());
        // a 4-index classifier without training timesteps: the SD default does not fit, and the message says why
        String withoutTraining = json.substring(0, json.indexOf("\"training_config\"")) + json.substring(json.indexOf("\"relations\""));
        e = assertThrows(ModelConfigException.class, () -> RelationClassifierConfig.parse(file, withoutTraining));
        assertTrue(e.getMessage().contains("training_config.timesteps"), e.getMessage());
    }

    @Test
    void backendNeutralReaderLoadsTheFluxClassifiers() {
        RelationClassifierWeights reference = RelationClassifierWeights.load(fixture("classifier-flux-reference", "classifier.pth"));
        assertEquals(List.of(1, 3), reference.config().trainedTimesteps());
        assertEquals(RelationClassifierConfig.load(fixture("classifier-flux-reference", "config.json")), reference.config());

        RelationClassifierWeights smallPth = RelationClassifierWeights.load(fixture("flux-steer-step", "classifier.pth"));
        RelationClassifierWeights smallSt = RelationClassifierWeights.load(fixture("flux-steer-step", "classifier.safetensors"));
        assertEquals(smallPth.config(), smallSt.config());
        assertEquals(8, smallPth.config().mapSize());
        assertEquals(8, smallPth.config().inputChannels());
        assertEquals(List.of(1, 3), smallPth.config().trainedTimesteps());
        for (String k : smallPth.tensors().keySet()) {
            assertArrayEquals(smallPth.floats(k), smallSt.floats(k), k);
        }

        RelationClassifierWeights devPth = RelationClassifierWeights.load(fixture("flux-steer-step", "classifier_dev.pth"));
        // classifier_dev.safetensors reads classifier_dev_config.json, not the folder's config.json
        assertEquals(fixture("flux-steer-step", "classifier_dev_config.json").toAbsolutePath(),
                RelationClassifierWeights.configFor(fixture("flux-steer-step", "classifier_dev.safetensors")));
        RelationClassifierWeights devSt = RelationClassifierWeights.load(fixture("flux-steer-step", "classifier_dev.safetensors"));
        assertEquals(devPth.config(), devSt.config());
        assertEquals(4, devSt.config().mapSize());
        assertEquals(50, devSt.config().numTimesteps());
        assertEquals(List.of(5, 10, 15, 20, 25, 49), devSt.config().trainedTimesteps());
        for (String k : devPth.tensors().keySet()) {
            assertArrayEquals(devPth.floats(k), devSt.floats(k), k);
        }
    }

    @Test
    void safetensorsWithoutAnyConfigIsRefusedNamingTheConfigFile(@TempDir Path dir) throws IOException {
        Path st = Files.copy(fixture("flux-steer-step", "classifier_dev.safetensors"), dir.resolve("classifier_dev.safetensors"));
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> RelationClassifierWeights.load(st));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        // the wrong sibling config (schnell's) is refused by shape, naming a tensor
        Files.copy(fixture("flux-steer-step", "config.json"), dir.resolve("config.json"));
        WeightsFormatException w = assertThrows(WeightsFormatException.class, () -> RelationClassifierWeights.load(st));
        assertTrue(w.getMessage().contains("object_extractor.input_projection.weight") && w.getMessage().contains("config implies"),
                w.getMessage());
    }
}
