package dev.steer.spark.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.steer.core.shapeworld.ShapeBench;
import dev.steer.spark.ExecutorModels;
import dev.steer.spark.RowListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dataset job on Spark {@code local[2, N]} (N attempts per task): a task killed mid-partition is
 * retried without duplicates or gaps in the Parquet table, the PNG folder and the manifest; a rerun
 * skips every row already written; a job that dies resumes from its committed batches.
 */
class SteerDatasetJobTest {
    @TempDir
    Path tmp;

    /** Rows the listener has seen, over all attempts. */
    static final AtomicInteger ROWS_SEEN = new AtomicInteger();

    /** Failures the listener injected. */
    static final AtomicInteger FAILURES = new AtomicInteger();

    /** Rows per task attempt. */
    static final Map<Long, AtomicInteger> PER_ATTEMPT = new ConcurrentHashMap<>();

    /** Kills the first attempt of partition 1 after its second row. */
    static final RowListener KILL_FIRST_ATTEMPT_OF_PARTITION_1 = (id, error) -> {
        ROWS_SEEN.incrementAndGet();
        TaskContext tc = TaskContext.get();
        int done = PER_ATTEMPT.computeIfAbsent(tc.taskAttemptId(), k -> new AtomicInteger()).incrementAndGet();
        if (tc.partitionId() == 1 && tc.attemptNumber() == 0 && done == 2) {
            FAILURES.incrementAndGet();
            throw new IllegalStateException("injected failure: task " + tc.taskAttemptId() + " dies after " + done + " rows");
        }
    };

    /** Fails every attempt of the task that generates r05. */
    static final RowListener ALWAYS_FAIL_ON_R05 = (id, error) -> {
        if (id.equals("r05")) {
            throw new IllegalStateException("injected failure on r05");
        }
    };

    @Test
    void killedTaskIsRetriedWithoutDuplicatesOrGapsAndRerunSkipsEveryRow() throws IOException {
        List<ShapeBench.Prompt> prompts = ShapeBench.standardPrompts();
        List<String> lines = new ArrayList<>();
        for (int i = 1; i <= 7; i++) {
            // two steered rows, the rest vanilla, all at 4 steps
            lines.add(String.format("{\"id\": \"r%02d\", \"prompt\": \"%s\", \"seed\": %d, \"steer\": %s}", i, prompts.get(i).prompt(),
                    i, i <= 2));
        }
        lines.add("{\"id\": \"r08\", \"prompt\": \"a photo of a red circle next to a blue square\", \"seed\": 0, \"steer\": true}");
        Path input = tmp.resolve("requests.jsonl");
        Files.write(input, lines);
        Path out = tmp.resolve("out");
        Path png = tmp.resolve("png");
        JobOptions options = JobOptions.parse("--input", input.toString(), "--output", out.toString(), "--png", png.toString(),
                "--model", dev.steer.spark.SparkTestsAccess.shapeworld(), "--steer", "false", "--steps", "4", "--guidance", "5",
                "--partitions", "2", "--scorer", "shapebench");
        SparkSession spark = dev.steer.spark.SparkTestsAccess.session("local[2,4]", tmp);
        try {
            ROWS_SEEN.set(0);
            FAILURES.set(0);
            JobSummary first = SteerDatasetJob.run(spark, options, KILL_FIRST_ATTEMPT_OF_PARTITION_1);
            assertEquals(1, FAILURES.get(), "one task attempt was killed");
            assertEquals(8 + 2, ROWS_SEEN.get(), "the killed attempt's two rows were generated again by its retry");
            assertEquals(8, first.requested());
            assertEquals(0, first.skipped());
            assertEquals(8, first.written());
            assertEquals(7, first.generated());
            assertEquals(1, first.errors());
            assertEquals(7, first.pngFiles());
            assertExactlyOnce(spark, out, png, 8, 7);
            List<Row> steered = spark.read().parquet(out.resolve("parquet").toString()).filter("steered = true and error is null")
                    .collectAsList();
            assertEquals(2, steered.size());
            for (Row r : steered) {
                assertTrue(r.<Integer>getAs("steered_steps") > 0);
                assertNotNull(r.getAs("loss_after"));
                assertTrue(r.<scala.collection.Map<String, Double>>getAs("scores").contains("position_correct"));
            }

            JobSummary again = SteerDatasetJob.run(spark, options, null);
            assertEquals(8, again.skipped());
            assertEquals(0, again.written());
            assertEquals(0, again.pngFiles());
            assertEquals(0, again.batches());
            assertExactlyOnce(spark, out, png, 8, 7);
            JsonObject summary = JsonParser.parseString(Files.readString(out.resolve(SteerDatasetJob.SUMMARY))).getAsJsonObject();
            assertEquals(8, summary.get("skipped").getAsLong());
        } finally {
            spark.stop();
        }
        assertEquals(0, ExecutorModels.openCount(), "the plugin closed the executor's model when Spark stopped");
    }

