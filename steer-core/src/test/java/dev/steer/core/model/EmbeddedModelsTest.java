package dev.steer.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedModelsTest {
    @TempDir
    Path tmp;

    private Path jar(String name, Map<String, String> files) throws Exception {
        Path jar = tmp.resolve(name + ".jar");
        try (OutputStream out = Files.newOutputStream(jar); ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, String> f : files.entrySet()) {
                zip.putNextEntry(new ZipEntry(EmbeddedModels.RESOURCE_ROOT + f.getKey()));
                zip.write(f.getValue().getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
        return jar;
    }

    @Test
    void aModelInAJarIsCopiedOutOnceAndANewVersionGetsItsOwnFolder() throws Exception {
        Path cache = tmp.resolve("cache");
        Path v1 = jar("v1", Map.of("tiny/model_index.json", "{\"_class_name\": \"StableDiffusionPipeline\"}", "tiny/unet/config.json", "{}"));
        Path folder;
        try (URLClassLoader loader = new URLClassLoader(new URL[] {v1.toUri().toURL()}, null)) {
            folder = EmbeddedModels.folder("tiny", loader, cache);
            assertEquals("{}", Files.readString(folder.resolve("unet/config.json")));
            assertTrue(folder.startsWith(cache.resolve("models")), folder.toString());
            Files.writeString(folder.resolve("marker"), "kept");
            assertEquals(folder, EmbeddedModels.folder("tiny", loader, cache), "the second call reuses the copy");
            assertTrue(Files.exists(folder.resolve("marker")));
        }
        Path v2 = jar("v2", Map.of("tiny/model_index.json", "{\"_class_name\": \"StableDiffusionPipeline\"}", "tiny/unet/config.json",
                "{\"sample_size\": 4}"));
        try (URLClassLoader loader = new URLClassLoader(new URL[] {v2.toUri().toURL()}, null)) {
            Path other = EmbeddedModels.folder("tiny", loader, cache);
            assertNotEquals(folder, other);
            assertEquals("{\"sample_size\": 4}", Files.readString(other.resolve("unet/config.json")));
        }
        try (var left = Files.list(cache.resolve("models"))) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().contains("partial")), "no partial copies left behind");
        }
    }

    @Test
    void aModelInAClassesFolderIsCopiedToo() throws Exception {
        Path classes = tmp.resolve("classes");
        Files.createDirectories(classes.resolve(EmbeddedModels.RESOURCE_ROOT + "tiny/vae"));
        Files.writeString(classes.resolve(EmbeddedModels.RESOURCE_ROOT + "tiny/model_index.json"), "{}");
        Files.writeString(classes.resolve(EmbeddedModels.RESOURCE_ROOT + "tiny/vae/config.json"), "{\"x\": 1}");
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, null)) {
            Path folder = EmbeddedModels.folder("tiny", loader, tmp.resolve("cache"));
            assertEquals("{\"x\": 1}", Files.readString(folder.resolve("vae/config.json")));
        }
    }

    @Test
    void aModelNotOnTheClasspathNamesTheArtifactToAdd() throws Exception {
        try (URLClassLoader loader = new URLClassLoader(new URL[0], null)) {
            ModelConfigException e = assertThrows(ModelConfigException.class, () -> EmbeddedModels.folder("shapeworld", loader, tmp));
            assertTrue(e.getMessage().contains("dev.steer:steer-model-shapeworld"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> EmbeddedModels.folder("../etc", loader, tmp));
        }
    }
}
