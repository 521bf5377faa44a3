package dev.steer.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.generation.ModelDefaults;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFolderDefaultsTest {
    private static final ModelDefaults FAMILY = ModelDefaults.stableDiffusion(512);

    @TempDir
    Path dir;

    private ModelDefaults defaults(String index) throws Exception {
        if (index != null) {
            Files.writeString(dir.resolve(ModelFolder.MODEL_INDEX), index);
        }
        return ModelFolder.open(dir, null).defaults(FAMILY);
    }

    @Test
    void aFolderWithoutDeclaredDefaultsKeepsTheFamilys() throws Exception {
        assertSame(FAMILY, defaults(null));
        assertSame(FAMILY, defaults("{\"_class_name\": \"FluxPipeline\"}"));
    }

    @Test
    void declaredStepsGuidanceAndSizeReplaceTheFamilysAndTheRestIsKept() throws Exception {
        ModelDefaults d = defaults("{\"_class_name\": \"FluxPipeline\", \"_steer_defaults\": {\"steps\": 20, \"guidance_scale\": 5, \"image_size\": 32}}");
        assertEquals(new ModelDefaults(20, 5f, 32, FAMILY.steering()), d);
        assertEquals(new ModelDefaults(50, 7.5f, 64, FAMILY.steering()), defaults("{\"_steer_defaults\": {\"image_size\": 64}}"));
    }

    @Test
    void unknownKeysAndInvalidValuesAreRefusedNamingTheFile() throws Exception {
        ModelConfigException typo = assertThrows(ModelConfigException.class, () -> defaults("{\"_steer_defaults\": {\"step\": 20}}"));
        assertTrue(typo.getMessage().contains(ModelFolder.MODEL_INDEX) && typo.getMessage().contains("'step'"), typo.getMessage());
        ModelConfigException zero = assertThrows(ModelConfigException.class, () -> defaults("{\"_steer_defaults\": {\"steps\": 0}}"));
        assertTrue(zero.getMessage().contains(ModelFolder.MODEL_INDEX), zero.getMessage());
        assertThrows(ModelConfigException.class, () -> defaults("{\"_steer_defaults\": [20]}"));
        assertThrows(ModelConfigException.class, () -> defaults("{\"_steer_defaults\": {\"image_size\": \"big\"}}"));
    }
}
