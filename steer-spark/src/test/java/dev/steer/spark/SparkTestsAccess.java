package dev.steer.spark;

import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/** {@link SparkTests} for the tests of other packages. */
public final class SparkTestsAccess {
    private SparkTestsAccess() {
    }

    /** The committed ShapeWorld model's path. */
    public static String shapeworld() {
        return SparkTests.SHAPEWORLD.toString();
    }

    /** {@link SparkTests#session}. */
    public static SparkSession session(String master, Path tmp) {
        return SparkTests.session(master, tmp);
    }
}
