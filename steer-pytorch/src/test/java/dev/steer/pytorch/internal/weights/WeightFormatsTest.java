package dev.steer.pytorch.internal.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.core.model.ConfigJson;
import dev.steer.core.model.ModelConfigException;
import dev.steer.core.model.UNetConfig;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.HalfFloats;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.internal.weights.TensorDType;
import dev.steer.core.internal.weights.TensorInfo;
import dev.steer.pytorch.nn.Weight;
import dev.steer.pytorch.pipeline.StableDiffusion;
import dev.steer.pytorch.unet.UNet2DConditionModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weight formats a real download has: float16 and bfloat16 files, the {@code .fp16} variant names,
 * sharded checkpoints with an index; and models of the real SD 1.5 / SD 2.1 size built from their
 * configs alone.
 */
class WeightFormatsTest {
    private static final String UNET = "unet/diffusion_pytorch_model";

    /** Measured max |diff| on the tiny UNet's golden output: float16 weights 2.3e-3, bfloat16 1.6e-2 (printed). */
    private static final double FP16_TOLERANCE = 1e-2;
    private static final double BF16_TOLERANCE = 5e-2;

    @TempDir
    static Path tmp;

    private static SafetensorsFile golden;
    private static Path tinyUNetWeights;
    private static float[] reference;

    @BeforeAll
    static void referenceOutput() throws IOException {
        golden = Conformance.golden("unet-sd1-tiny");
        tinyUNetWeights = Conformance.dir("unet-sd1-tiny").resolve("unet/diffusion_pytorch_model.safetensors");
        reference = unetOutput(folder("f32"), null);
        Conformance.assertClose("float32 weights, builder", golden.readFloats("output.sample"), reference, 1e-4);
    }

    @AfterAll
    static void close() {
        golden.close();
    }

    // ---------------------------------------------------------------------------------- helpers

    /** A copy of the tiny model folder (the pipeline test's fixture). */
    private static Path folder(String name) throws IOException {
        Path root = tmp.resolve(name);
        copyDir(Conformance.dir("unet-sd1-tiny").resolve("unet"), root.resolve("unet"));
        copyDir(Conformance.dir("clip-sd1-tiny").resolve("text_encoder"), root.resolve("text_encoder"));
        copyDir(Conformance.dir("vae-tiny").resolve("vae"), root.resolve("vae"));
        Files.createDirectories(root.resolve("scheduler"));
        Files.copy(Conformance.dir("sched-ddim").resolve("scheduler_config.json"), root.resolve("scheduler/scheduler_config.json"));
        copyDir(Conformance.dir("clip-tokenizer"), root.resolve("tokenizer"));
        return root;
    }

