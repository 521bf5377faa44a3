package dev.steer.spark.job;

import dev.steer.spark.RequestColumns;
import dev.steer.spark.ResultColumns;
import dev.steer.spark.RowListener;
import dev.steer.spark.SteerTransform;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dataset job: reads a request table, generates every request not yet in the output with
 * {@link SteerTransform}, appends the results to a Parquet table, and optionally writes the images as
 * PNG files with a JSON Lines manifest. Run it with {@code spark-submit --class
 * dev.steer.spark.job.SteerDatasetJob} on a cluster, or with {@code --master local[N]} on one machine
 * ({@link JobOptions#USAGE} lists the options).
 *
 * <p><b>Exactly once.</b> Every request has an id (its {@code id} column, else a hash of its values).
 * A run skips the ids the output already holds, then writes the rest in batches of
 * {@link JobOptions#batchRows()} requests in id order, each batch one Parquet append that Spark
 * commits whole: a task that dies is retried by Spark and only one attempt of each task is committed,
 * and a job that dies loses only the batch it was writing, which the next run generates. The PNG files
 * and the manifest are written from the committed table afterwards (files named by id, written under
 * a temporary name and renamed; the manifest rewritten whole), so they hold each row once as well.
 * Bad rows are written with their {@code error} and count as written: a rerun does not retry them.
 */
public final class SteerDatasetJob {
    private static final Logger LOG = LoggerFactory.getLogger(SteerDatasetJob.class);

    /** The result table's folder under the output folder. */
    public static final String PARQUET = "parquet";

    /** The summary's file under the output folder. */
    public static final String SUMMARY = "job-summary.json";

    private static final String ID = "id";

    private SteerDatasetJob() {
    }

    /**
     * Runs the job from a command line; exit code 0 when it ran (bad rows included), 2 for a wrong option,
     * 1 when the job failed.
     */
    public static void main(String[] args) {
        if (args.length == 0 || List.of(args).contains("--help")) {
            System.out.println(JobOptions.USAGE);
            return;
        }
        JobOptions options;
        try {
            options = JobOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("SteerDatasetJob: " + e.getMessage() + "\n" + JobOptions.USAGE);
            System.exit(2);
            return;
        }
        SparkSession spark = session(options);
        int code = 0;
        try {
            JobSummary summary = run(spark, options, null);
            System.out.println(summary.toJson());
        } catch (RuntimeException e) {
            LOG.error("the job failed", e);
            code = 1;
        } finally {
            spark.stop();
        }
        if (code != 0) {
            System.exit(code);
        }
    }

    /**
     * A session for the job: the given master when spark-submit set none, and {@link dev.steer.spark.SteerSparkPlugin}
     * added to {@code spark.plugins}.
     *
     * @throws IllegalArgumentException when there is no master at all
     */
    public static SparkSession session(JobOptions options) {
        SparkConf conf = new SparkConf();
        SparkSession.Builder b = SparkSession.builder().appName("steer dataset");
        if (!conf.contains("spark.master")) {
            if (options.master() == null) {
                throw new IllegalArgumentException("no Spark master: run through spark-submit, or give --master local[*]");
            }
            b.master(options.master());
        }
        String plugins = conf.get(SteerTransform.PLUGIN_CONF, "");
        if (!plugins.contains(SteerTransform.PLUGIN)) {
            b.config(SteerTransform.PLUGIN_CONF, plugins.isEmpty() ? SteerTransform.PLUGIN : plugins + "," + SteerTransform.PLUGIN);
        }
        return b.getOrCreate();
    }

    /**
     * Runs the job on {@code spark}.
     *
     * @param listener hears each row on its task thread (may be null)
     * @throws IllegalArgumentException when the request table cannot be read as one (no prompt column, a column of a
     *     wrong type, an unknown format)
     */
    public static JobSummary run(SparkSession spark, JobOptions options, RowListener listener) {
        long t0 = System.nanoTime();
        Dataset<Row> raw = read(spark, options);
        RequestColumns columns = RequestColumns.of(raw.schema());
        StructType withId = raw.schema().add("_steer_id", DataTypes.StringType);
        Dataset<Row> requests = raw.mapPartitions(new AddIds(columns), Encoders.row(withId))
                .drop(ID).withColumnRenamed("_steer_id", ID);
        requests.cache();
        long requested = requests.count();
        Dataset<Row> unique = requests.dropDuplicates(ID);
        unique.cache();
        long distinct = unique.count();

        String parquet = new Path(options.output(), PARQUET).toString();
        Dataset<Row> existing = existing(spark, parquet);
        long rowsBefore = existing.count();
        long errorsBefore = existing.filter(functions.col("error").isNotNull()).count();
        Dataset<Row> todo = unique.join(existing.select(ID), unique.col(ID).equalTo(existing.col(ID)), "left_anti");
        todo.cache();
        List<String> ids = todo.select(ID).orderBy(ID).as(Encoders.STRING()).collectAsList();
        long skipped = distinct - ids.size();
        LOG.info("{} requests ({} distinct ids), {} already written, {} to generate", requested, distinct, skipped, ids.size());

        SteerTransform steer = SteerTransform.builder(options.model()).optSettings(options.settings())
                .optScorer(options.newScorer()).optListener(listener).build();
        int partitions = options.partitions() > 0 ? options.partitions() : spark.sparkContext().defaultParallelism();
        int batches = 0;
        long t1 = System.nanoTime();
        for (int from = 0; from < ids.size(); from += options.batchRows()) {
            int to = Math.min(ids.size(), from + options.batchRows());
            Dataset<Row> batch = todo.filter(functions.col(ID).geq(ids.get(from)).and(functions.col(ID).leq(ids.get(to - 1))))
                    .repartition(Math.min(partitions, to - from));
            long tb = System.nanoTime();
            steer.transform(batch).write().mode(SaveMode.Append).parquet(parquet);
            batches++;
            LOG.info("batch {}: {} rows written in {} s", batches, to - from,
                    String.format(Locale.ROOT, "%.1f", (System.nanoTime() - tb) / 1e9));
        }
        double generationSeconds = (System.nanoTime() - t1) / 1e9;
        todo.unpersist();
        requests.unpersist();
        unique.unpersist();

        Dataset<Row> after = existing(spark, parquet);
        long rowsAfter = after.count();
        long errorsAfter = after.filter(functions.col("error").isNotNull()).count();
        long pngs = 0;
        if (options.pngFolder() != null) {
            pngs = ImageFolder.writeImages(spark, after, options.pngFolder());
            try {
                ImageFolder.writeManifest(spark, after, options.pngFolder());
            } catch (IOException e) {
                throw new UncheckedIOException("writing the manifest in " + options.pngFolder() + " failed", e);
            }
        }
        long written = rowsAfter - rowsBefore;
        long errors = errorsAfter - errorsBefore;
        JobSummary summary = new JobSummary(requested, requested - distinct, skipped, written, written - errors, errors, batches,
                rowsAfter, errorsAfter, pngs, (System.nanoTime() - t0) / 1e9, generationSeconds);
        writeSummary(spark, options, summary);
        LOG.info("steer dataset job: {}", summary);
        return summary;
    }

    private static Dataset<Row> read(SparkSession spark, JobOptions options) {
        String format = options.format();
        String in = options.input();
        if (format == null) {
            String lower = in.toLowerCase(Locale.ROOT);
            format = lower.endsWith(".csv") ? "csv" : lower.endsWith(".jsonl") || lower.endsWith(".json")
                    || lower.endsWith(".ndjson") ? "json" : "parquet";
        }
        return switch (format) {
            case "csv" -> spark.read().option("header", "true").option("mode", "PERMISSIVE").csv(in);
            case "json" -> spark.read().json(in);
            case "parquet" -> spark.read().parquet(in);
            default -> throw new IllegalArgumentException("unknown format '" + format + "'");
        };
    }

    /** The results written so far (empty when there are none). */
    private static Dataset<Row> existing(SparkSession spark, String parquet) {
        try {
            Path dir = new Path(parquet);
            FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
            boolean any = fs.exists(dir) && fs.listStatus(dir, p -> p.getName().endsWith(".parquet")).length > 0;
            if (!any) {
                return spark.createDataFrame(List.of(), ResultColumns.SCHEMA);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + parquet + " failed", e);
        }
        return spark.read().schema(ResultColumns.SCHEMA).parquet(parquet);
    }

    private static void writeSummary(SparkSession spark, JobOptions options, JobSummary summary) {
        Path file = new Path(options.output(), SUMMARY);
        try {
            FileSystem fs = ImageFolder.withoutChecksums(file.getFileSystem(spark.sparkContext().hadoopConfiguration()));
            try (OutputStream out = fs.create(file, true)) {
                out.write(summary.toJson().getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file + " failed", e);
        }
    }

    /** Appends each row's id ({@link RequestColumns#read}: given, else derived). */
    private static final class AddIds implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final RequestColumns columns;

        AddIds(RequestColumns columns) {
            this.columns = columns;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            List<Row> out = new ArrayList<>();
            while (rows.hasNext()) {
                Row r = rows.next();
                Object[] values = new Object[r.length() + 1];
                for (int i = 0; i < r.length(); i++) {
                    values[i] = r.get(i);
                }
                values[r.length()] = columns.read(r).id();
                out.add(RowFactory.create(values));
            }
            return out.iterator();
        }
    }
}
