package dev.steer.bench;

import dev.steer.core.generation.InitialNoise;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.steering.SteeringObjective;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.onnx.FloatTensor;
import dev.steer.onnx.OnnxStableDiffusion;
import dev.steer.onnx.OnnxUNet;
import dev.steer.onnx.steering.GradientEstimator;
import dev.steer.onnx.steering.OnnxSteeringObjective;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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

/**
 * What forward-only Learn-to-Steer costs on ONNX Runtime, per denoising step:
 *
 * <ul>
 *   <li>{@link #guidedStep()}: one plain classifier-free-guided step, as
 *       {@code OnnxStableDiffusion.denoise} makes it (the UNet on the batch [uncond, cond] without
 *       attention outputs, the guidance combination; the scheduler's arithmetic is negligible);</li>
 *   <li>{@link #steeringIteration()}: one {@link OnnxSteeringObjective#evaluate} at the given
 *       {@code budget} n: the UNet once on the batch of 2n + 1 latents (the latent and its
 *       antithetic perturbations) with the cross-attention probabilities fetched, the classifier
 *       maps built in Java for every item, the relation classifier (a generated ONNX graph) on all
 *       2n + 1 map pairs in one call, the estimate combined;</li>
 *   <li>{@link #steeringIterationOneCallPerLatent()}: the same evaluation with the UNet called once
 *       per latent (2n + 1 calls of batch 1) instead of one batched call.</li>
 * </ul>
 *
 * <p>{@code architecture}: {@code tiny} for the conformance model (the Optimum folder is assembled
 * from testdata's exports, as steer-onnx's tests do; 16x16 latents) or the path of an Optimum ONNX
 * folder (text_encoder/, unet/, vae_decoder/, vae_encoder/, tokenizer/, scheduler/). The relation
 * classifier is the published architecture from testdata's classifier-sd2-reference (random
 * weights: the cost does not depend on the values; it accepts up to 1368 maps per word) unless
 * {@code -Dsteer.classifier=path} names another. The names of the LibTorch benchmarks' committed
 * architectures ("sd15", "sd21": configs without weights) are refused: ONNX Runtime needs an export.
 *
 * <p>Run: {@code mvn -B -q -ntp install -DskipTests && mvn -B -q -ntp -pl steer-bench exec:exec
 * -Dbenchmark="OnnxSteeringBenchmark -p budget=4,16,64" -Darchitecture=tiny}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 4, time = 6)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Xss4m"})
public class OnnxSteeringBenchmark {
    /** "tiny" (the conformance model) or an Optimum ONNX model folder. */
    @Param({"tiny"})
    public String architecture;

    /** Directions per steering iteration (the UNet batch is 2 x budget + 1). */
    @Param({"16"})
    public int budget;

    /** Latent height and width; 0 for the model's export size (16 for tiny, else 64 when not declared). */
    @Param({"0"})
    public int latentSize;

    private static final float GUIDANCE = 7.5f;
    private static final float MODEL_TIMESTEP = 921f;
    private static final int CLASSIFIER_TIMESTEP = 5;
    private static final String PROMPT = "a photo of a cat to the left of a dog";

    private Path assembled;
    private OnnxStableDiffusion sd;
    private FloatTensor guidedContext;
    private float[] latent;
    private int[] latentShape;
    private RelationTriplet triplet;
    private OnnxSteeringObjective batched;
    private OnnxSteeringObjective oneByOne;

    /** Loads the model and the classifier, encodes the prompts, prints the configuration. */
    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path folder;
        long[] condIds;
        long[] uncondIds;
        int[] subject;
        int[] object;
        triplet = RelationTriplet.of("cat", SpatialRelation.LEFT_OF, "dog");
        if (architecture.equals("tiny")) {
            assembled = Files.createTempDirectory("steer-onnx-tiny");
            folder = assembleTiny(assembled);
            // the tiny text encoder has 1000 tokens: the ids and word positions of steer_step_golden
            try (SafetensorsFile g = SafetensorsFile.open(conformance("pipeline-tiny").resolve("steer_step_golden.safetensors"))) {
                condIds = g.readLongs("input.cond_ids");
                subject = ints(g.readLongs("input.subject_token_indices"));
                object = ints(g.readLongs("input.object_token_indices"));
            }
            try (SafetensorsFile g = SafetensorsFile.open(conformance("pipeline-tiny").resolve("golden.safetensors"))) {
                uncondIds = g.readLongs("input.uncond_ids");
            }
        } else if (architecture.equals("sd15") || architecture.equals("sd21")) {
            throw new IllegalArgumentException("OnnxSteeringBenchmark runs ONNX exports: pass -Darchitecture=tiny (the conformance "
                    + "model) or the path of an Optimum ONNX folder; '" + architecture + "' names a LibTorch architecture without weights");
        } else {
            folder = Paths.get(architecture);
            condIds = null;
            uncondIds = null;
            subject = null;
            object = null;
        }
        Path classifier = Paths.get(System.getProperty("steer.classifier",
                conformance("classifier-sd2-reference").resolve("classifier.pth").toString()));
        sd = OnnxStableDiffusion.builder().setModelFolder(folder).optRelationClassifier(classifier).build();
        if (condIds == null) {
            var prompt = sd.tokenizer().tokenize(PROMPT);
            TokenBinding b = TokenBinding.bind(prompt, triplet);
            subject = b.subjectPositions();
            object = b.objectPositions();
            condIds = prompt.idsAsLongs();
            uncondIds = sd.tokenizer().tokenize("").idsAsLongs();
        }
        FloatTensor cond = sd.encodeIds(condIds);
        FloatTensor uncond = sd.encodeIds(uncondIds);
        float[] both = new float[cond.size() * 2];
        System.arraycopy(uncond.data(), 0, both, 0, cond.size());
        System.arraycopy(cond.data(), 0, both, cond.size(), cond.size());
        guidedContext = FloatTensor.of(both, 2, cond.dim(1), cond.dim(2));

        OnnxUNet unet = sd.unet();
        int size = latentSize > 0 ? latentSize : unet.exportLatentSize() != null ? unet.exportLatentSize()[0] : 64;
        latentShape = new int[] {unet.inChannels(), size, size};
        latent = InitialNoise.gaussian(1, latentShape[0] * size * size);
        Map<RelationTriplet, TokenBinding> bindings = Map.of(triplet, TokenBinding.ofPositions(triplet, subject, object));
        GradientEstimator est = GradientEstimator.DEFAULTS.withBudget(budget);
        batched = new OnnxSteeringObjective(unet, sd.relationClassifier(), cond, MODEL_TIMESTEP, CLASSIFIER_TIMESTEP, 1f, latentShape,
                bindings, est, 1);
        oneByOne = new OnnxSteeringObjective(unet, sd.relationClassifier(), cond, MODEL_TIMESTEP, CLASSIFIER_TIMESTEP, 1f, latentShape,
                bindings, est.withMaxBatch(1), 1);
        int maps = unet.crossAttentionLayers().stream().mapToInt(l -> l.heads()).sum();
        System.out.printf("%n%s: %s; latent %dx%dx%d; %d cross-attention layers, %d maps per word; budget %d -> %d latents per "
                + "steering evaluation; ONNX Runtime on CPU, %d processors%n", architecture, sd.modelDescription(), latentShape[0], size,
                size, unet.crossAttentionLayers().size(), maps, budget, est.latentsPerEvaluation(),
                Runtime.getRuntime().availableProcessors());
    }

    private static int[] ints(long[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Math.toIntExact(v[i]);
        }
        return out;
    }

    /** One guided denoising step: UNet on [uncond, cond] without attention outputs, guidance. */
    @Benchmark
    public float[] guidedStep() {
        int per = latent.length;
        float[] pair = new float[2 * per];
        System.arraycopy(latent, 0, pair, 0, per);
        System.arraycopy(latent, 0, pair, per, per);
        float[] out = sd.unet().forward(FloatTensor.of(pair, 2, latentShape[0], latentShape[1], latentShape[2]),
                new float[] {MODEL_TIMESTEP}, guidedContext).noise().data();
        float[] guided = new float[per];
        for (int k = 0; k < per; k++) {
            guided[k] = out[k] + (out[per + k] - out[k]) * GUIDANCE;
        }
        return guided;
    }

    /** One forward-only steering iteration: one UNet call on 2n + 1 latents with attention, maps, classifier, estimate. */
    @Benchmark
    public SteeringObjective.Evaluation steeringIteration() {
        return batched.evaluate(latent, triplet);
    }

    /** The same evaluation with one UNet call per latent. */
    @Benchmark
    public SteeringObjective.Evaluation steeringIterationOneCallPerLatent() {
        return oneByOne.evaluate(latent, triplet);
    }

    /** Releases the sessions and the assembled folder. */
    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        sd.close();
        if (assembled != null) {
            try (var walk = Files.walk(assembled)) {
                for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /** The pipeline-tiny model in the Optimum layout, from testdata's fixtures. */
    static Path assembleTiny(Path root) throws IOException {
        copy(conformance("clip-sd1-tiny").resolve("onnx/text_encoder/model.onnx"), root.resolve("text_encoder/model.onnx"));
        copy(conformance("unet-sd1-tiny").resolve("onnx/unet/model.onnx"), root.resolve("unet/model.onnx"));
        copy(conformance("vae-tiny").resolve("onnx/vae_decoder/model.onnx"), root.resolve("vae_decoder/model.onnx"));
        copy(conformance("vae-tiny").resolve("onnx/vae_encoder/model.onnx"), root.resolve("vae_encoder/model.onnx"));
        copy(conformance("sched-ddim").resolve("scheduler_config.json"), root.resolve("scheduler/scheduler_config.json"));
        copy(conformance("clip-tokenizer").resolve("vocab.json"), root.resolve("tokenizer/vocab.json"));
        copy(conformance("clip-tokenizer").resolve("merges.txt"), root.resolve("tokenizer/merges.txt"));
        return root;
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Files.copy(from, to);
    }

    /** A fixture folder under testdata/conformance, found by walking up from the working directory. */
    static Path conformance(String fixture) {
        Path dir = Paths.get("").toAbsolutePath();
        while (dir != null) {
            Path candidate = dir.resolve("testdata").resolve("conformance").resolve(fixture);
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
            dir = dir.getParent();
        }
        throw new IllegalArgumentException("testdata/conformance/" + fixture + " not found above " + Paths.get("").toAbsolutePath());
    }
}
