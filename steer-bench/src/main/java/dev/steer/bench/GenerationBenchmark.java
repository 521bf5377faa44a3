package dev.steer.bench;

import dev.steer.core.engine.Backends;
import dev.steer.core.engine.SamplerOptions;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.Sampler;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringRequest;
import java.nio.file.Path;
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
 * Whole images through the generation engine on a chosen backend: a vanilla image and a steered
 * one (the classifier's recommended settings), same prompt and seed, 20 steps at guidance 5, in
 * one run. The model defaults to the embedded ShapeWorld model; {@code -p backend=onnx -p
 * model=DIR} runs an Optimum ONNX export of it (for example {@code ../shared/onnx/shapeworld})
 * with a classifier given by {@code -p classifier=PATH}.
 *
 * <p>Run: {@code mvn -B -q -ntp install -DskipTests && mvn -B -q -ntp -pl steer-bench exec:exec
 * -Dbenchmark=GenerationBenchmark}. Mode: sample time in milliseconds; {@code p0.50} is the median.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 5, time = 10)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Xss4m"})
public class GenerationBenchmark {
    /** "pytorch" or "onnx". */
    @Param({"pytorch"})
    public String backend;

    /** The model folder (relative to the repository root). */
    @Param({"models/shapeworld"})
    public String model;

    /** The relation classifier; empty for the model folder's {@code classifier}. */
    @Param({""})
    public String classifier;

    private static final String PROMPT = "a photo of a purple square above a red circle";

    private Sampler sampler;
    private GenerationRequest vanilla;
    private GenerationRequest steered;

    /** Loads the model and its classifier. */
    @Setup(Level.Trial)
    public void setUp() {
        Path classifierPath = classifier.isEmpty() ? Path.of(model).resolve("classifier") : Path.of(classifier);
        sampler = Backends.open(backend, SamplerOptions.of(Path.of(model)).withRelationClassifier(classifierPath));
        vanilla = GenerationRequest.builder(PROMPT).optSteps(20).optGuidanceScale(5).optSeed(0).build();
        steered = GenerationRequest.builder(PROMPT).optSteps(20).optGuidanceScale(5).optSeed(0)
                .optSteering(SteeringRequest.fromPrompt().withConfig(SteeringConfig.recommendedFor(classifierPath))).build();
        System.out.printf("%n%s on %s%n", sampler.modelDescription(), backend);
    }

    /** One vanilla image, decoded. */
    @Benchmark
    public GenerationResult vanillaImage() {
        return sampler.generate(vanilla);
    }

    /** One steered image, decoded. */
    @Benchmark
    public GenerationResult steeredImage() {
        return sampler.generate(steered);
    }

    /** Releases the model. */
    @TearDown(Level.Trial)
    public void tearDown() {
        sampler.close();
    }
}
