package dev.steer.pytorch.internal.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import dev.steer.core.model.FluxTransformerConfig;
import dev.steer.core.testing.Conformance;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.internal.weights.TensorInfo;
import dev.steer.pytorch.flux.FluxTransformer2DModel;
import dev.steer.pytorch.nn.Weight;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.steer.pytorch.weights.WeightStorage;

/**
 * Weights kept as the mapped file in its own dtype give the same model as a float32 copy of the same
 * file: float32 used in place, float16 kept as float16, bfloat16 kept as its raw bits.
 */
class MappedWeightsTest {
    private static final Path DIR = Conformance.dir("flux-transformer-tiny").resolve("transformer");

    private static float[] velocity(Path weights, WeightStorage storage, Map<String, DataType> keptAs) {
        try (NDManager manager = NDManager.newBaseManager(); SafetensorsFile g = Conformance.golden("flux-transformer-tiny")) {
            FluxTransformer2DModel model = new FluxTransformer2DModel(FluxTransformerConfig.load(DIR.resolve("config.json")));
            ModelWeights.load(model, List.of(weights), manager, Map.of(), storage);
            for (Map.Entry<String, Weight> e : model.namedParameters().entrySet()) {
                Weight w = e.getValue();
                keptAs.put(e.getKey(), w.isBfloat16Bits() ? DataType.BFLOAT16 : w.value().getDataType());
            }
            NDArray out = model.forward(manager.create(g.readFloats("input.hidden_states"), new Shape(1, 64, 64)),
                    manager.create(g.readFloats("input.encoder_hidden_states"), new Shape(1, 12, 32)),
                    manager.create(g.readFloats("input.pooled_projections"), new Shape(1, 24)), g.readFloats("input.timestep"),
                    g.readFloats("input.guidance"), 8, 8, null);
            return out.toFloatArray();
        }
    }

    @Test
    void float32FilesAreUsedInPlaceWithTheSameResult() {
        Path file = DIR.resolve("diffusion_pytorch_model.safetensors");
        Map<String, DataType> kept = new java.util.HashMap<>();
        assertArrayEquals(velocity(file, WeightStorage.FLOAT32, kept), velocity(file, WeightStorage.MAPPED, kept), 0f);
        assertTrue(kept.values().stream().allMatch(t -> t == DataType.FLOAT32));
    }

    @Test
    void halfPrecisionFilesKeepTheirDtypeAndComputeAsTheFloat32Copy(@TempDir Path tmp) throws IOException {
        for (String dtype : List.of("F16", "BF16")) {
            Path file = tmp.resolve(dtype + ".safetensors");
            rewrite(DIR.resolve("diffusion_pytorch_model.safetensors"), file, dtype);
            Map<String, DataType> copied = new java.util.HashMap<>();
            Map<String, DataType> mapped = new java.util.HashMap<>();
            float[] reference = velocity(file, WeightStorage.FLOAT32, copied);
            float[] inPlace = velocity(file, WeightStorage.MAPPED, mapped);
            assertArrayEquals(reference, inPlace, 0f, dtype);
            assertTrue(copied.values().stream().allMatch(t -> t == DataType.FLOAT32), dtype);
            DataType expected = dtype.equals("F16") ? DataType.FLOAT16 : DataType.BFLOAT16;
            assertTrue(mapped.values().stream().allMatch(t -> t == expected), dtype + " kept as " + mapped.values());
            // rounding to 16 bits moved the output, but not far: the widening is the right one
            float[] exact = velocity(DIR.resolve("diffusion_pytorch_model.safetensors"), WeightStorage.FLOAT32, copied);
            assertTrue(Conformance.maxAbsDiff(exact, inPlace) < 0.05, dtype + " off by " + Conformance.maxAbsDiff(exact, inPlace));
        }
    }

