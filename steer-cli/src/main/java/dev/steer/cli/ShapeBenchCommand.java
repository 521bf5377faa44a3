package dev.steer.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.ModelDefaults;
import dev.steer.core.generation.Sampler;
import dev.steer.core.image.Heatmaps;
import dev.steer.core.image.PngImages;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.shapeworld.ShapeBench;
import dev.steer.core.shapeworld.ShapeDetector;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringRequest;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code steer shapebench}: every prompt of the fixed set with every seed, vanilla and steered with
 * the same seed, scored by the exact detector and GenEval's position rule. Writes
 * {@code shapebench.json} (object and position accuracy for both, seconds and UNet passes per image,
 * per-prompt results) and {@code shapebench.png} (a row per prompt: its vanilla then its steered
 * images, each framed green or red for position pass or fail).
 */
@Command(name = "shapebench", header = "Score vanilla against steered generation on ShapeBench (GenEval's position task).",
        description = {"ShapeBench: GenEval's position task over ShapeWorld objects, vanilla and steered with the same seeds, scored by "
                + "the exact colour detector. Writes shapebench.json (object and position accuracy, seconds and UNet passes per "
                + "image, for both arms, and the steering settings) and shapebench.png (a row per prompt, each image framed green "
                + "or red).", "Stable Diffusion and FLUX folders both run."})
final class ShapeBenchCommand extends BaseCommand {
    @Mixin
    ModelOptions model;

