package dev.steer.bench;

import dev.steer.core.engine.Backends;
import dev.steer.core.engine.SamplerOptions;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.Sampler;
import dev.steer.core.shapeworld.ShapeBench;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
 * Whole images through the generation engine on a chosen backend: a vanilla image, a steered one
 * with the classifier's recommended settings and one with the settings the embedded model shipped
 * before margin stops and noise candidates ({@link #BEFORE}: plain steps of 0.7, 10 iterations per
 * steered step, the final telemetry evaluation), 20 steps at guidance 5, in one run. Each
 * invocation takes the next of 8 ShapeBench prompts with seeds the benchmark does not score (10+),
 * since the recommended settings' cost depends on the prompt; the setup prints each arm's UNet
 * passes per image over those 8. The model defaults to the embedded ShapeWorld model; {@code -p backend=onnx -p
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

    /** The embedded model's steering settings before issue #14 (its old steering.json). */
    static final SteeringConfig BEFORE = SteeringConfig.REFERENCE.withStepSize(0.7f).withMaxIterations(10);

    private static final int PROMPTS = 8;

    private Sampler sampler;
    private final List<GenerationRequest> vanilla = new ArrayList<>();
    private final List<GenerationRequest> steered = new ArrayList<>();
    private final List<GenerationRequest> steeredBefore = new ArrayList<>();
    private int next;

    /** Loads the model and its classifier. */
    @Setup(Level.Trial)
    public void setUp() {
        Path classifierPath = classifier.isEmpty() ? Path.of(model).resolve("classifier") : Path.of(classifier);
        sampler = Backends.open(backend, SamplerOptions.of(Path.of(model)).withRelationClassifier(classifierPath));
        SteeringConfig recommended = SteeringConfig.recommendedFor(classifierPath);
        List<ShapeBench.Prompt> prompts = ShapeBench.standardPrompts().subList(0, PROMPTS);
        for (int i = 0; i < PROMPTS; i++) {
            GenerationRequest.Builder b = GenerationRequest.builder(prompts.get(i).prompt()).optSteps(20).optGuidanceScale(5).optSeed(10 + i);
            vanilla.add(b.build());
            steered.add(b.optSteering(SteeringRequest.fromPrompt().withConfig(recommended)).build());
            steeredBefore.add(b.optSteering(SteeringRequest.fromPrompt().withConfig(BEFORE)).build());
        }
        System.out.printf("%n%s on %s%nrecommended: %s%nbefore: %s%n", sampler.modelDescription(), backend, recommended, BEFORE);
        System.out.printf("UNet passes per image over the %d prompts: vanilla %.1f, recommended %.1f, before %.1f%n", PROMPTS,
                passes(vanilla), passes(steered), passes(steeredBefore));
    }

    private double passes(List<GenerationRequest> requests) {
        return requests.stream().mapToInt(r -> sampler.generate(r).timings().unetCalls()).average().orElseThrow();
    }

    private GenerationResult nextOf(List<GenerationRequest> requests) {
        return sampler.generate(requests.get(next++ % PROMPTS));
    }

    /** One vanilla image, decoded. */
    @Benchmark
    public GenerationResult vanillaImage() {
        return nextOf(vanilla);
    }

    /** One steered image with the recommended settings, decoded. */
    @Benchmark
    public GenerationResult steeredImage() {
        return nextOf(steered);
    }

    /** One steered image with the settings of before ({@link #BEFORE}), decoded. */
    @Benchmark
    public GenerationResult steeredImageBefore() {
        return nextOf(steeredBefore);
    }

    /** Releases the model. */
    @TearDown(Level.Trial)
    public void tearDown() {
        sampler.close();
    }
}
