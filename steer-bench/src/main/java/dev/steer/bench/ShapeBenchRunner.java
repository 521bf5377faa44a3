package dev.steer.bench;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.steer.core.engine.Backends;
import dev.steer.core.engine.SamplerOptions;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.ModelDefaults;
import dev.steer.core.generation.Sampler;
import dev.steer.core.image.Heatmaps;
import dev.steer.core.image.PngImages;
import dev.steer.core.shapeworld.ShapeBench;
import dev.steer.core.shapeworld.ShapeDetector;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringRequest;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Runs ShapeBench: every prompt of the fixed set with every seed, vanilla and steered with the same
 * seed, scored by the exact detector and GenEval's position rule. Writes {@code shapebench.json}
 * (object and position accuracy for both, seconds and UNet passes per image, per-prompt results)
 * and {@code shapebench.png} (a row per prompt: its vanilla then its steered images, each framed green
 * or red for position pass or fail).
 *
 * <pre>
 * ShapeBenchRunner --model DIR [--backend pytorch|onnx] [--classifier CKPT] [--prompts 100] [--seeds 4] [--first-seed 0] [--steps N] [--guidance G]
 *     [--step-size A] [--iterations N] [--end-fraction F] [--vanilla-only true] [--out DIR]
 * </pre>
 * The classifier defaults to {@code DIR/classifier}; steps and guidance to the model's
 * {@linkplain Sampler#defaults defaults} (what its folder declares, else its family's); steering
 * settings to the classifier's {@linkplain SteeringConfig#recommendedFor recommended settings}.
 * Stable Diffusion and FLUX folders both run.
 * {@code --vanilla-only true} skips the steered arm (a quick check of a model in training);
 * {@code --first-seed} other than 0 gives images the benchmark does not score, for tuning settings
 * without tuning on the benchmark.
 */
public final class ShapeBenchRunner {
    private ShapeBenchRunner() {
    }

    /** Accumulated outcome of one arm (vanilla or steered). */
    private static final class Arm {
        int images;
        int objects;
        int positions;
        long nanos;
        long unetCalls;

        JsonObject json() {
            JsonObject o = new JsonObject();
            o.addProperty("images", images);
            o.addProperty("object_accuracy", objects / (double) images);
            o.addProperty("position_accuracy", positions / (double) images);
            o.addProperty("seconds_per_image", nanos / 1e9 / images);
            o.addProperty("unet_passes_per_image", unetCalls / (double) images);
            return o;
        }
    }

    /** Entry point. */
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new java.util.HashMap<>();
        java.util.Set<String> known = java.util.Set.of("--model", "--backend", "--classifier", "--prompts", "--seeds", "--first-seed", "--steps",
                "--guidance", "--step-size", "--iterations", "--end-fraction", "--vanilla-only", "--out");
        if (args.length % 2 != 0) {
            throw new IllegalArgumentException("options come in pairs (--name value); got " + java.util.Arrays.toString(args));
        }
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!known.contains(args[i])) {
                throw new IllegalArgumentException("unknown option " + args[i] + "; known: " + new java.util.TreeSet<>(known));
            }
            a.put(args[i], args[i + 1]);
        }
        Path model = Path.of(a.getOrDefault("--model", "models/shapeworld"));
        Path classifier = Path.of(a.getOrDefault("--classifier", model.resolve("classifier").toString()));
        int promptCount = Integer.parseInt(a.getOrDefault("--prompts", "100"));
        int seeds = Integer.parseInt(a.getOrDefault("--seeds", "4"));
        int firstSeed = Integer.parseInt(a.getOrDefault("--first-seed", "0"));
        Path out = Path.of(a.getOrDefault("--out", "target/shapebench"));
        boolean vanillaOnly = Boolean.parseBoolean(a.getOrDefault("--vanilla-only", "false"));
        Files.createDirectories(out);
        List<ShapeBench.Prompt> prompts = ShapeBench.standardPrompts().subList(0, promptCount);
        Arm vanilla = new Arm();
        Arm steered = new Arm();
        JsonArray rows = new JsonArray();
        List<String> labels = new ArrayList<>();
        List<List<BufferedImage>> grid = new ArrayList<>();
        SamplerOptions options = SamplerOptions.of(model).withRelationClassifier(vanillaOnly ? null : classifier);
        String backend = a.getOrDefault("--backend", "pytorch");
        int steps;
        float guidance;
        SteeringConfig config;
        try (Sampler sd = Backends.open(backend, options)) {
            // settings left out take the model's defaults (its folder's, else its family's)
            ModelDefaults defaults = sd.defaults();
            steps = Integer.parseInt(a.getOrDefault("--steps", Integer.toString(defaults.steps())));
            guidance = Float.parseFloat(a.getOrDefault("--guidance", Float.toString(defaults.guidanceScale())));
            SteeringConfig recommended = vanillaOnly ? defaults.steering() : SteeringConfig.recommendedFor(classifier, defaults.steering());
            config = recommended
                    .withStepSize(Float.parseFloat(a.getOrDefault("--step-size", Float.toString(recommended.stepSize()))))
                    .withMaxIterations(Integer.parseInt(a.getOrDefault("--iterations", Integer.toString(recommended.maxIterations()))))
                    .withRange(recommended.startFraction(),
                            Double.parseDouble(a.getOrDefault("--end-fraction", Double.toString(recommended.endFraction()))));
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName("ShapeBench").setStyle(ProgressBarStyle.ASCII)
                            .setInitialMax((long) promptCount * seeds * (vanillaOnly ? 1 : 2)).setUnit(" images", 1).build()) {
                for (ShapeBench.Prompt p : prompts) {
                    List<BufferedImage> plainTiles = new ArrayList<>();
                    List<BufferedImage> steeredTiles = new ArrayList<>();
                    for (int seed = firstSeed; seed < firstSeed + seeds; seed++) {
                        GenerationRequest plain = GenerationRequest.builder(p.prompt()).optSteps(steps).optGuidanceScale(guidance)
                                .optSeed(seed).build();
                        GenerationRequest steer = GenerationRequest.builder(p.prompt()).optSteps(steps).optGuidanceScale(guidance)
                                .optSeed(seed).optSteering(SteeringRequest.of(p.triplet()).withConfig(config)).build();
                        JsonObject row = new JsonObject();
                        row.addProperty("prompt", p.prompt());
                        row.addProperty("seed", seed);
                        row.add("vanilla", run(sd, plain, p, vanilla, plainTiles));
                        bar.step();
                        if (!vanillaOnly) {
                            row.add("steered", run(sd, steer, p, steered, steeredTiles));
                            bar.step();
                        }
                        rows.add(row);
                    }
                    List<BufferedImage> line = new ArrayList<>(plainTiles);
                    line.addAll(steeredTiles);
                    grid.add(line);
                    labels.add(p.prompt() + (vanillaOnly ? "" : "  (" + seeds + " vanilla | " + seeds + " steered)"));
                    bar.setExtraMessage(String.format(Locale.ROOT, "vanilla pos %.2f | steered pos %.2f",
                            vanilla.positions / (double) vanilla.images, steered.positions / (double) Math.max(1, steered.images)));
                    System.out.printf(Locale.ROOT, "%-60s running: vanilla objects %.2f pos %.2f | steered objects %.2f pos %.2f%n",
                            p.prompt(), vanilla.objects / (double) vanilla.images, vanilla.positions / (double) vanilla.images,
                            steered.objects / (double) Math.max(1, steered.images), steered.positions / (double) Math.max(1, steered.images));
                }
            }
        }
        JsonObject report = new JsonObject();
        report.addProperty("model", model.toString());
        report.addProperty("backend", backend);
        report.addProperty("prompts", promptCount);
        report.addProperty("seeds", seeds);
        report.addProperty("first_seed", firstSeed);
        report.addProperty("steps", steps);
        report.addProperty("guidance", guidance);
        if (!vanillaOnly) {
            JsonObject steering = new JsonObject();
            steering.addProperty("classifier", classifier.toString());
            steering.addProperty("step_size", config.stepSize());
            steering.addProperty("max_iterations", config.maxIterations());
            steering.addProperty("end_fraction", config.endFraction());
            report.add("steering", steering);
        }
        report.add("vanilla", vanilla.json());
        if (!vanillaOnly) {
            report.add("steered", steered.json());
        }
        report.add("images", rows);
        Files.writeString(out.resolve("shapebench.json"), new GsonBuilder().setPrettyPrinting().create().toJson(report));
        PngImages.write(Heatmaps.grid(labels, grid, 48),
                Map.of("model", model.toString()), out.resolve("shapebench.png"));
        System.out.println("vanilla: " + vanilla.json());
        if (!vanillaOnly) {
            System.out.println("steered: " + steered.json());
        }
        System.out.println("wrote " + out.toAbsolutePath());
    }

    private static JsonObject run(Sampler sd, GenerationRequest request, ShapeBench.Prompt p, Arm arm,
            List<BufferedImage> tiles) {
        long t0 = System.nanoTime();
        GenerationResult r = sd.generate(request);
        arm.nanos += System.nanoTime() - t0;
        arm.unetCalls += r.timings().unetCalls();
        ShapeBench.Score s = ShapeBench.score(r.image(), p, ShapeDetector.DEFAULT);
        arm.images++;
        arm.objects += s.objectsPresent() ? 1 : 0;
        arm.positions += s.positionCorrect() ? 1 : 0;
        tiles.add(framed(r.image(), s.positionCorrect() ? Color.GREEN.darker() : Color.RED));
        JsonObject o = new JsonObject();
        o.addProperty("objects_present", s.objectsPresent());
        o.addProperty("position_correct", s.positionCorrect());
        return o;
    }

    private static BufferedImage framed(BufferedImage img, Color color) {
        BufferedImage out = new BufferedImage(img.getWidth() + 4, img.getHeight() + 4, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(color);
            g.fillRect(0, 0, out.getWidth(), out.getHeight());
            g.drawImage(img, 2, 2, null);
        } finally {
            g.dispose();
        }
        return out;
    }
}
