package dev.steer.core.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.internal.weights.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Locates the conformance fixtures committed under {@code testdata/conformance} (copied from the
 * reference implementations' outputs) and compares arrays against their goldens. Shared with the
 * backend modules through steer-core's test jar.
 */
public final class Conformance {
    private Conformance() {
    }

    /** The repository's {@code testdata} folder, found by walking up from the working directory. */
    public static Path testdata() {
        Path dir = Paths.get("").toAbsolutePath();
        while (dir != null) {
            Path candidate = dir.resolve("testdata");
            if (Files.isDirectory(candidate.resolve("conformance"))) {
                return candidate;
            }
            dir = dir.getParent();
        }
        throw new IllegalStateException("testdata/conformance not found above " + Paths.get("").toAbsolutePath());
    }

    /** A fixture folder, e.g. {@code dir("unet-sd1-tiny")}. */
    public static Path dir(String fixture) {
        Path p = testdata().resolve("conformance").resolve(fixture);
        assertTrue(Files.isDirectory(p), "missing fixture " + p);
        return p;
    }

    /**
     * The reference classifier fixture (1,368 input channels, random weights) in the
     * library's format with {@code maps_per_word} pinned to {@code mapsPerWord}, written into
     * {@code dir}: the published architecture reads any count up to its input channels, and a
     * pipeline accepts a classifier only for exactly as many maps as its probe produces.
     */
    public static Path referenceClassifierFor(Path dir, int mapsPerWord) {
        Path src = dir("classifier-sd2-reference");
        try {
            Files.createDirectories(dir);
            Files.copy(src.resolve("classifier.safetensors"), dir.resolve("classifier.safetensors"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            com.google.gson.JsonObject config = com.google.gson.JsonParser.parseString(Files.readString(src.resolve("config.json")))
                    .getAsJsonObject();
            config.addProperty("maps_per_word", mapsPerWord);
            Files.writeString(dir.resolve("config.json"), config.toString());
            return dir;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Opens {@code <fixture>/<file>} (default golden.safetensors). Close it after use. */
    public static SafetensorsFile golden(String fixture) {
        return golden(fixture, "golden.safetensors");
    }

    /** Opens a named golden file of a fixture. */
    public static SafetensorsFile golden(String fixture, String file) {
        return SafetensorsFile.open(dir(fixture).resolve(file));
    }

    /** Largest absolute elementwise difference. */
    public static double maxAbsDiff(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, "length");
        double m = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            if (Double.isNaN(d)) {
                return Double.POSITIVE_INFINITY;
            }
            m = Math.max(m, d);
        }
        return m;
    }

    /** Relative L2 error |a - e| / |e|. */
    public static double relativeL2(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, "length");
        double num = 0;
        double den = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = (double) actual[i] - expected[i];
            num += d * d;
            den += (double) expected[i] * expected[i];
        }
        return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-30);
    }

    /** Asserts max |diff| within {@code tol}, printing the error so test logs carry the figure. */
    public static double assertClose(String what, float[] expected, float[] actual, double tol) {
        double err = maxAbsDiff(expected, actual);
        System.out.printf("conformance %-40s max|diff| = %.3e%n", what, err);
        assertTrue(err <= tol, what + ": max |diff| " + err + " > " + tol);
        return err;
    }

    /** Asserts relative L2 error within {@code tol}, printing it. */
    public static double assertRelL2(String what, float[] expected, float[] actual, double tol) {
        double err = relativeL2(expected, actual);
        System.out.printf("conformance %-40s relL2 = %.3e%n", what, err);
        assertTrue(err <= tol, what + ": relative L2 " + err + " > " + tol);
        return err;
    }
}