    private static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f)) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
        }
    }

    /** Loads the folder through the builder and runs the UNet on the golden inputs. */
    private static float[] unetOutput(Path folder, String variant) {
        StableDiffusion.Builder b = StableDiffusion.builder().setModelFolder(folder);
        if (variant != null) {
            b.optVariant(variant);
        }
        try (StableDiffusion sd = b.build()) {
            return unetOutput(sd.unet(), sd.manager());
        }
    }

    private static float[] unetOutput(UNet2DConditionModel unet, NDManager manager) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray sample = scope.create(golden.readFloats("input.sample"), new Shape(golden.info("input.sample").shape()));
            NDArray t = scope.create(golden.readLongs("input.timesteps"));
            NDArray ctx = scope.create(golden.readFloats("input.encoder_hidden_states"),
                    new Shape(golden.info("input.encoder_hidden_states").shape()));
            return unet.forward(sample, t, ctx, null).toFloatArray();
        }
    }

    /** One tensor to write: dtype, shape and little-endian bytes. */
    private record Tensor(TensorDType dtype, long[] shape, byte[] bytes) {
    }

    /** Writes a safetensors file: little-endian u64 header length, JSON header, data. */
    private static void write(Path file, Map<String, Tensor> tensors) throws IOException {
        JsonObject header = new JsonObject();
        JsonObject meta = new JsonObject();
        meta.addProperty("format", "pt");
        header.add("__metadata__", meta);
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            JsonObject t = new JsonObject();
            t.addProperty("dtype", e.getValue().dtype().name());
            JsonArray shape = new JsonArray();
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            t.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offset += e.getValue().bytes().length;
            offsets.add(offset);
            t.add("data_offsets", offsets);
            header.add(e.getKey(), t);
        }
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, h.length));
            ch.write(ByteBuffer.wrap(h));
            for (Tensor t : tensors.values()) {
                ch.write(ByteBuffer.wrap(t.bytes()));
            }
        }
    }

    /** Every tensor of a float32 file, converted to {@code dtype} (F32, F16 or BF16) with round-to-nearest-even. */
    private static Map<String, Tensor> convert(Path f32File, TensorDType dtype) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (SafetensorsFile st = SafetensorsFile.open(f32File)) {
            for (TensorInfo info : st.tensors().values()) {
                float[] v = st.readFloats(info.name());
                ByteBuffer b = ByteBuffer.allocate(v.length * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
                for (float x : v) {
                    switch (dtype) {
                        case F32 -> b.putFloat(x);
                        case F16 -> b.putShort(floatToHalf(x));
                        case BF16 -> b.putShort(floatToBfloat16(x));
                        default -> throw new IllegalArgumentException(dtype.name());
                    }
                }
                out.put(info.name(), new Tensor(dtype, info.shape(), b.array()));
            }
        }
        return out;
    }

    /** float32 to IEEE half, rounding to nearest even (subnormals, overflow to infinity, NaN kept). */
    static short floatToHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7fffff;
        if (exp == 0xff) {
            return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1f) {
            return (short) (sign | 0x7c00);
        }
        int m;
        int shift;
        int base;
        if (e <= 0) {
            // subnormal half: value / 2^-24 = (1.mant) * 2^(exp - 126)
            shift = 14 - e;
            if (shift > 24) {
                return (short) sign;
            }
            m = mant | 0x800000;
            base = 0;
        } else {
            shift = 13;
            m = mant;
            base = e << 10;
        }
        int result = base | (m >>> shift);
        int rem = m & ((1 << shift) - 1);
        int half = 1 << (shift - 1);
        if (rem > half || (rem == half && (result & 1) == 1)) {
            result++; // a carry into the exponent is the correct rounding, up to infinity
        }
        return (short) (sign | result);
    }

    /** float32 to bfloat16, rounding to nearest even. */
    static short floatToBfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x40);
        }
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    private static float bf16ToFloat(short s) {
        return Float.intBitsToFloat((s & 0xffff) << 16);
    }

    // ---------------------------------------------------------------------------------- the converters

    @Test
    void halfAndBfloat16ConvertersRoundToNearestEven() {
        for (int h = 0; h < 0x10000; h++) {
            float f = HalfFloats.halfToFloat((short) h);
            if (!Float.isNaN(f)) {
                assertEquals((short) h, floatToHalf(f), "half " + Integer.toHexString(h));
            }
        }
        assertEquals(0x3c00, floatToHalf(1f + 0x1p-11f));           // tie between 1 and 1+2^-10: to even
        assertEquals(0x3c02, floatToHalf(1f + 3 * 0x1p-11f));       // tie: to even, up
        assertEquals(0x3c01, floatToHalf(1f + 0x1p-11f + 0x1p-20f)); // above the tie
        assertEquals(0x0000, floatToHalf(0x1p-25f));                // tie with zero: to even
        assertEquals(0x0001, floatToHalf(0x1p-25f + 0x1p-40f));
        assertEquals(0x7c00, floatToHalf(65520f));                  // rounds past the largest half
        assertEquals(0x7bff, floatToHalf(65519f));
        assertEquals(1f, bf16ToFloat(floatToBfloat16(1f + 0x1p-8f)));
        assertEquals(1f + 0x1p-6f, bf16ToFloat(floatToBfloat16(1f + 3 * 0x1p-8f)));
        assertEquals(-2.5f, bf16ToFloat(floatToBfloat16(-2.5f)));
    }

    // ---------------------------------------------------------------------------------- fp16 / bf16

    @Test
    void float16VariantLoadsWithAndWithoutAskingForIt() throws IOException {
        Path folder = folder("fp16-only");
        Path fp16 = folder.resolve(UNET + ".fp16.safetensors");
        write(fp16, convert(tinyUNetWeights, TensorDType.F16));
        Files.delete(folder.resolve(UNET + ".safetensors"));

        float[] asked = unetOutput(folder, "fp16");
        double err = Conformance.assertClose("float16 unet weights", golden.readFloats("output.sample"), asked, FP16_TOLERANCE);
        assertTrue(err > 0, "float16 rounding should change the output a little");
        float[] fallback = unetOutput(folder, null);
        assertArrayEquals(asked, fallback, "without a variant the .fp16 file is the fallback");

        // LibTorch's float16 -> float32 conversion is exact: the loaded weights are the file's values
        try (StableDiffusion sd = StableDiffusion.builder().setModelFolder(folder).optVariant("fp16").build();
                SafetensorsFile st = SafetensorsFile.open(fp16)) {
            for (String name : List.of("conv_in.weight", "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight")) {
                Weight w = sd.unet().namedParameters().get(name);
                assertArrayEquals(st.readFloats(name), w.value().toFloatArray(), name);
                assertEquals(ai.djl.ndarray.types.DataType.FLOAT32, w.value().getDataType());
            }
        }
    }

    @Test
    void variantIsPreferredOnlyWhenAsked() throws IOException {
        Path folder = folder("fp16-and-plain");
        write(folder.resolve(UNET + ".fp16.safetensors"), convert(tinyUNetWeights, TensorDType.F16));
        float[] plain = unetOutput(folder, null);
        float[] fp16 = unetOutput(folder, "fp16");
        assertArrayEquals(reference, plain, "no variant asked: the plain file");
        assertFalse(Arrays.equals(reference, fp16), "fp16 asked: the .fp16 file");
        // a variant that is not there falls back to the plain file
        assertArrayEquals(reference, unetOutput(folder, "ema"));
    }

    @Test
    void bfloat16WeightsLoad() throws IOException {
        Path folder = folder("bf16");
        write(folder.resolve(UNET + ".bf16.safetensors"), convert(tinyUNetWeights, TensorDType.BF16));
        Files.delete(folder.resolve(UNET + ".safetensors"));
        float[] out = unetOutput(folder, "bf16");
        double err = Conformance.assertClose("bfloat16 unet weights", golden.readFloats("output.sample"), out, BF16_TOLERANCE);
        assertTrue(err > 0);
        assertArrayEquals(out, unetOutput(folder, null), "without a variant the .bf16 file is the fallback");
        // the widening to float32 is exact, negative values and every tensor rank included
        try (StableDiffusion sd = StableDiffusion.builder().setModelFolder(folder).build();
                SafetensorsFile st = SafetensorsFile.open(folder.resolve(UNET + ".bf16.safetensors"))) {
            for (Map.Entry<String, Weight> e : sd.unet().namedParameters().entrySet()) {
                assertArrayEquals(st.readFloats(e.getKey()), e.getValue().value().toFloatArray(), e.getKey());
            }
        }
    }

    @Test
    void float16WeightsUnderThePlainName() throws IOException {
        // some single-file conversions keep the plain name for half precision weights
        Path folder = folder("fp16-plain-name");
        Path plain = folder.resolve(UNET + ".safetensors");
        write(plain, convert(tinyUNetWeights, TensorDType.F16));
        Conformance.assertClose("float16 unet weights, plain name", golden.readFloats("output.sample"), unetOutput(folder, null),
                FP16_TOLERANCE);
    }

    // ---------------------------------------------------------------------------------- shards

    /** Splits the tensors in two shard files and writes the index under {@code indexName}. */
    private static void shard(Path dir, Map<String, Tensor> tensors, String shardPrefix, String indexName) throws IOException {
        List<String> names = new ArrayList<>(tensors.keySet());
        int cut = names.size() / 2;
        String[] files = {shardPrefix + "-00001-of-00002.safetensors", shardPrefix + "-00002-of-00002.safetensors"};
        Map<String, Tensor> first = new LinkedHashMap<>();
        Map<String, Tensor> second = new LinkedHashMap<>();
        JsonObject weightMap = new JsonObject();
        long total = 0;
        for (int i = 0; i < names.size(); i++) {
            Tensor t = tensors.get(names.get(i));
            (i < cut ? first : second).put(names.get(i), t);
            weightMap.addProperty(names.get(i), files[i < cut ? 0 : 1]);
            total += t.bytes().length;
        }
        write(dir.resolve(files[0]), first);
        write(dir.resolve(files[1]), second);
        JsonObject meta = new JsonObject();
        meta.addProperty("total_size", total);
        JsonObject index = new JsonObject();
        index.add("metadata", meta);
        index.add("weight_map", weightMap);
        Files.writeString(dir.resolve(indexName), index.toString());
    }

    @Test
    void shardedCheckpointLoadsIdenticallyToTheSingleFile() throws IOException {
        Path folder = folder("sharded");
        Files.delete(folder.resolve(UNET + ".safetensors"));
        shard(folder.resolve("unet"), convert(tinyUNetWeights, TensorDType.F32), "diffusion_pytorch_model",
                "diffusion_pytorch_model.safetensors.index.json");
        assertArrayEquals(reference, unetOutput(folder, null));
    }

    @Test
    void shardedFloat16VariantUsesDiffusersIndexName() throws IOException {
        // diffusers names a variant's index diffusion_pytorch_model.safetensors.index.fp16.json
        Path single = folder("fp16-single");
        write(single.resolve(UNET + ".fp16.safetensors"), convert(tinyUNetWeights, TensorDType.F16));
        float[] expected = unetOutput(single, "fp16");

        Path folder = folder("fp16-sharded");
        Files.delete(folder.resolve(UNET + ".safetensors"));
        shard(folder.resolve("unet"), convert(tinyUNetWeights, TensorDType.F16), "diffusion_pytorch_model.fp16",
                "diffusion_pytorch_model.safetensors.index.fp16.json");
        assertArrayEquals(expected, unetOutput(folder, "fp16"));
        assertArrayEquals(expected, unetOutput(folder, null));
    }

    @Test
    void missingShardIsNamed() throws IOException {
        Path folder = folder("sharded-missing");
        Files.delete(folder.resolve(UNET + ".safetensors"));
        shard(folder.resolve("unet"), convert(tinyUNetWeights, TensorDType.F32), "diffusion_pytorch_model",
                "diffusion_pytorch_model.safetensors.index.json");
        Files.delete(folder.resolve("unet/diffusion_pytorch_model-00002-of-00002.safetensors"));
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> StableDiffusion.builder().setModelFolder(folder).build().close());
        assertTrue(e.getMessage().contains("diffusion_pytorch_model.safetensors.index.json")
                && e.getMessage().contains("'diffusion_pytorch_model-00002-of-00002.safetensors' is missing"), e.getMessage());
    }

    // ---------------------------------------------------------------------------------- real-size configs

    private static UNet2DConditionModel realUNet(String arch) {
        Path config = Conformance.testdata().resolve("architectures").resolve(arch).resolve("unet/config.json");
        return new UNet2DConditionModel(UNetConfig.load(config));
    }

    @Test
    void sd15UNetHasDiffusersParameterCount() {
        UNet2DConditionModel unet = realUNet("sd15");
        assertEquals(859_520_964L, unet.parameterCount());
        assertEquals(new Shape(320, 320, 1, 1), unet.namedParameters().get("down_blocks.0.attentions.0.proj_in.weight").shape());
        assertEquals(16, unet.crossAttentionLayers().size());
        for (CrossAttentionLayer layer : unet.crossAttentionLayers()) {
            assertEquals(8, layer.heads(), layer.name());
        }
        assertFalse(unet.namedParameters().values().iterator().next().isInitialized(), "built without weights");
    }

    @Test
    void sd21UNetHasDiffusersParameterCountLinearProjectionsAndPerBlockHeads() {
        UNet2DConditionModel unet = realUNet("sd21");
        assertEquals(865_910_724L, unet.parameterCount());
        Map<String, Weight> p = unet.namedParameters();
        assertEquals(new Shape(320, 320), p.get("down_blocks.0.attentions.0.proj_in.weight").shape());
        assertEquals(new Shape(320, 320), p.get("down_blocks.0.attentions.0.proj_out.weight").shape());
        assertEquals(new Shape(1280, 1280), p.get("mid_block.attentions.0.proj_in.weight").shape());
        assertEquals(new Shape(640, 1024), p.get("down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight").shape());
        assertArrayEquals(new int[] {5, 10, 20, 20}, unet.config().attentionHeads());
        assertTrue(unet.config().upcastAttention());
        Map<String, Integer> expectedHeads = Map.of("down_blocks.0.", 5, "down_blocks.1.", 10, "down_blocks.2.", 20,
                "mid_block.", 20, "up_blocks.1.", 20, "up_blocks.2.", 10, "up_blocks.3.", 5);
        assertEquals(16, unet.crossAttentionLayers().size());
        for (CrossAttentionLayer layer : unet.crossAttentionLayers()) {
            int heads = expectedHeads.entrySet().stream().filter(e -> layer.name().startsWith(e.getKey())).findFirst()
                    .orElseThrow(() -> new AssertionError("unexpected layer " + layer.name())).getValue();
            assertEquals(heads, layer.heads(), layer.name()); // 64-wide heads everywhere
        }
    }

    /** The tiny UNet config with SD 2.x options: linear projections, per-block heads, upcast attention. */
    private static UNetConfig sd2StyleTinyConfig() throws IOException {
        Path file = Conformance.dir("unet-sd1-tiny").resolve("unet/config.json");
        String text = Files.readString(file);
        String edited = text.replace("\"use_linear_projection\": false", "\"use_linear_projection\": true")
                .replace("\"attention_head_dim\": 4", "\"attention_head_dim\": [2, 4, 4]")
                .replace("\"upcast_attention\": false", "\"upcast_attention\": true");
        UNetConfig config = UNetConfig.from(ConfigJson.parse(file, edited));
        assertTrue(config.useLinearProjection() && config.upcastAttention());
        assertArrayEquals(new int[] {2, 4, 4}, config.attentionHeads());
        return config;
    }

    private static float[] randomUNetOutput(UNetConfig config, long seed) {
        try (NDManager manager = NDManager.newBaseManager()) {
            UNet2DConditionModel unet = new UNet2DConditionModel(config);
            ModelWeights.randomize(unet, seed, manager);
            return unetOutput(unet, manager);
        }
    }

    @Test
    void sd2CodePathsRunWithSeedReproducibleRandomWeights() throws IOException {
        UNetConfig config = sd2StyleTinyConfig();
        UNet2DConditionModel unet = new UNet2DConditionModel(config);
        assertEquals(new Shape(16, 16), unet.namedParameters().get("down_blocks.0.attentions.0.proj_in.weight").shape());
        // down_blocks.0 (2 heads) x2, down_blocks.1 (4) x2, mid (4), up_blocks.1 (4) x3, up_blocks.2 (2) x3
        assertEquals(List.of(2, 2, 4, 4, 4, 4, 4, 4, 2, 2, 2),
                unet.crossAttentionLayers().stream().map(CrossAttentionLayer::heads).toList());
        float[] a = randomUNetOutput(config, 42);
        float[] b = randomUNetOutput(config, 42);
        float[] c = randomUNetOutput(config, 43);
        assertEquals(golden.info("output.sample").elementCount(), a.length, "output shape [2, 4, 16, 16]");
        for (float v : a) {
            assertTrue(Float.isFinite(v), "non-finite output");
        }
        assertArrayEquals(a, b, "same seed, same weights, same output");
        assertFalse(Arrays.equals(a, c), "another seed, other weights");
        double spread = Conformance.maxAbsDiff(a, c);
        assertTrue(spread > 1e-3, "seeds 42 and 43 give nearly the same output: " + spread);
    }
}
