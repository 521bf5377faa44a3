package dev.steer.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Finds the real SD architecture folders (configs without weights) committed under
 * {@code testdata/architectures}, or takes a user's folder as is.
 */
final class Architectures {
    private Architectures() {
    }

    /** "sd15" / "sd21" resolve to the committed folders; anything else is a path to a model folder. */
    static Path resolve(String nameOrPath) {
        Path direct = Paths.get(nameOrPath);
        if (Files.isDirectory(direct)) {
            return direct;
        }
        Path dir = Paths.get("").toAbsolutePath();
        while (dir != null) {
            Path candidate = dir.resolve("testdata").resolve("architectures").resolve(nameOrPath);
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
            dir = dir.getParent();
        }
        throw new IllegalArgumentException("no architecture '" + nameOrPath + "' under testdata/architectures and no such folder");
    }
}
