package dev.steer.spark.job;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * The folder of PNG files and its manifest, written from the committed result table (never from a
 * task that may still fail), so that each row is there once whatever Spark retried: {@code <id>.png}
 * per generated row, written by the executors (a file is written under a temporary name and renamed;
 * one that exists is kept), and {@code manifest.jsonl}, one JSON line per result row in id order
 * (every column but the image, with {@code file} naming the PNG), rewritten whole each run.
 * Local paths are written with {@code java.nio}, others ({@code hdfs://}, {@code s3a://}) through
 * Hadoop's file systems.
 */
final class ImageFolder {
    /** The manifest's file name. */
    static final String MANIFEST = "manifest.jsonl";

    private ImageFolder() {
    }

    /** Writes the missing PNG files of {@code results}; returns how many were written. */
    static long writeImages(SparkSession spark, Dataset<Row> results, String folder) {
        byte[] conf = serialise(spark.sparkContext().hadoopConfiguration());
        Dataset<Long> written = results.filter(functions.col("png").isNotNull()).select("id", "png")
                .mapPartitions(new WriteImages(folder, conf), Encoders.LONG());
        return written.collectAsList().stream().mapToLong(Long::longValue).sum();
    }

    /** Rewrites the manifest from {@code results}. */
    static void writeManifest(SparkSession spark, Dataset<Row> results, String folder) throws IOException {
        String tmp = folder + "/_manifest_tmp";
        results.drop("png")
                .withColumn("file", functions.when(functions.col("error").isNull(), functions.concat(functions.col("id"),
                        functions.lit(".png"))))
                .orderBy("id")
                .coalesce(1)
                .write().mode("overwrite").json(tmp);
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Path dir = new Path(tmp);
        FileSystem fs = withoutChecksums(dir.getFileSystem(conf));
        Path part = null;
        for (var status : fs.listStatus(dir)) {
            String name = status.getPath().getName();
            if (name.startsWith("part-") && name.endsWith(".json")) {
                part = status.getPath();
            }
        }
        Path manifest = new Path(folder, MANIFEST);
        if (part == null) { // no result rows: an empty manifest
            fs.create(manifest, true).close();
        } else {
            fs.delete(manifest, false);
            if (!fs.rename(part, manifest)) {
                throw new IOException("could not move " + part + " to " + manifest);
            }
        }
        fs.delete(dir, true);
    }

    /**
     * {@code fs}, or for the local file system its raw form, which writes and moves no {@code .crc} files
     * beside the manifest and the summary.
     */
    static FileSystem withoutChecksums(FileSystem fs) {
        return fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
    }

    private static byte[] serialise(Configuration conf) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            conf.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Writes one partition's images; gives the number written. */
    private static final class WriteImages implements MapPartitionsFunction<Row, Long>, Serializable {
        private static final long serialVersionUID = 1L;
        private final String folder;
        private final byte[] conf;

        WriteImages(String folder, byte[] conf) {
            this.folder = folder;
            this.conf = conf;
        }

        @Override
        public Iterator<Long> call(Iterator<Row> rows) throws IOException {
            long n = 0;
            URI uri = URI.create(folder.replace(" ", "%20"));
            boolean local = uri.getScheme() == null || uri.getScheme().equals("file");
            FileSystem fs = null;
            if (!local) {
                Configuration c = new Configuration(false);
                c.readFields(new DataInputStream(new ByteArrayInputStream(conf)));
                fs = new Path(folder).getFileSystem(c);
            }
            String attempt = org.apache.spark.TaskContext.get() == null ? "0" : Long.toString(org.apache.spark.TaskContext.get()
                    .taskAttemptId());
            while (rows.hasNext()) {
                Row r = rows.next();
                String name = r.getString(0) + ".png";
                byte[] png = r.getAs(1);
                if (local) {
                    java.nio.file.Path dir = uri.getScheme() == null ? java.nio.file.Path.of(folder) : java.nio.file.Path.of(uri);
                    java.nio.file.Path file = dir.resolve(name);
                    if (Files.exists(file)) {
                        continue;
                    }
                    Files.createDirectories(dir);
                    java.nio.file.Path tmp = dir.resolve("." + name + "." + attempt + ".tmp");
                    Files.write(tmp, png);
                    try {
                        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
                    } catch (AtomicMoveNotSupportedException e) {
                        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                    }
                } else {
                    Path file = new Path(folder, name);
                    if (fs.exists(file)) {
                        continue;
                    }
                    Path tmp = new Path(folder, "." + name + "." + attempt + ".tmp");
                    try (OutputStream out = fs.create(tmp, true)) {
                        out.write(png);
                    }
                    if (!fs.rename(tmp, file)) {
                        fs.delete(tmp, false); // another attempt renamed the same bytes first
                        if (!fs.exists(file)) {
                            throw new IOException("could not move " + tmp + " to " + file);
                        }
                    }
                }
                n++;
            }
            return java.util.List.of(n).iterator();
        }
    }
}
