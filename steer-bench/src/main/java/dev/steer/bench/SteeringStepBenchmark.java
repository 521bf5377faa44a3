package dev.steer.bench;

import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.generation.InitialNoise;
import dev.steer.core.model.UNetConfig;
import dev.steer.core.relation.RelationClassifierConfig;
import dev.steer.core.relation.RelationTriplet;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.steering.SteeringObjective;
import dev.steer.pytorch.relation.PublishedRelationClassifier;
import dev.steer.pytorch.steering.TorchSteeringObjective;
import dev.steer.pytorch.unet.CrossAttentionHook;
import dev.steer.pytorch.unet.UNet2DConditionModel;
import dev.steer.pytorch.internal.weights.ModelWeights;
import java.util.List;
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
 * What Learn-to-Steer adds to a denoising step: one plain classifier-free-guided step against one
 * steering iteration, on a real-size architecture with seeded random weights (the cost does not
 * depend on the values).
 *
 * <ul>
 *   <li>{@link #guidedStep()}: what the generation engine's step costs on LibTorch, less the
 *       scheduler's update (Java arithmetic on the latent, negligible): the UNet on batch 2
 *       [uncond, cond] without gradients, the guidance combination, the result copied out.</li>
 *   <li>{@link #steeringIteration()}: one {@link TorchSteeringObjective#evaluate}: the UNet on batch 1
 *       (conditional prompt) with the attention probe, the relation classifier on the subject's and
 *       object's maps, the cross-entropy back-propagated to the latent (only to it: no parameter
 *       records gradients, which the setup checks), loss, probabilities and gradient copied out.</li>
 * </ul>
 *
 * <p>The classifier is the published architecture with random weights, pinned to as many maps per
 * word as the UNet produces (cross-attention layers x heads: 16 x 8 = 128 for SD 1.5). Each
 * invocation runs in a sub-manager scope that closes its arrays; every iteration checks that no
 * array was left behind. The setup prints the engine, its version, the device and whether LibTorch
 * sees CUDA (build with {@code -Dcuda} for the CUDA LibTorch; see the README).
 *
 * <p>Mode: sample time; JMH's {@code p0.50} line is the median. The first two UNet calls of a fresh
 * process are several times slower (allocator warm-up), hence three warm-up iterations of at least
 * one call each. On two idle CPU cores, SD 1.5 at 32x32 latents: about 3.1 s a guided step, 3.5 s a
 * steering iteration.
 *
 * <p>Run: {@code mvn -B -q -ntp install -DskipTests && mvn -B -q -ntp -pl steer-bench exec:exec
 * -Dbenchmark=SteeringStepBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 12)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Xss4m"})
public class SteeringStepBenchmark {
    /** "sd15", "sd21" (committed configs) or a model folder path. */
    @Param({"sd15"})
    public String architecture;

    /** Latent height and width (pixels / 8). */
    @Param({"32"})
    public int latentSize;

    private static final float GUIDANCE = 7.5f;
    private static final float MODEL_TIMESTEP = 500f;
    private static final int CLASSIFIER_TIMESTEP = 25;
    private static final List<String> RELATIONS = List.of("above", "below", "to the left of", "to the right of", "is");

    private NDManager manager;
    private UNet2DConditionModel unet;
    private PublishedRelationClassifier classifier;
    private float[] latent;
    private Shape latentShape;
    private NDArray guidedContext;
    private NDArray timestep;
    private TorchSteeringObjective objective;
    private RelationTriplet triplet;
    private int arraysAfterSetup;

    /** Builds the UNet and the classifier with random weights and the inputs; prints the device. */
    @Setup(Level.Trial)
    public void setUp() {
        Engine engine = Engine.getInstance();
        manager = NDManager.newBaseManager();
        System.out.printf("%nengine %s %s, device %s, LibTorch CUDA available: %s (GPUs: %d)%n", engine.getEngineName(),
                engine.getVersion(), manager.getDevice(), engine.hasCapability(StandardCapabilities.CUDA), engine.getGpuCount());

        UNetConfig config = UNetConfig.load(Architectures.resolve(architecture).resolve("unet").resolve("config.json"));
        unet = new UNet2DConditionModel(config);
        ModelWeights.randomize(unet, 1234, manager);
        unet.setRequiresGradient(false);
        int layers = unet.crossAttentionLayers().size();
        int maps = unet.crossAttentionLayers().stream().mapToInt(l -> l.heads()).sum();
        classifier = PublishedRelationClassifier.initialize(RelationClassifierConfig.publishedSd(RELATIONS).withMapsPerWord(maps),
                4321, manager);
        classifier.setRequiresGradient(false);
        BenchmarkChecks.requireNoParameterGradients(unet, classifier);

        int c = config.inChannels();
        int d = config.crossAttentionDim();
        latentShape = new Shape(1, c, latentSize, latentSize);
        latent = InitialNoise.gaussian(1, (int) latentShape.size());
        // [uncond, cond] for the guided step; the steering objective reads the conditional row alone
        guidedContext = manager.create(InitialNoise.gaussian(2, 2 * 77 * d), new Shape(2, 77, d));
        NDArray cond = guidedContext.get("1:2");
        timestep = manager.create(new float[] {MODEL_TIMESTEP});
        triplet = RelationTriplet.of("subject", SpatialRelation.LEFT_OF, "object");
        TokenBinding binding = TokenBinding.ofPositions(triplet, new int[] {2}, new int[] {5});
        objective = new TorchSteeringObjective(unet, classifier, cond, MODEL_TIMESTEP, CLASSIFIER_TIMESTEP, 1f, latentShape,
                Map.of(triplet, binding));
        arraysAfterSetup = BenchmarkChecks.managedArrays(manager);
        System.out.printf("%s: UNet %.1fM parameters, %d cross-attention layers, %d maps per word; classifier %.2fM parameters; "
                + "latent %s%n", architecture, unet.parameterCount() / 1e6, layers, maps, classifier.parameterCount() / 1e6, latentShape);
    }

    /** One guided denoising step: UNet on batch 2 without gradients, guidance, the result copied out. */
    @Benchmark
    public float[] guidedStep() {
        try (NDManager step = manager.newSubManager()) {
            NDArray x = step.create(latent, latentShape);
            x = NDArrays.concat(new NDList(x, x), 0);
            NDArray out = unet.forward(x, timestep, guidedContext, (CrossAttentionHook) null);
            NDArray u = out.get(0);
            NDArray c = out.get(1);
            return u.add(c.sub(u).mul(GUIDANCE)).toFloatArray();
        }
    }

    /** One steering iteration: batch 1 forward with the probe, the classifier, backward to the latent. */
    @Benchmark
    public SteeringObjective.Evaluation steeringIteration() {
        return objective.evaluate(latent, triplet);
    }

    /** Fails when an invocation left arrays behind or a parameter started recording gradients. */
    @TearDown(Level.Iteration)
    public void checkNothingLeft() {
        BenchmarkChecks.requireNothingLeft(manager, arraysAfterSetup);
        BenchmarkChecks.requireNoParameterGradients(unet, classifier);
    }

    /** Releases native memory. */
    @TearDown(Level.Trial)
    public void tearDown() {
        classifier.close();
        manager.close();
    }


}
