package dev.steer.spark;

import dev.steer.core.engine.Backends;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.Sampler;
import dev.steer.core.image.PngImages;
import dev.steer.core.shapeworld.ShapeBench;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringRequest;
import dev.steer.spark.job.JobOptions;
import dev.steer.spark.job.JobSummary;
import dev.steer.spark.job.SteerDatasetJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * Images per minute for the same ShapeBench requests through a plain loop in one JVM and through the
 * dataset job on Spark {@code local[2]} (one model per executor, and two), and the job's overhead per
 * row (its wall time minus the generations' own time, per row). A program, not a test:
 *
 * <pre>
 * mvn -B -q -ntp -pl steer-spark exec:exec -Dmain=dev.steer.spark.ThroughputMeasurement -Dargs="--steer true --rows 100"
 * </pre>
 */
public final class ThroughputMeasurement {
    private ThroughputMeasurement() {
    }

    /** Runs the arms; prints a Markdown table. Options: --steer, --rows, --steps, --guidance, --arms (loop,spark1,spark2), --out. */
    public static void main(String[] args) throws Exception {
        boolean steer = Boolean.parseBoolean(arg(args, "--steer", "false"));
        int rows = Integer.parseInt(arg(args, "--rows", "100"));
        int steps = Integer.parseInt(arg(args, "--steps", "20"));
        float guidance = Float.parseFloat(arg(args, "--guidance", "5"));
        List<String> arms = List.of(arg(args, "--arms", "loop,spark1,spark2").split(","));
        Path out = Path.of(arg(args, "--out", "steer-spark/target/throughput"));
        Files.createDirectories(out);
        List<ShapeBench.Prompt> prompts = ShapeBench.standardPrompts().subList(0, rows);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            lines.add(String.format(Locale.ROOT, "{\"id\": \"sb%03d\", \"prompt\": \"%s\", \"seed\": 0}", i, prompts.get(i).prompt()));
        }
        Path requests = out.resolve("requests.jsonl");
        Files.write(requests, lines);
        List<String> table = new ArrayList<>();
        table.add("| arm | images | wall s | images/min | generation s (sum over rows) | wall minus generation, s/row "
                + "| positions correct |");
        table.add("|---|---|---|---|---|---|---|");
        ModelSpec spec = SparkTests.model();
        // warm-up, not measured: Spark's first session and jobs, LibTorch's native start
        spark(spec, requests, out.resolve("warmup-" + System.nanoTime()), false, 2, guidance, 1, 2);
        for (String arm : arms) {
            if (arm.equals("loop")) {
                table.add(loop(spec, prompts, steer, steps, guidance));
            } else {
                int models = Integer.parseInt(arm.substring("spark".length()));
                table.add(spark(spec, requests, out.resolve(arm + (steer ? "-steered" : "-vanilla") + "-" + System.nanoTime()), steer,
                        steps, guidance, models, rows));
            }
            System.out.println(table.get(table.size() - 1));
        }
        System.out.println();
        System.out.println((steer ? "steered" : "vanilla") + ", " + rows + " ShapeBench prompts, seed 0, " + steps + " steps, guidance "
                + guidance);
        table.forEach(System.out::println);
        Files.write(out.resolve((steer ? "steered" : "vanilla") + ".md"), table);
    }

    private static String loop(ModelSpec spec, List<ShapeBench.Prompt> prompts, boolean steer, int steps, float guidance)
            throws Exception {
        long tl = System.nanoTime();
        try (Sampler sampler = Backends.open(spec.backend(), spec.samplerOptions())) {
            double load = (System.nanoTime() - tl) / 1e9;
            SteeringConfig config = SteeringConfig.recommendedFor(spec.samplerOptions().relationClassifier(),
                    sampler.defaults().steering());
            ShapeBenchScorer scorer = new ShapeBenchScorer();
            long t0 = System.nanoTime();
            double generation = 0;
            int correct = 0;
            for (ShapeBench.Prompt p : prompts) {
                GenerationRequest.Builder b = GenerationRequest.builder(p.prompt()).optSeed(0).optSteps(steps).optGuidanceScale(guidance);
                if (steer) {
                    b.optSteering(SteeringRequest.fromPrompt().withConfig(config));
                }
                long g0 = System.nanoTime();
                GenerationResult r = sampler.generate(b.build());
                generation += (System.nanoTime() - g0) / 1e9;
                PngImages.encode(r.image(), r.metadata());
                correct += scorer.score(r.image(), p.prompt()).get("position_correct") > 0 ? 1 : 0;
            }
            double wall = (System.nanoTime() - t0) / 1e9 + load;
            return row("plain loop, one JVM (model load " + fmt(load) + " s included)", prompts.size(), wall, generation, correct, 1);
        }
    }

    private static String spark(ModelSpec spec, Path requests, Path out, boolean steer, int steps, float guidance, int models,
            int rows) throws java.io.IOException {
        Path input = requests;
        if (rows < Files.readAllLines(requests).size()) {
            input = out.resolveSibling(out.getFileName() + "-requests.jsonl");
            Files.write(input, Files.readAllLines(requests).subList(0, rows));
        }
        JobOptions options = JobOptions.parse("--input", input.toString(), "--output", out.toString(), "--model", spec.model(),
                "--steer", Boolean.toString(steer), "--steps", Integer.toString(steps), "--guidance", Float.toString(guidance),
                "--models-per-executor", Integer.toString(models), "--scorer", "shapebench", "--master", "local[2]");
        long ts = System.nanoTime();
        SparkSession spark = SteerDatasetJob.session(options);
        double session = (System.nanoTime() - ts) / 1e9;
        try {
            JobSummary s = SteerDatasetJob.run(spark, options, null);
            Row sums = spark.read().parquet(out.resolve(SteerDatasetJob.PARQUET).toString())
                    .agg(functions.sum("seconds"), functions.sum(functions.col("scores").getItem("position_correct"))).first();
            double generation = sums.getDouble(0);
            int correct = (int) sums.getDouble(1);
            return row("Spark local[2], " + models + " model" + (models > 1 ? "s" : "") + " per executor (job run; session start "
                    + fmt(session) + " s not included)", (int) s.generated(), s.seconds(), generation, correct, models);
        } finally {
            spark.stop();
        }
    }

    private static String row(String arm, int images, double wall, double generation, int correct, int models) {
        String overhead = models == 1 ? String.format(Locale.ROOT, "%.3f", (wall - generation) / images)
                : "n/a (generations overlap)";
        return String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f | %s | %d |", arm, images, wall, images / wall * 60,
                generation, overhead, correct);
    }

    private static String fmt(double d) {
        return String.format(Locale.ROOT, "%.1f", d);
    }

    private static String arg(String[] args, String name, String def) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return def;
    }
}