    @Mixin
    SteeringOptions steering;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--prompts", paramLabel = "N", description = "How many of the fixed prompts, from the first. Default: all "
            + "(100; 50 with --multi-relation).")
    Integer promptCount;

    @Option(names = "--seeds", paramLabel = "N", defaultValue = "4", description = "Seeds per prompt.")
    int seeds;

    @Option(names = "--first-seed", paramLabel = "S", defaultValue = "0", description = "The first seed; others than 0 give images "
            + "the benchmark does not score, for tuning settings without tuning on the benchmark.")
    int firstSeed;

    @Option(names = "--vanilla-only", arity = "0..1", paramLabel = "true|false", defaultValue = "false",
            description = "Skip the steered arm (a quick check of a model in training).")
    boolean vanillaOnly;

    @Option(names = "--multi-relation", arity = "0..1", paramLabel = "true|false", defaultValue = "false",
            description = "The multi-relation variant: three objects and two relations per prompt (\"a photo of a red circle left "
                    + "of a blue square and a green triangle above the square\"), 50 fixed prompts, both relations steered and "
                    + "scored; position accuracy counts images with both relations right.")
    boolean multiRelation;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "target/shapebench", description = "Output folder.")
    Path out;

    /** One benchmark prompt, of either set: its text, the relations to steer and its scoring. */
    private record Case(String prompt, List<RelationTriplet> triplets, Function<BufferedImage, Outcome> scorer) {
        static Case of(ShapeBench.Prompt p) {
            return new Case(p.prompt(), List.of(p.triplet()), image -> {
                ShapeBench.Score s = ShapeBench.score(image, p, ShapeDetector.DEFAULT);
                return new Outcome(s.objectsPresent(), s.positionCorrect() ? 1 : 0, 1);
            });
        }

        static Case of(ShapeBench.MultiPrompt p) {
            return new Case(p.prompt(), p.triplets(), image -> {
                ShapeBench.MultiScore s = ShapeBench.score(image, p, ShapeDetector.DEFAULT);
                return new Outcome(s.objectsPresent(), (s.firstCorrect() ? 1 : 0) + (s.secondCorrect() ? 1 : 0), 2);
            });
        }
    }

    /** How one image scored: every named object present, and how many of the asked relations hold. */
    private record Outcome(boolean objectsPresent, int relationsCorrect, int relations) {
        boolean positionCorrect() {
            return relationsCorrect == relations;
        }
    }

    /** Accumulated outcome of one arm (vanilla or steered). */
    private static final class Arm {
        int images;
        int objects;
        int positions;
        int relationsCorrect;
        int relations;
        long nanos;
        long unetCalls;
        long latentEvaluations;
        String gradient;

        JsonObject json() {
            JsonObject o = new JsonObject();
            o.addProperty("images", images);
            o.addProperty("object_accuracy", objects / (double) images);
            o.addProperty("position_accuracy", positions / (double) images);
            if (relations > images) {
                o.addProperty("relation_accuracy", relationsCorrect / (double) relations);
            }
            o.addProperty("seconds_per_image", nanos / 1e9 / images);
            o.addProperty("unet_passes_per_image", unetCalls / (double) images);
            o.addProperty("latent_evaluations_per_image", latentEvaluations / (double) images);
            return o;
        }
    }

    @Override
    public Integer call() throws IOException {
        List<Case> all = multiRelation
                ? ShapeBench.standardMultiRelationPrompts().stream().map(Case::of).toList()
                : ShapeBench.standardPrompts().stream().map(Case::of).toList();
        int prompts = promptCount == null ? all.size() : promptCount;
        if (prompts < 1 || prompts > all.size()) {
            throw new ParameterException(spec.commandLine(), "--prompts: 1 to " + all.size() + ", got " + prompts);
        }
        if (seeds < 1) {
            throw new ParameterException(spec.commandLine(), "--seeds: at least 1, got " + seeds);
        }
        Path folder = model.folder();
        Path checkpoint = vanillaOnly ? null : steering.checkpoint(folder);
        Files.createDirectories(out);
        List<Case> chosen = all.subList(0, prompts);
        Arm vanilla = new Arm();
        Arm steered = new Arm();
        JsonArray rows = new JsonArray();
        List<String> labels = new ArrayList<>();
        List<List<BufferedImage>> grid = new ArrayList<>();
        int n;
        float g;
        SteeringConfig config;
        try (Sampler sd = model.open(checkpoint)) {
            // settings left out take the model's defaults (its folder's, else its family's)
            ModelDefaults defaults = sd.defaults();
            n = sampling.steps(defaults);
            g = sampling.guidance(defaults);
            config = vanillaOnly ? defaults.steering() : steering.config(checkpoint, defaults, model.backend);
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName("ShapeBench").setStyle(ProgressBarStyle.ASCII)
                            .setInitialMax((long) prompts * seeds * (vanillaOnly ? 1 : 2)).setUnit(" images", 1).build()) {
                for (Case p : chosen) {
                    List<BufferedImage> plainTiles = new ArrayList<>();
                    List<BufferedImage> steeredTiles = new ArrayList<>();
                    for (int seed = firstSeed; seed < firstSeed + seeds; seed++) {
                        GenerationRequest plain = GenerationRequest.builder(p.prompt()).optSteps(n).optGuidanceScale(g)
                                .optSeed(seed).build();
                        JsonObject row = new JsonObject();
                        row.addProperty("prompt", p.prompt());
                        row.addProperty("seed", seed);
                        row.add("vanilla", run(sd, plain, p, vanilla, plainTiles));
                        bar.step();
                        if (!vanillaOnly) {
                            GenerationRequest steer = GenerationRequest.builder(p.prompt()).optSteps(n).optGuidanceScale(g)
                                    .optSeed(seed).optSteering(SteeringRequest.of(p.triplets().toArray(RelationTriplet[]::new)).withConfig(config))
                                    .build();
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
                    out().printf(Locale.ROOT, "%-60s running: vanilla objects %.2f pos %.2f | steered objects %.2f pos %.2f%n",
                            p.prompt(), vanilla.objects / (double) vanilla.images, vanilla.positions / (double) vanilla.images,
                            steered.objects / (double) Math.max(1, steered.images), steered.positions / (double) Math.max(1, steered.images));
                }
            }
        }
        JsonObject report = new JsonObject();
        report.addProperty("model", folder.toString());
        report.addProperty("prompt_set", multiRelation ? "multi-relation" : "standard");
        report.addProperty("backend", model.backend);
        report.addProperty("prompts", prompts);
        report.addProperty("seeds", seeds);
        report.addProperty("first_seed", firstSeed);
        report.addProperty("steps", n);
        report.addProperty("guidance", g);
        if (!vanillaOnly) {
            JsonObject settings = new JsonObject();
            settings.addProperty("classifier", checkpoint.toString());
            settings.addProperty("step_size", config.stepSize());
            settings.addProperty("max_iterations", config.maxIterations());
            settings.addProperty("end_fraction", config.endFraction());
            settings.addProperty("margin", config.margin());
            settings.addProperty("noise_candidates", config.noiseCandidates());
            settings.addProperty("selection_step", config.selectionStep());
            settings.addProperty("separate_words", config.separateWords());
            settings.addProperty("normalized_steps", config.normalizedSteps());
            settings.addProperty("backtracking", config.backtracking());
            settings.addProperty("final_evaluation", config.finalEvaluation());
            settings.addProperty("summary", config.toString());
            if (steered.gradient != null) {
                settings.addProperty("gradient", steered.gradient);
            }
            report.add("steering", settings);
        }
        report.add("vanilla", vanilla.json());
        if (!vanillaOnly) {
            report.add("steered", steered.json());
        }
        report.add("images", rows);
        Files.writeString(out.resolve("shapebench.json"), new GsonBuilder().setPrettyPrinting().create().toJson(report));
        PngImages.write(Heatmaps.grid(labels, grid, 48), Map.of("model", folder.toString()), out.resolve("shapebench.png"));
        out().println("vanilla: " + vanilla.json());
        if (!vanillaOnly) {
            out().println("steered: " + steered.json());
        }
        out().println("wrote " + out.toAbsolutePath());
        return 0;
    }

    private static JsonObject run(Sampler sd, GenerationRequest request, Case p, Arm arm, List<BufferedImage> tiles) {
        long t0 = System.nanoTime();
        GenerationResult r = sd.generate(request);
        arm.nanos += System.nanoTime() - t0;
        arm.unetCalls += r.timings().unetCalls();
        arm.latentEvaluations += r.timings().latentEvaluations();
        if (r.metadata().containsKey("steering_gradient")) {
            arm.gradient = r.metadata().get("steering_gradient"); // how the backend estimated the gradient, if it did
        }
        Outcome s = p.scorer().apply(r.image());
        arm.images++;
        arm.objects += s.objectsPresent() ? 1 : 0;
        arm.positions += s.positionCorrect() ? 1 : 0;
        arm.relationsCorrect += s.relationsCorrect();
        arm.relations += s.relations();
        tiles.add(framed(r.image(), s.positionCorrect() ? Color.GREEN.darker() : Color.RED));
        JsonObject o = new JsonObject();
        o.addProperty("objects_present", s.objectsPresent());
        o.addProperty("position_correct", s.positionCorrect());
        if (s.relations() > 1) {
            o.addProperty("relations_correct", s.relationsCorrect());
        }
        o.addProperty("unet_passes", r.timings().unetCalls());
        o.addProperty("latent_evaluations", r.timings().latentEvaluations());
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
