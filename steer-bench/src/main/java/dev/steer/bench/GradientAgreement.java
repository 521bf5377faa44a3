package dev.steer.bench;

import dev.steer.core.engine.DiffusionBackend;
import dev.steer.core.engine.GenerationScope;
import dev.steer.core.engine.SteeringStep;
import dev.steer.core.engine.StepObserver;
import dev.steer.core.generation.InitialNoise;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.scheduler.Schedule;
import dev.steer.core.shapeworld.ShapeBench;
import dev.steer.core.steering.SteeringObjective;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.onnx.FloatTensor;
import dev.steer.onnx.OnnxStableDiffusion;
import dev.steer.onnx.steering.GradientEstimator;
import dev.steer.onnx.steering.OnnxSteeringObjective;
import dev.steer.pytorch.pipeline.StableDiffusion;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How well ONNX Runtime's forward-only gradient estimates agree with the exact gradient, measured
 * on real generations (a documented harness, not a JMH benchmark). The same model is loaded twice:
 * a diffusers folder on LibTorch and its ONNX export on ONNX Runtime, with the same relation
 * classifier. For each ShapeBench prompt and seed, LibTorch denoises without steering and keeps the
 * latent at the chosen steps; at each one, LibTorch's steering objective gives the exact gradient,
 * and {@link OnnxSteeringObjective} estimates it with each budget and direction grid asked. Printed
 * per setting: the mean cosine of estimate and exact gradient, the mean share of the exact
 * gradient's energy in the directions' subspace (what an estimate there can reach at best: its
 * cosine is bounded by the square root), and the ONNX loss's relative difference from LibTorch's at
 * the same latent (the two backends must agree before their gradients can).
 *
 * <p>Run (after {@code mvn -B -q -ntp install -DskipTests}): {@code mvn -B -q -ntp -pl steer-bench
 * exec:exec -Dmain=dev.steer.bench.GradientAgreement -Dargs="--torch-model models/shapeworld
 * --onnx-model models/shapeworld-onnx --classifier models/shapeworld/classifier"}; options
 * {@code --prompts N} (default 8; ShapeBench prompts from the 51st on, which the benchmark's tuning
 * set does not use), {@code --seed S} (20), {@code --steps N} (20), {@code --guidance G} (5),
 * {@code --at 0,2,4,6,8} (the steps), {@code --budgets 16,64}, {@code --grids 0,2,4,8} (0: the whole
 * latent).
 */
public final class GradientAgreement {
    private GradientAgreement() {
    }

    /** Runs the harness; see the class comment for the options. */
    public static void main(String[] args) throws Exception {
        Map<String, String> o = options(args);
        Path torchModel = Path.of(required(o, "--torch-model"));
        Path onnxModel = Path.of(required(o, "--onnx-model"));
        Path classifier = Path.of(required(o, "--classifier"));
        int prompts = Integer.parseInt(o.getOrDefault("--prompts", "8"));
        long seed = Long.parseLong(o.getOrDefault("--seed", "20"));
        int steps = Integer.parseInt(o.getOrDefault("--steps", "20"));
        float guidance = Float.parseFloat(o.getOrDefault("--guidance", "5"));
        int[] at = ints(o.getOrDefault("--at", "0,2,4,6,8"));
        int[] budgets = ints(o.getOrDefault("--budgets", "16,64"));
        int[] grids = ints(o.getOrDefault("--grids", "0,2,4,8"));

        List<ShapeBench.Prompt> set = ShapeBench.standardPrompts();
        List<ShapeBench.Prompt> chosen = set.subList(Math.min(50, set.size()), Math.min(50 + prompts, set.size()));
        int settings = budgets.length * grids.length;
        double[][] cosine = new double[at.length][settings];
        double[] energy = new double[grids.length];
        double[][] stepEnergy = new double[at.length][grids.length];
        double lossDiff = 0;
        int samples = 0;
        try (StableDiffusion torch = StableDiffusion.builder().setModelFolder(torchModel).optRelationClassifier(classifier).build();
                OnnxStableDiffusion onnx = OnnxStableDiffusion.builder().setModelFolder(onnxModel).optRelationClassifier(classifier).build()) {
            DiffusionBackend<ai.djl.ndarray.NDArray> tb = torch.engine().backend();
            var info = tb.info();
            int size = info.geometry().defaultLatentSize();
            int channels = info.geometry().channels();
            int[] shape = {channels, size, size};
            for (ShapeBench.Prompt p : chosen) {
                RelationTriplet triplet = p.triplet();
                TokenizedPrompt tokens = tb.tokenize(p.prompt());
                Map<RelationTriplet, TokenBinding> bindings = Map.of(triplet, TokenBinding.bind(tokens, triplet));
                Map<Integer, float[]> kept = new HashMap<>();
                Schedule schedule = info.scheduler().schedule(steps, info.geometry().sequenceLength(size, size));
                float[] modelTimesteps = schedule.modelTimesteps().clone();
                float[] inputScales = new float[steps];
                try (GenerationScope<ai.djl.ndarray.NDArray> ts = tb.openScope()) {
                    var cond = ts.encode(tokens);
                    var uncond = ts.encode(tb.tokenize(""));
                    float[] init = InitialNoise.latents(seed, channels * size * size, schedule.initNoiseSigma());
                    torch.engine().denoise(ts, cond, uncond, init, size, size, schedule, guidance, new StepObserver() {
                        @Override
                        public List<int[]> probeWords(int step) {
                            return Arrays.stream(at).anyMatch(a -> a == step) ? List.of(bindings.get(triplet).subjectPositions(),
                                    bindings.get(triplet).objectPositions()) : null;
                        }

                        @Override
                        public void onStep(int step, float[] latents, float[] guided, float[] maps, Schedule s) {
                            kept.put(step, latents.clone());
                            inputScales[step] = s.scaleModelInput(new float[] {1f}, step)[0]; // the schedule is at this step now
                        }
                    }, null);
                    FloatTensor onnxCond = onnx.encodeIds(tokens.idsAsLongs());
                    for (int a = 0; a < at.length; a++) {
                        int i = at[a];
                        float[] z = kept.get(i);
                        int classifierStep = info.relationClassifier().timestepIndexFor(i, steps);
                        SteeringStep step = new SteeringStep(i, steps, modelTimesteps[i], classifierStep, inputScales[i], channels, size,
                                size, seed, guidance);
                        SteeringObjective.Evaluation exact = ts.steeringObjective(cond, step, bindings).evaluate(z.clone(), triplet);
                        float[] g = exact.gradient();
                        for (int k = 0; k < grids.length; k++) {
                            double e = projectedEnergy(g, shape, grids[k]);
                            energy[k] += e;
                            stepEnergy[a][k] += e;
                        }
                        int s = 0;
                        for (int budget : budgets) {
                            for (int grid : grids) {
                                GradientEstimator est = GradientEstimator.DEFAULTS.withBudget(budget).withGrid(grid).withSeed(seed + i);
                                OnnxSteeringObjective objective = new OnnxSteeringObjective(onnx.unet(), onnx.relationClassifier(), onnxCond,
                                        modelTimesteps[i], classifierStep, inputScales[i], shape, bindings, est, seed * 31 + i);
                                SteeringObjective.Evaluation estimate = objective.evaluate(z.clone(), triplet);
                                cosine[a][s++] += cosine(estimate.gradient(), g);
                                if (s == 1) {
                                    lossDiff += Math.abs(estimate.loss() - exact.loss()) / Math.max(1e-12, Math.abs(exact.loss()));
                                }
                            }
                        }
                        samples++;
                    }
                }
                System.out.printf(Locale.ROOT, "%s (seed %d): %d steps measured%n", p.prompt(), seed, at.length);
            }
        }
        int perStep = chosen.size();
        System.out.printf(Locale.ROOT, "%n%d prompts x %d steps, seed %d, %d sampling steps, guidance %.1f%n", perStep, at.length,
                seed, steps, guidance);
        System.out.printf(Locale.ROOT, "mean relative difference of the ONNX loss from LibTorch's at the same latent: %.2e%n", lossDiff / samples);
        StringBuilder head = new StringBuilder("| step |");
        StringBuilder rule = new StringBuilder("|---|");
        for (int budget : budgets) {
            for (int grid : grids) {
                head.append(String.format(Locale.ROOT, " n=%d, %s |", budget, grid == 0 ? "whole latent" : "grid " + grid));
                rule.append("---|");
            }
        }
        for (int grid : grids) {
            head.append(String.format(Locale.ROOT, " energy in %s |", grid == 0 ? "whole latent" : "grid " + grid));
            rule.append("---|");
        }
        System.out.println("\nmean cosine(estimate, exact gradient), and the exact gradient's energy share in each subspace:");
        System.out.println(head);
        System.out.println(rule);
        double[] all = new double[settings];
        for (int a = 0; a < at.length; a++) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %d |", at[a]));
            for (int s = 0; s < settings; s++) {
                row.append(String.format(Locale.ROOT, " %.3f |", cosine[a][s] / perStep));
                all[s] += cosine[a][s];
            }
            for (int k = 0; k < grids.length; k++) {
                row.append(String.format(Locale.ROOT, " %.3f |", stepEnergy[a][k] / perStep));
            }
            System.out.println(row);
        }
        StringBuilder row = new StringBuilder("| all |");
        for (int s = 0; s < settings; s++) {
            row.append(String.format(Locale.ROOT, " %.3f |", all[s] / samples));
        }
        for (int k = 0; k < grids.length; k++) {
            row.append(String.format(Locale.ROOT, " %.3f |", energy[k] / samples));
        }
        System.out.println(row);
    }

    /** The share of |g|^2 in the space an estimator with this grid spans (1 for the whole latent). */
    static double projectedEnergy(float[] g, int[] shape, int grid) {
        float[] p = GradientEstimator.DEFAULTS.withGrid(grid).project(g, shape);
        double inside = 0;
        double total = 0;
        for (int i = 0; i < g.length; i++) {
            inside += (double) p[i] * p[i];
            total += (double) g[i] * g[i];
        }
        return total > 0 ? inside / total : 0;
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
    }

    private static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }

    private static String required(Map<String, String> o, String key) {
        String v = o.get(key);
        if (v == null) {
            throw new IllegalArgumentException("missing " + key + " (see the class comment of GradientAgreement)");
        }
        return v;
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("options come as --name value pairs; got '" + args[i] + "'");
            }
            o.put(args[i], args[++i]);
        }
        return o;
    }
}
