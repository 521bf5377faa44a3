package dev.steer.pytorch.pipeline;

import dev.steer.core.testing.Conformance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Assembles diffusers model folders from the conformance fixtures (unet-sd1-tiny, clip-sd1-tiny,
 * vae-tiny, sched-ddim and the real CLIP tokenizer), as a user's download would look.
 */
final class TinyModelFolders {
    private TinyModelFolders() {
    }

    /** The pipeline-tiny model: the fixtures' weights as they are. */
    static Path create(Path root) throws IOException {
        copyDir(Conformance.dir("unet-sd1-tiny").resolve("unet"), root.resolve("unet"));
        copyDir(Conformance.dir("clip-sd1-tiny").resolve("text_encoder"), root.resolve("text_encoder"));
        copyDir(Conformance.dir("vae-tiny").resolve("vae"), root.resolve("vae"));
        Files.createDirectories(root.resolve("scheduler"));
        Files.copy(Conformance.dir("sched-ddim").resolve("scheduler_config.json"), root.resolve("scheduler/scheduler_config.json"));
        copyDir(Conformance.dir("clip-tokenizer"), root.resolve("tokenizer"));
        Files.delete(root.resolve("tokenizer/golden_token_ids.json"));
        return root;
    }

    static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f)) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
        }
    }
}
