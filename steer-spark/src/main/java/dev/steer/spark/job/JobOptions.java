package dev.steer.spark.job;

import dev.steer.spark.ImageScorer;
import dev.steer.spark.ModelSpec;
import dev.steer.spark.ShapeBenchScorer;
import dev.steer.spark.SteerSettings;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The dataset job's options, from its command line ({@link #parse}) or built in code.
 *
 * @param input the request table (CSV with a header line, JSON Lines or Parquet; a path Spark reads)
 * @param format {@code csv}, {@code json} or {@code parquet}; null to go by the input's extension (a folder is Parquet)
 * @param output the output folder: the result table in {@code parquet/}, the last run's summary in {@code job-summary.json}
 * @param pngFolder where to write each image as {@code <id>.png} with a {@code manifest.jsonl}, or null for none
 * @param model the model the executors load
 * @param settings the settings of rows that give none
 * @param scorer {@code none}, {@code shapebench} or the name of an {@link ImageScorer} class with a public no-argument constructor
 * @param partitions how many tasks each batch is split into; 0 for Spark's default parallelism
 * @param batchRows requests per batch: each batch is written (committed) before the next starts, so a failed
 *     job loses at most the batch it was writing
 * @param master the Spark master when the job creates its own session outside spark-submit (e.g. {@code local[2]}), or null
 */
