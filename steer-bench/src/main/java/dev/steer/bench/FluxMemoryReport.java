package dev.steer.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.steer.core.generation.InitialNoise;
import dev.steer.core.model.FluxTransformerConfig;
import dev.steer.pytorch.flux.FluxDenoiser;
import dev.steer.pytorch.flux.FluxPrompt;
import dev.steer.pytorch.flux.FluxTransformer2DModel;
import dev.steer.pytorch.nn.Weight;
import dev.steer.pytorch.relation.PublishedRelationClassifier;
import dev.steer.pytorch.steering.TorchSteeringObjective;
import dev.steer.pytorch.internal.weights.ModelWeights;
import dev.steer.pytorch.weights.WeightStorage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Peak resident memory of the FLUX transformer on LibTorch, per weight storage and per stage, each
 * measured in a fresh JVM so that peaks do not mix.
 *
 * <p>The launcher writes a transformer of FLUX.1 [dev]'s width with {@code --blocks D+S} blocks
 * (default 1 double + 2 single, as {@link FluxStepBenchmark}) and seeded random weights to a
 * temporary folder as one bfloat16 safetensors file (how FLUX.1 is published: bfloat16 bits
 * written here as the upper half of each float32, rounded to nearest even), then runs one child JVM
 * per (stage, storage) and prints a table. Each child starts LibTorch, builds the model, loads the
 * file with {@link WeightStorage#MAPPED} (the file's bytes used in place, widened per layer on use;
 * the pipeline's default) or {@link WeightStorage#FLOAT32} (a float32 copy), then runs the stage:
 *
 * <ul>
 *   <li>{@code load}: nothing more;</li>
 *   <li>{@code plain}: one plain transformer call as the engine's predict runs it (512 T5 tokens,
 *       latent [1, 16, 64, 64], no gradients, velocity copied out; the call's scope closed);</li>
 *   <li>{@code steer}: one steering iteration ({@code TorchSteeringObjective.evaluate} through
 *       {@code FluxDenoiser.probed}, the FLUX reference classifier pinned to blocks x 24 maps per
 *       word), as in {@link FluxStepBenchmark}.</li>
 * </ul>
 *
 * <p>It reports, from {@code /proc/self/status}: {@code VmHWM}, the process's peak resident set
 * since it started (JVM, LibTorch, the weights, the stage's activations; anonymous memory and the
 * mapped file's pages that were touched both count); {@code VmRSS}, the resident set after the stage
 * (after the call's arrays were freed: what the process keeps between steps), split into
 * {@code RssAnon} (LibTorch allocations, the Java heap) and {@code RssFile} (pages of the mapped
 * weights file, shared with the page cache: the kernel can drop them under memory pressure and
 * read them again); and the resident set before loading (JVM + LibTorch + the random inputs), to
 * subtract. Linux only. Figures depend on glibc's allocator, which keeps some freed memory.
 *
 * <p>Run from the repository root (the classifier fixture is read from {@code testdata/}):
 * <pre>{@code
 * mvn -B -q -ntp install -DskipTests
 * mvn -B -q -ntp -pl steer-bench exec:exec -Dmain=dev.steer.bench.FluxMemoryReport -Dargs="--blocks 1+2"
 * }</pre>
 * {@code --stages load,plain,steer} and {@code --storages MAPPED,FLOAT32} choose the rows and
 * columns; {@code --keep DIR} writes the weights file there and keeps it.
 */
public final class FluxMemoryReport {
    private static final String RESULT = "FLUX_MEMORY_RESULT";
    private static final String WEIGHTS_FILE = "diffusion_pytorch_model.safetensors";
    private static final String CLASSIFIER = "testdata/conformance/classifier-flux-reference/classifier.pth";
    private static final int TEXT_TOKENS = 512;
    private static final int LATENT_SIZE = 64;

    private FluxMemoryReport() {
    }

    /**
     * The launcher ({@code --blocks D+S --stages ... --storages ... --keep DIR}) or, with
     * {@code --child STAGE STORAGE FILE D S}, one measurement.
     */
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--child")) {
            child(args[1], WeightStorage.valueOf(args[2]), Path.of(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]));
            return;
        }
        int doubleBlocks = 1;
        int singleBlocks = 2;
        List<String> stages = List.of("load", "plain", "steer");
        List<String> storages = List.of("MAPPED", "FLOAT32");
        Path keep = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--blocks" -> {
                    String[] p = args[i + 1].split("\\+");
                    doubleBlocks = Integer.parseInt(p[0]);
                    singleBlocks = Integer.parseInt(p[1]);
                }
                case "--stages" -> stages = List.of(args[i + 1].split(","));
                case "--storages" -> storages = List.of(args[i + 1].split(","));
                case "--keep" -> keep = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--blocks D+S, --stages load,plain,steer, --storages MAPPED,FLOAT32, --keep DIR)");
            }
        }
        for (String s : storages) {
            WeightStorage.valueOf(s);
        }

        FluxTransformerConfig config = FluxStepBenchmark.fluxDev(doubleBlocks, singleBlocks);
        Path dir = keep != null ? Files.createDirectories(keep) : Files.createTempDirectory("flux-memory");
        Path file = dir.resolve(WEIGHTS_FILE);
        long t0 = System.nanoTime();
        long params = writeBfloat16(new FluxTransformer2DModel(config), file, 1234);
        System.out.printf("FLUX.1 [dev] width, %d double + %d single blocks: %,d parameters; bf16 safetensors %s, %,d bytes "
                + "(%.2f GB; float32 would be %.2f GB), written in %.1f s%n", doubleBlocks, singleBlocks, params, file, Files.size(file),
                Files.size(file) / 1e9, params * 4 / 1e9, (System.nanoTime() - t0) / 1e9);
        System.out.printf("inputs: %d T5 tokens, latent [1, 16, %d, %d] (512x512 image); one fresh JVM per cell%n", TEXT_TOKENS,
                LATENT_SIZE, LATENT_SIZE);

        List<String[]> rows = new ArrayList<>();
        try {
            for (String stage : stages) {
                for (String storage : storages) {
                    String[] r = runChild(stage, storage, file, doubleBlocks, singleBlocks);
                    rows.add(r);
                }
            }
        } finally {
            if (keep == null) {
                Files.deleteIfExists(file);
                Files.deleteIfExists(dir);
            }
        }
        System.out.printf("%nPeak and current resident memory, GB (1e9 bytes), per fresh JVM:%n");
        System.out.printf("%-6s %-8s %9s %9s %9s %9s %11s %8s%n", "stage", "storage", "VmHWM", "VmRSS", "RssAnon", "RssFile",
                "RSS before", "s");
        for (String[] r : rows) {
            System.out.printf("%-6s %-8s %9s %9s %9s %9s %11s %8s%n", (Object[]) r);
        }
        System.out.println("VmHWM: peak resident set of the process; VmRSS = RssAnon + RssFile (+ RssShmem) after the stage; "
                + "RSS before: after LibTorch started and the inputs were made, before loading; s: seconds for loading and the stage");
    }

    private static String[] runChild(String stage, String storage, Path file, int d, int s) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(java, "-Dai.djl.offline=true", "-Xss4m", "-cp", System.getProperty("java.class.path"),
                FluxMemoryReport.class.getName(), "--child", stage, storage, file.toString(), String.valueOf(d), String.valueOf(s));
        System.out.printf("%n[%s %s] starting a fresh JVM%n", stage, storage);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String result = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null;) {
                if (line.startsWith(RESULT)) {
                    result = line;
                } else if (!line.startsWith("SLF4J")) {
                    System.out.println("  " + line);
                }
            }
        }
        int rc = p.waitFor();
        if (rc != 0 || result == null) {
            return new String[] {stage, storage, "failed", "rc " + rc, "", "", "", ""};
        }
        String[] f = result.split(" ");
        return new String[] {stage, storage, gb(f[1]), gb(f[2]), gb(f[3]), gb(f[4]), gb(f[5]), f[6]};
    }

    private static String gb(String kb) {
        return String.format("%.2f", Long.parseLong(kb) * 1024 / 1e9);
    }

    // ---- one measurement

    private static void child(String stage, WeightStorage storage, Path file, int doubleBlocks, int singleBlocks) {
        Engine engine = Engine.getInstance();
        try (NDManager manager = NDManager.newBaseManager()) {
            System.out.printf("engine %s %s, device %s%n", engine.getEngineName(), engine.getVersion(), manager.getDevice());
            FluxTransformerConfig config = FluxStepBenchmark.fluxDev(doubleBlocks, singleBlocks);
            FluxTransformer2DModel transformer = new FluxTransformer2DModel(config);
            FluxDenoiser denoiser = new FluxDenoiser(transformer);
            NDArray text = manager.create(InitialNoise.gaussian(2, TEXT_TOKENS * config.jointAttentionDim()),
                    new Shape(1, TEXT_TOKENS, config.jointAttentionDim()));
            NDArray pooled = manager.create(InitialNoise.gaussian(3, config.pooledProjectionDim()), new Shape(1, config.pooledProjectionDim()));
            FluxPrompt prompt = new FluxPrompt(text, pooled);
            Shape latentShape = new Shape(1, config.latentChannels(), LATENT_SIZE, LATENT_SIZE);
            float[] latent = InitialNoise.gaussian(1, (int) latentShape.size());
            long before = status("VmRSS");

            long t0 = System.nanoTime();
            ModelWeights.load(transformer, List.of(file), manager, Map.of(), storage);
            long mappedWeights = transformer.namedParameters().values().stream().filter(Weight::isBfloat16Bits).count();
            System.out.printf("loaded %s: %d of %d weights kept as bfloat16 bits, %.1f s%n", storage, mappedWeights,
                    transformer.namedParameters().size(), (System.nanoTime() - t0) / 1e9);
            switch (stage) {
                case "load" -> {
                }
                case "plain" -> {
                    try (NDManager call = manager.newSubManager()) {
                        float[] v = denoiser.velocity(call.create(latent, latentShape), prompt, FluxStepBenchmark.MODEL_TIMESTEP,
                                FluxStepBenchmark.GUIDANCE, null).toFloatArray();
                        System.out.printf("plain call: velocity of %d values, %.1f s%n", v.length, (System.nanoTime() - t0) / 1e9);
                    }
                }
                case "steer" -> {
                    int maps = transformer.crossAttentionLayers().stream().mapToInt(l -> l.heads()).sum();
                    try (PublishedRelationClassifier classifier = FluxStepBenchmark.pinnedClassifier(Path.of(CLASSIFIER), maps, manager)) {
                        TorchSteeringObjective objective = new TorchSteeringObjective(denoiser.probed(prompt, FluxStepBenchmark.MODEL_TIMESTEP,
                                FluxStepBenchmark.GUIDANCE, FluxStepBenchmark.MAP_SIDE), classifier, manager,
                                classifier.trainedTimesteps()[0], latentShape, Map.of(FluxStepBenchmark.TRIPLET, FluxStepBenchmark.BINDING));
                        var e = objective.evaluate(latent, FluxStepBenchmark.TRIPLET);
                        System.out.printf("steering iteration: loss %.4f, gradient of %d values, %.1f s%n", e.loss(), e.gradient().length,
                                (System.nanoTime() - t0) / 1e9);
                    }
                }
                default -> throw new IllegalArgumentException("stage must be load, plain or steer: " + stage);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%s %d %d %d %d %d %.1f%n", RESULT, status("VmHWM"), status("VmRSS"), status("RssAnon"), status("RssFile"),
                    before, seconds);
        }
    }

    /** A field of /proc/self/status, in kB. */
    private static long status(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no " + field + " in /proc/self/status (Linux only)");
    }

    // ---- the weights file

    /**
     * Writes every parameter of {@code module} as BF16 with seeded random values (as
     * {@link ModelWeights#randomize}: uniform in +-1/sqrt(fan_in), norm scales near 1, biases small).
     *
     * @return the number of parameters
     */
    static long writeBfloat16(FluxTransformer2DModel module, Path file, long seed) throws IOException {
        Map<String, Weight> params = module.namedParameters();
        JsonObject header = new JsonObject();
        JsonObject meta = new JsonObject();
        meta.addProperty("format", "pt");
        header.add("__metadata__", meta);
        long offset = 0;
        for (Map.Entry<String, Weight> e : params.entrySet()) {
            long[] shape = e.getValue().shape().getShape();
            long bytes = 2 * e.getValue().shape().size();
            JsonObject entry = new JsonObject();
            entry.addProperty("dtype", "BF16");
            JsonArray sh = new JsonArray();
            for (long d : shape) {
                sh.add(d);
            }
            entry.add("shape", sh);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + bytes);
            entry.add("data_offsets", offsets);
            header.add(e.getKey(), entry);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        long count = 0;
        try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
            out.write(head.array());
            ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (Map.Entry<String, Weight> e : params.entrySet()) {
                long[] shape = e.getValue().shape().getShape();
                long n = e.getValue().shape().size();
                count += n;
                String key = e.getKey();
                SplittableRandom rnd = new SplittableRandom(seed ^ (key.hashCode() * 0x9E3779B97F4A7C15L));
                boolean normScale = key.contains("norm") && shape.length == 1 && key.endsWith("weight");
                long fanIn = 1;
                for (int i = 1; i < shape.length; i++) {
                    fanIn *= shape[i];
                }
                double bound = shape.length == 1 ? 0.02 : 1.0 / Math.sqrt(fanIn);
                for (long i = 0; i < n; i++) {
                    float v = normScale ? 1f + 0.1f * (float) (rnd.nextDouble() - 0.5) : (float) ((rnd.nextDouble() * 2 - 1) * bound);
                    if (!chunk.hasRemaining()) {
                        out.write(chunk.array(), 0, chunk.position());
                        chunk.clear();
                    }
                    chunk.putShort(toBfloat16(v));
                }
            }
            out.write(chunk.array(), 0, chunk.position());
        }
        return count;
    }

    /** The upper 16 bits of a float32, rounded to nearest even (finite values). */
    static short toBfloat16(float v) {
        int bits = Float.floatToRawIntBits(v);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }
}
