package dev.steer.core.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models steer ships as Maven artifacts (e.g. {@code dev.steer:steer-model-shapeworld}): their
 * folders are classpath resources under {@code dev/steer/models/<name>/}, and {@link #folder}
 * copies one out once into a cache directory, so that pipelines (which map weight files) can load
 * it without a checkout: {@code StableDiffusion.builder().setEmbeddedModel(EmbeddedModels.SHAPEWORLD)}.
 *
 * <p>The cache is {@code $STEER_CACHE}, else the {@code steer.cache} system property, else
 * {@code ~/.cache/steer}; each model goes to {@code models/<name>-<fingerprint>}, the fingerprint
 * being a hash of the resource names and sizes, so a new version of the artifact gets a new folder
 * and an interrupted copy is never used (copies are made in a temporary folder and renamed).
 */
public final class EmbeddedModels {
    /** The ShapeWorld text-to-image model (Stable Diffusion's UNet family) with its relation classifier. */
    public static final String SHAPEWORLD = "shapeworld";

    /** Where the model folders lie on the classpath. */
    public static final String RESOURCE_ROOT = "dev/steer/models/";

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedModels.class);

    private EmbeddedModels() {
    }

    /**
     * The folder of embedded model {@code name}, copied out of the classpath on first use.
     *
     * @throws ModelConfigException when no such model is on the classpath (naming the artifact to add)
     * @throws UncheckedIOException when the cache directory cannot be written
     */
    public static Path folder(String name) {
        return folder(name, Thread.currentThread().getContextClassLoader() != null ? Thread.currentThread().getContextClassLoader()
                : EmbeddedModels.class.getClassLoader(), cacheDir());
    }

    /** {@link #folder(String)} from a given class loader into a given cache directory. */
    public static Path folder(String name, ClassLoader loader, Path cache) {
        if (!name.matches("[a-z0-9][a-z0-9-]{0,63}")) {
            throw new IllegalArgumentException("not an embedded model name: '" + name + "'");
        }
        String root = RESOURCE_ROOT + name + "/";
        URL index = loader.getResource(root + ModelFolder.MODEL_INDEX);
        if (index == null) {
            throw new ModelConfigException(Path.of(root + ModelFolder.MODEL_INDEX), "is not on the classpath: add the dependency "
                    + "dev.steer:steer-model-" + name + " to load the embedded model '" + name + "'");
        }
        try {
            URI uri = index.toURI();
            if ("jar".equals(uri.getScheme())) {
                FileSystem jar;
                try {
                    jar = FileSystems.newFileSystem(uri, Map.of());
                } catch (FileSystemAlreadyExistsException e) {
                    return copyOut(name, FileSystems.getFileSystem(uri).getPath("/" + root), cache); // someone else's: leave it open
                }
                try (jar) {
                    return copyOut(name, jar.getPath("/" + root), cache);
                }
            }
            return copyOut(name, Path.of(uri).getParent(), cache);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the embedded model '" + name + "' into " + cache + ": " + e.getMessage(), e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("unreadable resource location " + index, e);
        }
    }

    /** The cache directory: {@code $STEER_CACHE}, the {@code steer.cache} property, or {@code ~/.cache/steer}. */
    public static Path cacheDir() {
        String env = System.getenv("STEER_CACHE");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String prop = System.getProperty("steer.cache");
        return prop != null && !prop.isBlank() ? Path.of(prop) : Path.of(System.getProperty("user.home"), ".cache", "steer");
    }

    private static Path copyOut(String name, Path source, Path cache) throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(source)) {
            walk.filter(Files::isRegularFile).sorted().forEach(files::add);
        }
        Path target = cache.resolve("models").resolve(name + "-" + fingerprint(source, files));
        if (Files.isRegularFile(target.resolve(ModelFolder.MODEL_INDEX))) {
            return target;
        }
        Files.createDirectories(target.getParent());
        Path tmp = Files.createTempDirectory(target.getParent(), name + "-partial-");
        long bytes = 0;
        for (Path f : files) {
            Path out = tmp.resolve(source.relativize(f).toString());
            Files.createDirectories(out.getParent());
            try (InputStream in = Files.newInputStream(f)) {
                bytes += Files.copy(in, out);
            }
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
            deleteTree(tmp); // another process copied it first
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target);
        }
        LOG.info("copied the embedded model '{}' ({} files, {} MB) to {}", name, files.size(), bytes >> 20, target);
        return target;
    }

    private static String fingerprint(Path source, List<Path> files) throws IOException {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Path f : files) {
                sha.update((source.relativize(f) + "\n" + Files.size(f) + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(sha.digest(), 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