    @Test
    void mappedBfloat16WeightsRefuseTraining(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("bf16.safetensors");
        rewrite(DIR.resolve("diffusion_pytorch_model.safetensors"), file, "BF16");
        try (NDManager manager = NDManager.newBaseManager()) {
            FluxTransformer2DModel model = new FluxTransformer2DModel(FluxTransformerConfig.load(DIR.resolve("config.json")));
            ModelWeights.load(model, List.of(file), manager, Map.of(), WeightStorage.MAPPED);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.setRequiresGradient(true));
            assertTrue(e.getMessage().contains("FLOAT32"), e.getMessage());
            model.setRequiresGradient(false);
            Weight w = model.namedParameters().get("proj_out.weight");
            assertTrue(w.isBfloat16Bits());
            assertThrows(IllegalStateException.class, w::value);
            assertEquals(DataType.FLOAT32, w.valueFor(manager.zeros(new Shape(1))).getDataType());
        }
    }

    @Test
    void aMappedHalfPrecisionModelHoldsNoConversionsAfterItsLayersRan(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("bf16.safetensors");
        rewrite(DIR.resolve("diffusion_pytorch_model.safetensors"), file, "BF16");
        try (NDManager manager = NDManager.newBaseManager(); SafetensorsFile g = Conformance.golden("flux-transformer-tiny")) {
            FluxTransformer2DModel model = new FluxTransformer2DModel(FluxTransformerConfig.load(DIR.resolve("config.json")));
            ModelWeights.load(model, List.of(file), manager, Map.of(), WeightStorage.MAPPED);
            try (NDManager call = manager.newSubManager()) {
                model.forward(call.create(g.readFloats("input.hidden_states"), new Shape(1, 64, 64)),
                        call.create(g.readFloats("input.encoder_hidden_states"), new Shape(1, 12, 32)),
                        call.create(g.readFloats("input.pooled_projections"), new Shape(1, 24)), g.readFloats("input.timestep"),
                        g.readFloats("input.guidance"), 8, 8, null);
                // each layer's float32 widening is released right after its op, not kept until the call ends
                long float32Weights = ((ai.djl.ndarray.BaseNDManager) call).getManagedArrays().stream()
                        .filter(a -> a.getDataType() == DataType.FLOAT32)
                        .filter(a -> model.namedParameters().values().stream().anyMatch(w -> w.shape().equals(a.getShape())
                                && a.getShape().dimension() == 2 && a.getShape().get(0) > 64))
                        .count();
                assertEquals(0, float32Weights, "widened weights left in the call's scope");
            }
        }
    }

    /** Writes every tensor of {@code src} as F16 or BF16 (round to nearest even), as a checkpoint saved in half precision is. */
    static void rewrite(Path src, Path dst, String dtype) throws IOException {
        try (SafetensorsFile st = SafetensorsFile.open(src)) {
            JsonObject header = new JsonObject();
            java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
            for (Map.Entry<String, TensorInfo> e : st.tensors().entrySet()) {
                float[] v = st.readFloats(e.getKey());
                ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
                for (float f : v) {
                    b.putShort(dtype.equals("F16") ? dev.steer.core.internal.weights.HalfFloats.floatToHalf(f) : toBfloat16(f));
                }
                JsonObject t = new JsonObject();
                t.addProperty("dtype", dtype);
                com.google.gson.JsonArray shape = new com.google.gson.JsonArray();
                for (long d : e.getValue().shape()) {
                    shape.add(d);
                }
                t.add("shape", shape);
                com.google.gson.JsonArray offsets = new com.google.gson.JsonArray();
                offsets.add(data.size());
                offsets.add(data.size() + v.length * 2L);
                t.add("data_offsets", offsets);
                header.add(e.getKey(), t);
                data.write(b.array());
            }
            byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length);
            try (var out = Files.newOutputStream(dst)) {
                out.write(len.array());
                out.write(h);
                data.writeTo(out);
            }
        }
    }

    private static short toBfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return (short) (rounded >>> 16);
    }
}
