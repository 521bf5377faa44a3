package dev.steer.pytorch.internal.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.steer.pytorch.internal.nn.Bfloat16;
import dev.steer.pytorch.nn.Weight;
import dev.steer.core.internal.weights.SafetensorsFile;
import dev.steer.core.internal.weights.TensorDType;
import dev.steer.core.internal.weights.TensorInfo;
import dev.steer.core.weights.WeightsFormatException;
import dev.steer.pytorch.nn.Module;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.LongConsumer;
import dev.steer.pytorch.weights.WeightStorage;

/**
 * Puts values into a {@link Module}'s parameters: from safetensors files (memory-mapped tensor by
 * tensor, converted from float16/bfloat16 in LibTorch, never copied through the Java heap), or
 * seeded random values for real-size benchmark models built from a config alone.
 *
 * <p>Loading is strict: every parameter must be present with the shape the config implies, and a
 * tensor the module does not expect is an error (the config and the weights disagree), except
 * buffers that carry no weights ({@code position_ids}).
 */
public final class ModelWeights {
    private ModelWeights() {
    }

    /**
     * Loads every parameter of {@code module} from {@code files} into arrays owned by {@code manager}.
     *
     * @throws WeightsFormatException naming the file and the tensor on any mismatch
     */
    public static void load(Module module, List<Path> files, NDManager manager) {
        load(module, files, manager, Map.of());
    }

    /**
     * Like {@link #load(Module, List, NDManager)}, accepting tied copies: a tensor named as a key of
     * {@code tiedCopies} (T5's {@code encoder.embed_tokens.weight}, tied to {@code shared.weight})
     * may be present as long as its shape is that of the parameter it copies, and is then ignored;
     * the parameter itself is loaded from its own tensor.
     *
     * @param tiedCopies tensor name of a tied copy to the name of the parameter it duplicates
     * @throws WeightsFormatException naming the file and the tensor on any mismatch
     */
    public static void load(Module module, List<Path> files, NDManager manager, Map<String, String> tiedCopies) {
        load(module, files, manager, tiedCopies, WeightStorage.FLOAT32);
    }

    /**
     * Like {@link #load(Module, List, NDManager, Map)}, keeping the weights as {@code storage} says:
     * a float32 copy, or the mapped file in its own dtype.
     */
    public static void load(Module module, List<Path> files, NDManager manager, Map<String, String> tiedCopies, WeightStorage storage) {
        load(module, files, manager, tiedCopies, storage, bytes -> { });
    }