    @Test
    void jobThatDiesResumesFromItsCommittedBatches() throws IOException {
        List<String> lines = new ArrayList<>(List.of("id,prompt,seed,steps"));
        for (int i = 1; i <= 6; i++) {
            lines.add(String.format("r%02d,%s,%d,2", i, ShapeBench.standardPrompts().get(i).prompt(), i));
        }
        Path input = tmp.resolve("requests.csv");
        Files.write(input, lines);
        Path out = tmp.resolve("out");
        Path png = tmp.resolve("png");
        JobOptions options = JobOptions.parse("--input", input.toString(), "--output", out.toString(), "--png", png.toString(),
                "--model", dev.steer.spark.SparkTestsAccess.shapeworld(), "--steer", "false", "--partitions", "2",
                "--batch-rows", "3");
        SparkSession spark = dev.steer.spark.SparkTestsAccess.session("local[2,2]", tmp);
        try {
            assertThrows(Exception.class, () -> SteerDatasetJob.run(spark, options, ALWAYS_FAIL_ON_R05));
            Set<String> committed = new HashSet<>(spark.read().parquet(out.resolve("parquet").toString()).select("id")
                    .as(org.apache.spark.sql.Encoders.STRING()).collectAsList());
            assertEquals(Set.of("r01", "r02", "r03"), committed, "the first batch was committed before the job died");

            JobSummary resumed = SteerDatasetJob.run(spark, options, null);
            assertEquals(3, resumed.skipped());
            assertEquals(3, resumed.written());
            assertEquals(6, resumed.pngFiles());
            assertExactlyOnce(spark, out, png, 6, 6);
        } finally {
            spark.stop();
        }
    }

    /** Every id once in the Parquet table and the manifest, one PNG per generated row, no temporary file left. */
    private static void assertExactlyOnce(SparkSession spark, Path out, Path png, int rows, int images) throws IOException {
        List<String> ids = spark.read().parquet(out.resolve("parquet").toString()).select("id")
                .as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
        assertEquals(rows, ids.size(), "rows in the Parquet table");
        assertEquals(rows, new HashSet<>(ids).size(), "distinct ids in the Parquet table");
        List<String> manifest = Files.readAllLines(png.resolve(ImageFolder.MANIFEST));
        assertEquals(rows, manifest.size(), "manifest lines");
        Set<String> manifestIds = new HashSet<>();
        int withFile = 0;
        for (String line : manifest) {
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            manifestIds.add(o.get("id").getAsString());
            if (o.has("file")) {
                withFile++;
                assertTrue(Files.exists(png.resolve(o.get("file").getAsString())), line);
                assertNull(o.get("error"), line);
            } else {
                assertNotNull(o.get("error"), line);
            }
        }
        assertEquals(new HashSet<>(ids), manifestIds);
        assertEquals(images, withFile);
        try (Stream<Path> files = Files.list(png)) {
            List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> !n.equals(ImageFolder.MANIFEST)).toList();
            assertEquals(images, names.size(), "files besides the manifest: " + names);
            assertTrue(names.stream().allMatch(n -> n.endsWith(".png") && !n.startsWith(".")), names.toString());
        }
    }
}
