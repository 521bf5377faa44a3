package dev.steer.bench;

import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.generation.InitialNoise;
import dev.steer.core.model.FluxTransformerConfig;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.steering.SteeringObjective;
import dev.steer.pytorch.flux.FluxDenoiser;
import dev.steer.pytorch.flux.FluxPrompt;
import dev.steer.pytorch.flux.FluxTransformer2DModel;
import dev.steer.pytorch.relation.PublishedRelationClassifier;
import dev.steer.pytorch.steering.TorchSteeringObjective;
import dev.steer.pytorch.internal.weights.ModelWeights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * What Learn-to-Steer costs per denoising step on FLUX.1 [dev]: one plain transformer call against
 * one steering iteration, at FLUX.1's real width (hidden 3072 = 24 heads x 128, T5 width 4096,
 * pooled CLIP 768, 64 packed input channels, rotary axes (16, 56, 56), guidance embedded) but with
 * only a few blocks ({@link #doubleBlocks} double-stream + {@link #singleBlocks} single-stream,
 * default 1 + 2; FLUX.1 has 19 + 38), seeded random float32 weights (the cost does not depend on the
 * values), 512 T5 tokens and a 512x512 image (latent [1, 16, 64, 64], a 32x32 grid of packed tokens).
 *
 * <ul>
 *   <li>{@link #plainCall()}: one transformer call as the generation engine's predict runs it for
 *       FLUX ({@code FluxDenoiser.velocity}: pack, transformer, unpack; guidance embedded, so batch 1
 *       and no [uncond, cond] pair), without gradients, the velocity copied out.</li>
 *   <li>{@link #steeringIteration()}: one {@link TorchSteeringObjective#evaluate} through
 *       {@link FluxDenoiser#probed}: the transformer with the probe on every block's image-to-text
 *       attention (the 32x32 maps resized to 16x16 and renormalised), the published relation
 *       classifier on the two words' maps (subject 1 token, object 2 tokens), the cross-entropy
 *       back-propagated to the latent only, loss, probabilities and gradient copied out.</li>
 * </ul>
 *
 * <p>The classifier is the FLUX reference fixture ({@code testdata/conformance/classifier-flux-reference},
 * published architecture, 1368 input channels) pinned to what the probe produces: (double + single
 * blocks) x 24 heads maps per word ({@code maps_per_word}, as the conformance tests pin the SD
 * fixture), read at its first trained timestep index. The setup checks that no parameter of the
 * transformer or the classifier records gradients; every iteration (one invocation: single-shot
 * mode) checks that nothing was left behind in the benchmark's manager and that still no parameter
 * records gradients. The setup prints the engine, its LibTorch version, the device and whether
 * LibTorch sees CUDA.
 *
 * <p>Reading the result. JMH runs each method in its own fork; {@link #main} (see below) runs both
 * and prints, per block configuration, the ratio steering iteration / plain call: the cost of one
 * steering iteration in plain denoising steps (FLUX.1 [dev] embeds guidance, so a plain step is one
 * call, not SD's batch-2 guided call). The backward pass computes gradients for activations only,
 * never for weights; the probe and the classifier are small beside the transformer (maps of 2 words
 * x blocks x 24 heads, 16x16; a 5M-parameter classifier).
 *
 * <p>Extrapolating to FLUX.1 (19 double + 38 single blocks) is an extrapolation, not a measurement:
 * it assumes each block's cost is the same whatever the depth (true for compute: every block sees
 * the same 512 + 1024 tokens) and that the rest of the call (embedders, rotary tables, output
 * projection, packing; and for steering the classifier) is a fixed overhead. Double and single
 * blocks differ (a double block holds two streams' projections and feed-forwards, 340M parameters
 * against a single block's 142M, though each token passes through one stream only, so the arithmetic
 * per token is similar), so measure them separately: run the configurations (1, 2), (1, 0) and
 * (0, 1), i.e. {@code -p doubleBlocks=1 -p singleBlocks=2} and so on (JMH crosses the values of two
 * params, so give each pair its own run, or let {@link #main} take {@code --blocks 1+2,1+0,0+1}). With
 * three or more configurations {@link #main} fits {@code time = overhead + double x d + single x s}
 * by least squares and prints the extrapolated plain call, steering iteration and ratio for 19 + 38
 * blocks. The ratio extrapolates better than the absolute times: at full depth the blocks dominate
 * both calls, and memory traffic grows (12B parameters do not fit in a cache), which no small
 * configuration shows.
 *
 * <p>Run (the ratio and the extrapolation need {@link #main}; JMH's own main prints only the scores):
 * <pre>{@code
 * mvn -B -q -ntp install -DskipTests
 * mvn -B -q -ntp -pl steer-bench exec:exec -Dmain=dev.steer.bench.FluxStepBenchmark -Dargs="--blocks 1+2"
 * mvn -B -q -ntp -pl steer-bench exec:exec -Dmain=dev.steer.bench.FluxStepBenchmark -Dargs="--blocks 1+2,1+0,0+1"
 * mvn -B -q -ntp -pl steer-bench exec:exec -Dbenchmark=FluxStepBenchmark
 * }</pre>
 * Other arguments are JMH's ({@code -wi}, {@code -i}, {@code -p textTokens=...}). Settings: single
 * shot (one call per iteration: a call takes seconds), one warm-up and three measured iterations in
 * one fork; JMH's score is the mean with its 99.9% confidence interval over the three calls (wide,
 * with two degrees of freedom). Weights: 4 bytes per parameter, 1 + 2 blocks about 0.7B parameters
 * (2.75 GB); the peak resident memory of a call is several times that (see {@link FluxMemoryReport}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Xss4m"})
public class FluxStepBenchmark {
    /** Double-stream blocks ({@code num_layers}; 19 in FLUX.1). */
    @Param({"1"})
    public int doubleBlocks;

    /** Single-stream blocks ({@code num_single_layers}; 38 in FLUX.1). */
    @Param({"2"})
    public int singleBlocks;

    /** T5 tokens (FLUX.1 [dev]: 512). */
    @Param({"512"})
    public int textTokens;

    /** Latent height and width (pixels / 8; 64 for 512x512, a 32x32 token grid). */
    @Param({"64"})
    public int latentSize;

    /** The relation classifier checkpoint whose architecture and weights are used (pinned to the probe's maps). */
    @Param({"testdata/conformance/classifier-flux-reference/classifier.pth"})
    public String classifierCheckpoint;

    /** FLUX.1's width and the [dev] options, with the given block counts. */
    static FluxTransformerConfig fluxDev(int doubleBlocks, int singleBlocks) {
        return new FluxTransformerConfig(64, 64, doubleBlocks, singleBlocks, 128, 24, 4096, 768, true, new int[] {16, 56, 56});
    }

    static final float MODEL_TIMESTEP = 500f; // sigma 0.5
    static final float GUIDANCE = 3.5f;
    static final int MAP_SIDE = 16;
    static final RelationTriplet TRIPLET = RelationTriplet.of("subject", SpatialRelation.LEFT_OF, "object");
    /** The subject is one token, the object two. */
    static final TokenBinding BINDING = TokenBinding.ofPositions(TRIPLET, new int[] {2}, new int[] {5, 6});

    private NDManager manager;
    private FluxTransformer2DModel transformer;
    private FluxDenoiser denoiser;
    private PublishedRelationClassifier classifier;
    private FluxPrompt prompt;
    private float[] latent;
    private Shape latentShape;
    private TorchSteeringObjective objective;
    private int arraysAfterSetup;

    /** Builds the transformer with random weights, the pinned classifier and the inputs; prints the device. */
    @Setup(Level.Trial)
    public void setUp() {
        Engine engine = Engine.getInstance();
        manager = NDManager.newBaseManager();
        System.out.printf("%nengine %s %s, device %s, LibTorch CUDA available: %s (GPUs: %d)%n", engine.getEngineName(),
                engine.getVersion(), manager.getDevice(), engine.hasCapability(StandardCapabilities.CUDA), engine.getGpuCount());

        FluxTransformerConfig config = fluxDev(doubleBlocks, singleBlocks);
        transformer = new FluxTransformer2DModel(config);
        long t0 = System.nanoTime();
        ModelWeights.randomize(transformer, 1234, manager);
        transformer.setRequiresGradient(false);
        denoiser = new FluxDenoiser(transformer);
        int maps = transformer.crossAttentionLayers().stream().mapToInt(l -> l.heads()).sum();
        classifier = pinnedClassifier(Path.of(classifierCheckpoint), maps, manager);
        classifier.setRequiresGradient(false);
        BenchmarkChecks.requireNoParameterGradients(transformer, classifier);

        int grid = latentSize / 2;
        NDArray text = manager.create(InitialNoise.gaussian(2, textTokens * config.jointAttentionDim()),
                new Shape(1, textTokens, config.jointAttentionDim()));
        NDArray pooled = manager.create(InitialNoise.gaussian(3, config.pooledProjectionDim()), new Shape(1, config.pooledProjectionDim()));
        prompt = new FluxPrompt(text, pooled);
        latentShape = new Shape(1, config.latentChannels(), latentSize, latentSize);
        latent = InitialNoise.gaussian(1, (int) latentShape.size());
        int classifierTimestep = classifier.trainedTimesteps()[0];
        objective = new TorchSteeringObjective(denoiser.probed(prompt, MODEL_TIMESTEP, GUIDANCE, MAP_SIDE), classifier, manager,
                classifierTimestep, latentShape, Map.of(TRIPLET, BINDING));
        arraysAfterSetup = BenchmarkChecks.managedArrays(manager);
        System.out.printf("FLUX.1 [dev] width, %d double + %d single blocks: transformer %.1fM parameters (float32, %.2f GB), "
                + "set up in %.1f s; %d T5 tokens, latent %s (%dx%d token grid); classifier %.2fM parameters, %d maps per word "
                + "(%d blocks x 24 heads) at %dx%d, timestep index %d%n", doubleBlocks, singleBlocks, transformer.parameterCount() / 1e6,
                transformer.parameterCount() * 4 / 1e9, (System.nanoTime() - t0) / 1e9, textTokens, latentShape, grid, grid,
                classifier.parameterCount() / 1e6, maps, doubleBlocks + singleBlocks, MAP_SIDE, MAP_SIDE, classifierTimestep);
    }

    /**
     * The checkpoint's classifier with {@code maps_per_word} pinned to {@code maps}: saved in the
     * library's format to a temporary folder, its config rewritten, and loaded from there.
     */
    static PublishedRelationClassifier pinnedClassifier(Path checkpoint, int maps, NDManager manager) {
        if (!Files.exists(checkpoint)) {
            throw new IllegalArgumentException("no classifier checkpoint " + checkpoint.toAbsolutePath()
                    + " (run from the repository root, or pass -p classifierCheckpoint=PATH)");
        }
        Path dir = null;
        try {
            dir = Files.createTempDirectory("flux-classifier-pinned");
            try (PublishedRelationClassifier read = PublishedRelationClassifier.load(checkpoint, manager)) {
                read.save(dir);
                Files.writeString(dir.resolve(PublishedRelationClassifier.CONFIG_FILE), read.config().withMapsPerWord(maps).toJson(),
                        StandardCharsets.UTF_8);
            }
            PublishedRelationClassifier pinned = PublishedRelationClassifier.load(dir, manager);
            if (pinned.mapsPerWord() != maps) {
                throw new IllegalStateException("classifier not pinned: " + pinned.mapsPerWord() + " maps per word, wanted " + maps);
            }
            return pinned;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            deleteQuietly(dir);
        }
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary folder
        }
    }

    /** One transformer call as the engine's predict runs it: no gradients, the velocity copied out. */
    @Benchmark
    public float[] plainCall() {
        try (NDManager call = manager.newSubManager()) {
            NDArray x = call.create(latent, latentShape);
            return denoiser.velocity(x, prompt, MODEL_TIMESTEP, GUIDANCE, null).toFloatArray();
        }
    }

    /** One steering iteration: the transformer with the probe, the classifier, backward to the latent. */
    @Benchmark
    public SteeringObjective.Evaluation steeringIteration() {
        return objective.evaluate(latent, TRIPLET);
    }

    /** Fails when an invocation left arrays behind or a parameter started recording gradients. */
    @TearDown(Level.Iteration)
    public void checkNothingLeft() {
        BenchmarkChecks.requireNothingLeft(manager, arraysAfterSetup);
        BenchmarkChecks.requireNoParameterGradients(transformer, classifier);
    }

    /** Releases native memory. */
    @TearDown(Level.Trial)
    public void tearDown() {
        classifier.close();
        manager.close();
    }



    // ---- the runner that prints the ratio

    /**
     * Runs both benchmarks for each block configuration and prints the ratio steering / plain and,
     * with three or more configurations, the per-block fit extrapolated to FLUX.1's 19 + 38 blocks.
     *
     * @param args {@code --blocks D+S[,D+S...]} (default 1+2), then any JMH options
     */
    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        List<int[]> configs = new ArrayList<>();
        List<String> jmhArgs = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--blocks") && i + 1 < args.length) {
                for (String pair : args[++i].split(",")) {
                    String[] p = pair.trim().split("\\+");
                    configs.add(new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1])});
                }
            } else {
                jmhArgs.add(args[i]);
            }
        }
        if (configs.isEmpty()) {
            configs.add(new int[] {1, 2});
        }
        CommandLineOptions cli = new CommandLineOptions(jmhArgs.toArray(String[]::new));
        // key "D+S" -> {plain ms, plain error, steering ms, steering error}
        Map<String, double[]> scores = new TreeMap<>();
        for (int[] c : configs) {
            Collection<RunResult> results = new Runner(new OptionsBuilder().parent(cli)
                    .include(FluxStepBenchmark.class.getName() + "\\.")
                    .param("doubleBlocks", String.valueOf(c[0]))
                    .param("singleBlocks", String.valueOf(c[1]))
                    .build()).run();
            double[] s = scores.computeIfAbsent(c[0] + "+" + c[1], k -> new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN});
            for (RunResult r : results) {
                boolean steering = r.getParams().getBenchmark().endsWith("steeringIteration");
                s[steering ? 2 : 0] = r.getPrimaryResult().getScore();
                s[steering ? 3 : 1] = r.getPrimaryResult().getScoreError();
            }
        }
        System.out.printf("%nFluxStepBenchmark, mean ms per call (+- 99.9%% CI half-width):%n");
        System.out.printf("%-8s %22s %24s %18s%n", "blocks", "plainCall", "steeringIteration", "steering / plain");
        for (Map.Entry<String, double[]> e : scores.entrySet()) {
            double[] s = e.getValue();
            System.out.printf("%-8s %12.0f +- %6.0f %14.0f +- %6.0f %18.2f%n", e.getKey(), s[0], s[1], s[2], s[3], s[2] / s[0]);
        }
        if (scores.size() >= 3) {
            extrapolate(scores);
        }
    }

    /** Least squares of time = o + D x d + S x s for both benchmarks; prints the fit and 19 + 38. */
    private static void extrapolate(Map<String, double[]> scores) {
        List<double[]> rows = new ArrayList<>();
        for (Map.Entry<String, double[]> e : scores.entrySet()) {
            String[] p = e.getKey().split("\\+");
            double[] s = e.getValue();
            rows.add(new double[] {Integer.parseInt(p[0]), Integer.parseInt(p[1]), s[0], s[2]});
        }
        double[] plain = fit(rows, 2);
        double[] steer = fit(rows, 3);
        if (plain == null || steer == null) {
            System.out.println("(the block configurations do not separate double and single blocks: no extrapolation)");
            return;
        }
        System.out.printf("%nPer-block fit, ms (time = fixed + double x d + single x s, least squares over %d configurations):%n",
                rows.size());
        System.out.printf("  plainCall:         fixed %8.0f, double block %8.0f, single block %8.0f%n", plain[0], plain[1], plain[2]);
        System.out.printf("  steeringIteration: fixed %8.0f, double block %8.0f, single block %8.0f%n", steer[0], steer[1], steer[2]);
        double p = plain[0] + 19 * plain[1] + 38 * plain[2];
        double q = steer[0] + 19 * steer[1] + 38 * steer[2];
        System.out.printf("EXTRAPOLATED (not measured) to FLUX.1's 19 double + 38 single blocks, same machine and sizes: plain call %.0f ms, "
                + "steering iteration %.0f ms, ratio %.2f%n", p, q, q / p);
    }

    /** Solves the 3x3 normal equations for column {@code y}; null when singular. */
    private static double[] fit(List<double[]> rows, int y) {
        double[][] a = new double[3][4];
        for (double[] r : rows) {
            double[] x = {1, r[0], r[1]};
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) {
                    a[i][j] += x[i] * x[j];
                }
                a[i][3] += x[i] * r[y];
            }
        }
        for (int c = 0; c < 3; c++) {
            int pivot = c;
            for (int r = c + 1; r < 3; r++) {
                if (Math.abs(a[r][c]) > Math.abs(a[pivot][c])) {
                    pivot = r;
                }
            }
            if (Math.abs(a[pivot][c]) < 1e-9) {
                return null;
            }
            double[] t = a[c];
            a[c] = a[pivot];
            a[pivot] = t;
            for (int r = 0; r < 3; r++) {
                if (r != c) {
                    double f = a[r][c] / a[c][c];
                    for (int k = c; k < 4; k++) {
                        a[r][k] -= f * a[c][k];
                    }
                }
            }
        }
        return new double[] {a[0][3] / a[0][0], a[1][3] / a[1][1], a[2][3] / a[2][2]};
    }
}