    /**
     * Like {@link #load(Module, List, NDManager, Map, WeightStorage)}, telling {@code loaded} the bytes of
     * each tensor once it is read (for a progress bar).
     */
    public static void load(Module module, List<Path> files, NDManager manager, Map<String, String> tiedCopies, WeightStorage storage,
            LongConsumer loaded) {
        Map<String, Weight> params = module.namedParameters();
        Map<String, SafetensorsFile> owner = new HashMap<>();
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            for (Path f : files) {
                SafetensorsFile st = SafetensorsFile.open(f);
                opened.add(st);
                for (String name : st.tensors().keySet()) {
                    owner.put(name, st);
                }
            }
            for (Map.Entry<String, String> tie : tiedCopies.entrySet()) {
                SafetensorsFile st = owner.remove(tie.getKey());
                Weight target = params.get(tie.getValue());
                if (st != null && target != null && !Arrays.equals(st.info(tie.getKey()).shape(), target.shape().getShape())) {
                    throw new WeightsFormatException(st.path(), "tensor '" + tie.getKey() + "' (tied to '" + tie.getValue()
                            + "') has shape " + Arrays.toString(st.info(tie.getKey()).shape()) + " but '" + tie.getValue()
                            + "' has " + target.shape());
                }
            }
            TreeSet<String> unexpected = new TreeSet<>();
            for (String name : owner.keySet()) {
                if (!params.containsKey(name) && !name.endsWith("position_ids")) {
                    unexpected.add(name);
                }
            }
            if (!unexpected.isEmpty()) {
                throw new WeightsFormatException(files.get(0), unexpected.size() + " tensors that the config does not describe, e.g. "
                        + unexpected.first() + ": the config and the weights belong to different models");
            }
            for (Map.Entry<String, Weight> e : params.entrySet()) {
                SafetensorsFile st = owner.get(e.getKey());
                if (st == null) {
                    throw new WeightsFormatException(files.get(0), "missing tensor '" + e.getKey() + "' that the config requires");
                }
                read(st, e.getKey(), e.getValue(), manager, storage);
                loaded.accept(st.info(e.getKey()).byteLength());
            }
        } finally {
            for (SafetensorsFile st : opened) {
                st.close();
            }
        }
    }

    private static void read(SafetensorsFile st, String name, Weight p, NDManager manager, WeightStorage storage) {
        TensorInfo info = st.info(name);
        Shape expected = p.shape();
        if (!Arrays.equals(info.shape(), expected.getShape())) {
            throw new WeightsFormatException(st.path(), "tensor '" + name + "' has shape " + Arrays.toString(info.shape())
                    + " but the config implies " + expected);
        }
        DataType dtype = switch (info.dtype()) {
            case F32 -> DataType.FLOAT32;
            case F16 -> DataType.FLOAT16;
            case BF16 -> DataType.BFLOAT16;
            case F64 -> DataType.FLOAT64;
            default -> throw new WeightsFormatException(st.path(), "tensor '" + name + "' has dtype " + info.dtype()
                    + "; weights must be F32, F16, BF16 or F64");
        };
        ByteBuffer mapped = st.map(name);
        boolean onCpu = manager.getDevice().equals(ai.djl.Device.cpu());
        if (dtype == DataType.BFLOAT16) {
            // no bfloat16 dtype in DJL 0.36's bridge: keep the raw bits (Bfloat16)
            try (NDManager cpu = manager.newSubManager(ai.djl.Device.cpu())) {
                NDArray bits = cpu.create(mapped, new Shape(expected.size(), 2), DataType.UINT8); // aliases the mapped file
                if (storage == WeightStorage.MAPPED) {
                    NDArray kept = onCpu ? bits : bits.toDevice(manager.getDevice(), true);
                    kept.attach(manager);
                    p.setBfloat16Bits(kept);
                } else {
                    NDArray widened = Bfloat16.widen(bits, expected, cpu);
                    NDArray owned = onCpu ? widened : widened.toDevice(manager.getDevice(), true);
                    owned.attach(manager);
                    p.set(owned);
                }
            }
            return;
        }
        try (NDManager tmp = manager.newSubManager(ai.djl.Device.cpu())) {
            NDArray aliased = tmp.create(mapped, expected, dtype); // aliases the read-only mapped file
            NDArray kept;
            if (storage == WeightStorage.MAPPED && dtype != DataType.FLOAT64) {
                kept = onCpu ? aliased : aliased.toDevice(manager.getDevice(), true);
            } else {
                // toType to the same dtype returns a view, not a copy: duplicate() is a real clone
                kept = dtype == DataType.FLOAT32 ? aliased.duplicate() : aliased.toType(DataType.FLOAT32, false);
                kept = onCpu ? kept : kept.toDevice(manager.getDevice(), true);
            }
            kept.attach(manager);
            p.set(kept);
        }
    }

    /**
     * Fills every parameter with seeded random values: weights uniform in +-1/sqrt(fan_in) (PyTorch's
     * default for linear and conv layers), norm scales 1, biases small. The value of a tensor depends
     * only on the seed and its name, not on the order of loading.
     */
    public static void randomize(Module module, long seed, NDManager manager) {
        randomize(module, seed, manager, bytes -> { });
    }

    /**
     * Like {@link #randomize(Module, long, NDManager)}, telling {@code filled} the float32 bytes of each
     * parameter once it is filled (for a progress bar).
     */
    public static void randomize(Module module, long seed, NDManager manager, LongConsumer filled) {
        for (Map.Entry<String, Weight> e : module.namedParameters().entrySet()) {
            Weight p = e.getValue();
            long[] shape = p.shape().getShape();
            int n = Math.toIntExact(p.shape().size());
            float[] values = new float[n];
            SplittableRandom rnd = new SplittableRandom(seed ^ (e.getKey().hashCode() * 0x9E3779B97F4A7C15L));
            String key = e.getKey();
            boolean norm = key.contains("norm") && shape.length == 1;
            if (norm && key.endsWith("weight")) {
                for (int i = 0; i < n; i++) {
                    values[i] = 1f + 0.1f * (float) (rnd.nextDouble() - 0.5);
                }
            } else {
                long fanIn = 1;
                for (int i = 1; i < shape.length; i++) {
                    fanIn *= shape[i];
                }
                if (shape.length == 1) {
                    fanIn = shape[0];
                }
                double bound = shape.length == 1 ? 0.02 : 1.0 / Math.sqrt(fanIn);
                for (int i = 0; i < n; i++) {
                    values[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
                }
            }
            setValue(p, manager.create(values, p.shape()));
            filled.accept((long) n * Float.BYTES);
        }
    }

    private static void setValue(Weight p, NDArray value) {
        p.set(value);
    }

    /**
     * Writes every parameter of {@code module} to a safetensors file under its checkpoint name, as
     * float32 or float16 ({@code dtype} F32 or F16), with optional metadata.
     */
    public static void save(Module module, Path file, TensorDType dtype, Map<String, String> metadata) {
        if (dtype != TensorDType.F32 && dtype != TensorDType.F16) {
            throw new IllegalArgumentException("weights are saved as F32 or F16, not " + dtype);
        }
        Map<String, dev.steer.core.internal.weights.TensorData> tensors = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, Weight> e : module.namedParameters().entrySet()) {
            long[] shape = e.getValue().shape().getShape();
            tensors.put(e.getKey(), new dev.steer.core.internal.weights.TensorData(dtype, shape,
                    dev.steer.core.internal.weights.TensorData.contiguousStrides(shape), 0, e.getValue().value().toFloatArray(), null));
        }
        dev.steer.core.internal.weights.SafetensorsWriter.write(file, tensors, metadata);
    }

    /** Maps a safetensors dtype to DJL's, for callers that create arrays themselves. */
    public static DataType toDataType(TensorDType dtype) {
        return switch (dtype) {
            case F32 -> DataType.FLOAT32;
            case F16 -> DataType.FLOAT16;
            case BF16 -> DataType.BFLOAT16;
            case F64 -> DataType.FLOAT64;
            case I64 -> DataType.INT64;
            case I32 -> DataType.INT32;
            case I8 -> DataType.INT8;
            case U8 -> DataType.UINT8;
            case BOOL -> DataType.BOOLEAN;
            case I16 -> throw new IllegalArgumentException("int16 tensors are not supported");
        };
    }
}
