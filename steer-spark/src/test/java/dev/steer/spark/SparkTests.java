package dev.steer.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/** Spark sessions and the embedded model for the tests. */
final class SparkTests {
    /** The committed ShapeWorld model. */
    static final Path SHAPEWORLD = repositoryRoot().resolve("models/shapeworld");

    private SparkTests() {
    }

    /** A local session: {@code master} (e.g. {@code local[2]}, or {@code local[2,4]} to retry failed tasks), no UI. */
    static SparkSession session(String master, Path tmp) {
        return SparkSession.builder()
                .master(master)
                .appName("steer-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.sql.warehouse.dir", tmp.resolve("warehouse").toString())
                .config("spark.local.dir", tmp.resolve("spark-local").toString())
                .config(SteerTransform.PLUGIN_CONF, SteerTransform.PLUGIN)
                .getOrCreate();
    }

    /** The model at few steps: what the tests generate with. */
    static ModelSpec model() {
        return ModelSpec.of(SHAPEWORLD.toString());
    }

    private static Path repositoryRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("models/shapeworld"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("no models/shapeworld above " + Path.of("").toAbsolutePath());
        }
        return p;
    }
}