public record JobOptions(String input, String format, String output, String pngFolder, ModelSpec model, SteerSettings settings,
        String scorer, int partitions, int batchRows, String master) implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The command line's description of every option. */
    public static final String USAGE = String.join("\n",
            "usage: SteerDatasetJob --input FILE --output DIR [options]",
            "  --input FILE            request table: CSV (header line), JSON Lines or Parquet; columns: prompt (required), id,",
            "                          seed, negative_prompt, relations (subject:relation:object;...), steer, steps, guidance,",
            "                          width, height, step_size, iterations, end_fraction",
            "  --format F              csv, json or parquet (default: from the input's extension; a folder is parquet)",
            "  --output DIR            results: DIR/parquet (appended to; rows already there are skipped), DIR/job-summary.json",
            "  --png DIR               also write DIR/<id>.png and DIR/manifest.jsonl (default: none)",
            "  --model DIR             model folder every executor can read, or embedded:shapeworld (default)",
            "  --classifier PATH       relation classifier (default: the model folder's classifier/; none for none)",
            "  --backend NAME          pytorch or onnx (default pytorch)",
            "  --scheduler NAME        scheduler instead of the folder's (ddim, euler, dpm++2m, pndm, flowmatch)",
            "  --variant NAME          weight variant, e.g. fp16",
            "  --models-per-executor N model copies per executor JVM (default 1: its tasks take turns on one model)",
            "  --steer true|false      steer rows that do not say (default true)",
            "  --steps N, --guidance G, --width W, --height H, --step-size A, --iterations N, --end-fraction F",
            "                          settings of rows that do not give them (default: the model's and its classifier's)",
            "  --scorer NAME           none, shapebench, or an ImageScorer class name (default none)",
            "  --partitions N          tasks per batch (default: Spark's default parallelism)",
            "  --batch-rows N          requests per committed batch (default 1000)",
            "  --master URL            Spark master when not run through spark-submit, e.g. local[2]");

    /**
     * Reads a command line.
     *
     * @throws IllegalArgumentException naming the option and what is wrong with it
     */
    public static JobOptions parse(String... args) {
        if (args.length > 200) {
            throw new IllegalArgumentException("too many arguments (" + args.length + ")");
        }
        Map<String, String> o = new LinkedHashMap<>();
        List<String> known = List.of("--input", "--format", "--output", "--png", "--model", "--classifier", "--backend", "--scheduler",
                "--variant", "--models-per-executor", "--steer", "--steps", "--guidance", "--width", "--height", "--step-size",
                "--iterations", "--end-fraction", "--scorer", "--partitions", "--batch-rows", "--master");
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            String value = null;
            int eq = name.indexOf('=');
            if (name.startsWith("--") && eq > 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (!known.contains(name)) {
                throw new IllegalArgumentException("unknown option '" + name + "'");
            }
            if (value == null) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(name + ": needs a value");
                }
                value = args[++i];
            }
            if (o.put(name, value) != null) {
                throw new IllegalArgumentException(name + ": given twice");
            }
        }
        String input = required(o, "--input");
        String output = required(o, "--output");
        String format = o.get("--format");
        if (format != null && !List.of("csv", "json", "parquet").contains(format.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("--format: csv, json or parquet, got '" + format + "'");
        }
        ModelSpec model = new ModelSpec(o.getOrDefault("--backend", "pytorch"), o.getOrDefault("--model", "embedded:shapeworld"),
                o.get("--classifier"), o.get("--scheduler"), o.get("--variant"), integer(o, "--models-per-executor", 1, 1, 64));
        SteerSettings settings = new SteerSettings(bool(o, "--steer", true), optInteger(o, "--steps", 1, 1000),
                optFloat(o, "--guidance"), optInteger(o, "--width", 8, 8192), optInteger(o, "--height", 8, 8192),
                optFloat(o, "--step-size"), optInteger(o, "--iterations", 0, 1000),
                o.containsKey("--end-fraction") ? (double) optFloat(o, "--end-fraction") : null);
        String scorer = o.getOrDefault("--scorer", "none");
        JobOptions options = new JobOptions(input, format == null ? null : format.toLowerCase(Locale.ROOT), output, o.get("--png"), model,
                settings, scorer, integer(o, "--partitions", 0, 0, 100_000), integer(o, "--batch-rows", 1000, 1, 10_000_000),
                o.get("--master"));
        options.newScorer(); // a scorer that does not load fails here, not on the executors
        return options;
    }

    /** The scorer the options name, or null for none. */
    public ImageScorer newScorer() {
        if (scorer == null || scorer.equalsIgnoreCase("none")) {
            return null;
        }
        if (scorer.equalsIgnoreCase(ShapeBenchScorer.NAME)) {
            return new ShapeBenchScorer();
        }
        try {
            Class<?> c = Class.forName(scorer, true, Thread.currentThread().getContextClassLoader());
            if (!ImageScorer.class.isAssignableFrom(c)) {
                throw new IllegalArgumentException("--scorer: " + scorer + " is not an " + ImageScorer.class.getName());
            }
            return (ImageScorer) c.getConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("--scorer: none, shapebench, or an ImageScorer class with a public no-argument "
                    + "constructor; could not create '" + scorer + "': " + e, e);
        }
    }

    /** The same options with another master. */
    public JobOptions withMaster(String url) {
        return new JobOptions(input, format, output, pngFolder, model, settings, scorer, partitions, batchRows, url);
    }

    private static String required(Map<String, String> o, String name) {
        String v = o.get(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(name + ": required");
        }
        return v;
    }

    private static int integer(Map<String, String> o, String name, int def, int min, int max) {
        Integer v = optInteger(o, name, min, max);
        return v == null ? def : v;
    }

    private static Integer optInteger(Map<String, String> o, String name, int min, int max) {
        String s = o.get(name);
        if (s == null) {
            return null;
        }
        int v;
        try {
            v = Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": not an integer: '" + s + "'");
        }
        if (v < min || v > max) {
            throw new IllegalArgumentException(name + ": must be in [" + min + ", " + max + "], got " + v);
        }
        return v;
    }

    private static Float optFloat(Map<String, String> o, String name) {
        String s = o.get(name);
        if (s == null) {
            return null;
        }
        try {
            float v = Float.parseFloat(s.strip());
            if (!Float.isFinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": not a finite number: '" + s + "'");
        }
    }

    private static boolean bool(Map<String, String> o, String name, boolean def) {
        String s = o.get(name);
        if (s == null) {
            return def;
        }
        return switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(name + ": true or false, got '" + s + "'");
        };
    }
}
