package dev.steer.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.generation.InitialNoise;
import dev.steer.core.model.UNetConfig;
import dev.steer.pytorch.unet.UNet2DConditionModel;
import dev.steer.pytorch.internal.weights.ModelWeights;
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
 * One UNet forward call of a real-size architecture with seeded random weights (what one
 * classifier-free-guided denoising step costs without the scheduler): batch 2 (unconditional and
 * conditional), 77 context tokens. Reports the sample distribution; the p0.50 line is the median.
 *
 * <p>Run: {@code mvn -q -pl steer-bench -am package -DskipTests && mvn -q -pl steer-bench exec:exec}
 * (see the README); choose {@code -Darchitecture=sd21} or a model folder path.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 10)
@Fork(value = 1, jvmArgsAppend = {"-Dai.djl.offline=true", "-Xss4m"})
public class UNetCallBenchmark {
    /** "sd15", "sd21" (committed configs) or a model folder path. */
    @Param({"sd15"})
    public String architecture;

    /** Latent height and width (pixels / 8). */
    @Param({"32"})
    public int latentSize;

    /** Batch size: 2 is one guided step. */
    @Param({"2"})
    public int batch;

    private NDManager manager;
    private UNet2DConditionModel unet;
    private NDArray sample;
    private NDArray timestep;
    private NDArray context;

    /** Builds the model with random weights and the inputs. */
    @Setup(Level.Trial)
    public void setUp() {
        manager = NDManager.newBaseManager();
        UNetConfig config = UNetConfig.load(Architectures.resolve(architecture).resolve("unet").resolve("config.json"));
        unet = new UNet2DConditionModel(config);
        ModelWeights.randomize(unet, 1234, manager);
        int c = config.inChannels();
        sample = manager.create(InitialNoise.gaussian(1, batch * c * latentSize * latentSize), new Shape(batch, c, latentSize, latentSize));
        timestep = manager.create(new long[] {500});
        context = manager.create(InitialNoise.gaussian(2, batch * 77 * config.crossAttentionDim()),
                new Shape(batch, 77, config.crossAttentionDim()));
        System.out.printf("%n%s: UNet %.1fM parameters, device %s%n", architecture, unet.parameterCount() / 1e6, manager.getDevice());
    }

    /** One forward call; its scope closes all intermediates. */
    @Benchmark
    public float unetCall() {
        try (NDManager scope = manager.newSubManager()) {
            NDArray s = sample.duplicate();
            s.attach(scope);
            return unet.forward(s, timestep, context, null).getFloat(0, 0, 0, 0);
        }
    }

    /** Releases native memory. */
    @TearDown(Level.Trial)
    public void tearDown() {
        manager.close();
    }
}
