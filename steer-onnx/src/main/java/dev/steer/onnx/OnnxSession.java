package dev.steer.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.steer.core.model.ModelConfigException;
import dev.steer.onnx.internal.proto.GraphEdit;
import dev.steer.onnx.internal.proto.OnnxElementType;
import dev.steer.onnx.internal.proto.OnnxInitializer;
import dev.steer.onnx.internal.proto.OnnxModelProto;
import dev.steer.onnx.internal.proto.OnnxValueInfo;
import dev.steer.onnx.ProtoFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One loaded ONNX graph: its ONNX Runtime session (and the options it was created with, both
 * owned and closed here), the graph's declared inputs and outputs as the file states them (before
 * any rewrite), and tensor conversions between Java arrays and ONNX Runtime values.
 *
 * <p>External data: a graph loaded unchanged is opened from its path, so ONNX Runtime resolves
 * external data files relative to it. A rewritten graph is handed to ONNX Runtime as bytes, with
 * the session option {@value #EXTERNAL_DATA_FOLDER} set to the graph's folder, so the same external
 * files are read from where they are; nothing is copied, linked or written next to them. Before
 * that, every external file the initializers name is checked (relative, inside the folder,
 * present, long enough) so a missing one is reported by name.
 */
final class OnnxSession implements AutoCloseable {
    /** ONNX Runtime's session config key for resolving external data of graphs loaded from memory. */
    static final String EXTERNAL_DATA_FOLDER = "session.model_external_initializers_file_folder_path";

    private final Path file;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final OrtSession.SessionOptions options;
    private final Map<String, OnnxValueInfo> declaredInputs;
    private final Map<String, OnnxValueInfo> declaredOutputs;

    private OnnxSession(Path file, OrtEnvironment env, OrtSession session, OrtSession.SessionOptions options, OnnxModelProto model) {
        this.file = file;
        this.env = env;
        this.session = session;
        this.options = options;
        Map<String, OnnxValueInfo> in = new LinkedHashMap<>();
        for (OnnxValueInfo v : model.inputs()) {
            in.put(v.name(), v);
        }
        Map<String, OnnxValueInfo> out = new LinkedHashMap<>();
        for (OnnxValueInfo v : model.outputs()) {
            out.put(v.name(), v);
        }
        this.declaredInputs = in;
        this.declaredOutputs = out;
    }

    /**
     * Parses a graph file.
     *
     * @throws ModelConfigException naming the file if it is missing or not an ONNX model
     */
    static OnnxModelProto parse(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new ModelConfigException(file, "missing " + what + " graph (an Optimum ONNX export has text_encoder/model.onnx, "
                    + "unet/model.onnx, vae_decoder/model.onnx and vae_encoder/model.onnx)");
        }
        try {
            return OnnxModelProto.read(file);
        } catch (ProtoFormatException e) {
            throw new ModelConfigException(file, "not a valid ONNX model: " + e.getMessage());
        } catch (IOException e) {
            throw new ModelConfigException(file, "cannot read: " + e.getMessage());
        }
    }

    /**
     * Creates the session for a parsed graph, rewritten by {@code edit} when it is not null or empty.
     *
     * @throws ModelConfigException naming the file when external data is missing or ONNX Runtime refuses the graph
     */
    static OnnxSession open(Path file, OnnxModelProto model, GraphEdit edit, SessionSettings settings) {
        Path dir = file.toAbsolutePath().normalize().getParent();
        checkExternalData(file, dir, model);
        OrtEnvironment env = OrtRuntime.environment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            settings.apply(options);
            OrtSession session;
            if (edit == null || edit.isEmpty()) {
                session = env.createSession(file.toString(), options);
            } else {
                if (!model.externalDataFiles().isEmpty()) {
                    options.addConfigEntry(EXTERNAL_DATA_FOLDER, dir.toString());
                }
                ByteBuffer bytes = model.rewrite(edit, ModelBuffers::allocate);
                session = env.createSession(bytes, options);
            }
            return new OnnxSession(file, env, session, options, model);
        } catch (OrtException | RuntimeException e) {
            options.close();
            if (e instanceof ModelConfigException mce) {
                throw mce;
            }
            throw new ModelConfigException(file, "ONNX Runtime cannot load it: " + e.getMessage());
        }
    }

    /**
     * Creates a session for a graph generated in memory (no external data).
     *
     * @param source what the graph was made from, named in messages
     * @throws ModelConfigException naming the source when ONNX Runtime refuses the graph
     */
    static OnnxSession openGenerated(Path source, byte[] bytes, SessionSettings settings) {
        OnnxModelProto model = OnnxModelProto.parse(ByteBuffer.wrap(bytes));
        OrtEnvironment env = OrtRuntime.environment();
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            settings.apply(options);
            return new OnnxSession(source, env, env.createSession(bytes, options), options, model);
        } catch (OrtException | RuntimeException e) {
            options.close();
            throw new ModelConfigException(source, "ONNX Runtime cannot load the graph generated from it: " + e.getMessage());
        }
    }

    private static void checkExternalData(Path file, Path dir, OnnxModelProto model) {
        Map<String, Long> needed = new LinkedHashMap<>();
        Map<String, String> firstTensor = new LinkedHashMap<>();
        for (OnnxInitializer init : model.initializers()) {
            if (!init.isExternal()) {
                continue;
            }
            String loc = init.externalLocation();
            long end = init.externalLength() < 0 ? 0 : init.externalOffset() + init.externalLength();
            needed.merge(loc, end, Math::max);
            firstTensor.putIfAbsent(loc, init.name());
        }
        for (Map.Entry<String, Long> e : needed.entrySet()) {
            String loc = e.getKey();
            Path p;
            try {
                p = dir.resolve(loc).normalize();
            } catch (RuntimeException ex) {
                throw new ModelConfigException(file, "external data location '" + loc + "' is not a valid path");
            }
            if (loc.isEmpty() || Path.of(loc).isAbsolute() || !p.startsWith(dir)) {
                throw new ModelConfigException(file, "external data location '" + loc + "' (tensor '" + firstTensor.get(loc)
                        + "') must be a relative path inside " + dir);
            }
            if (!Files.isRegularFile(p)) {
                throw new ModelConfigException(p, "missing external data file: " + file.getFileName() + " keeps tensor '"
                        + firstTensor.get(loc) + "' (and maybe others) there; copy it next to the graph");
            }
            try {
                long size = Files.size(p);
                if (size < e.getValue()) {
                    throw new ModelConfigException(p, "external data file is " + size + " bytes but " + file.getFileName()
                            + " reads up to byte " + e.getValue() + " (truncated download?)");
                }
            } catch (IOException ex) {
                throw new ModelConfigException(p, "cannot read external data file: " + ex.getMessage());
            }
        }
    }

    /** The graph file. */
    Path file() {
        return file;
    }

    /** The environment. */
    OrtEnvironment env() {
        return env;
    }

    /** Inputs as the file declares them. */
    Map<String, OnnxValueInfo> declaredInputs() {
        return declaredInputs;
    }

    /** Outputs as the file declares them (before any added outputs). */
    Map<String, OnnxValueInfo> declaredOutputs() {
        return declaredOutputs;
    }

    /** The session's input names. */
    Set<String> inputNames() {
        return session.getInputNames();
    }

    /** The session's outputs as ONNX Runtime sees them. */
    Map<String, NodeInfo> outputInfo() {
        try {
            return session.getOutputInfo();
        } catch (OrtException e) {
            throw new OnnxExecutionException(file, "cannot read output info: " + e.getMessage(), e);
        }
    }

    /** The element type ONNX Runtime expects for an input. */
    int inputElementType(String name) {
        OnnxValueInfo declared = declaredInputs.get(name);
        if (declared != null && declared.elemType() != 0) {
            return declared.elemType();
        }
        try {
            NodeInfo info = session.getInputInfo().get(name);
            if (info != null && info.getInfo() instanceof TensorInfo t) {
                return t.onnxType.value;
            }
        } catch (OrtException e) {
            // fall through
        }
        return OnnxElementType.FLOAT;
    }

    /**
     * Runs the graph, fetching only {@code outputs}; the caller closes the result (which closes its values).
     *
     * @throws OnnxExecutionException naming the file and the input shapes
     */
    OrtSession.Result run(Map<String, OnnxTensor> inputs, Set<String> outputs) {
        try {
            return session.run(inputs, outputs);
        } catch (OrtException e) {
            StringBuilder shapes = new StringBuilder();
            for (Map.Entry<String, OnnxTensor> in : inputs.entrySet()) {
                shapes.append(shapes.length() == 0 ? "" : ", ").append(in.getKey())
                        .append(Arrays.toString(in.getValue().getInfo().getShape()));
            }
            throw new OnnxExecutionException(file, "ONNX Runtime failed on inputs " + shapes + ": " + e.getMessage(), e);
        }
    }

    /** A tensor of {@code data} in the element type the input expects (float32, float16 or float64). */
    OnnxTensor floatInput(String name, float[] data, long[] shape) {
        int type = inputElementType(name);
        try {
            return switch (type) {
                case OnnxElementType.FLOAT -> OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape);
                case OnnxElementType.FLOAT16 -> OnnxTensor.createTensor(env, ShortBuffer.wrap(HalfPrecision.toHalf(data)), shape,
                        OnnxJavaType.FLOAT16);
                case OnnxElementType.DOUBLE -> {
                    double[] d = new double[data.length];
                    for (int i = 0; i < d.length; i++) {
                        d[i] = data[i];
                    }
                    yield OnnxTensor.createTensor(env, DoubleBuffer.wrap(d), shape);
                }
                case OnnxElementType.INT64 -> {
                    long[] l = new long[data.length];
                    for (int i = 0; i < l.length; i++) {
                        l[i] = (long) Math.rint(data[i]);
                    }
                    yield OnnxTensor.createTensor(env, LongBuffer.wrap(l), shape);
                }
                case OnnxElementType.INT32 -> {
                    int[] v = new int[data.length];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (int) Math.rint(data[i]);
                    }
                    yield OnnxTensor.createTensor(env, IntBuffer.wrap(v), shape);
                }
                default -> throw new ModelConfigException(file, "input '" + name + "' has element type " + OnnxElementType.name(type)
                        + "; expected float32, float16, float64, int32 or int64");
            };
        } catch (OrtException e) {
            throw new OnnxExecutionException(file, "cannot create input '" + name + "': " + e.getMessage(), e);
        }
    }

    /** A tensor of integer {@code data} in the element type the input expects (int64 or int32). */
    OnnxTensor intInput(String name, long[] data, long[] shape) {
        int type = inputElementType(name);
        try {
            if (type == OnnxElementType.INT32) {
                int[] v = new int[data.length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = Math.toIntExact(data[i]);
                }
                return OnnxTensor.createTensor(env, IntBuffer.wrap(v), shape);
            }
            if (type != OnnxElementType.INT64) {
                throw new ModelConfigException(file, "input '" + name + "' has element type " + OnnxElementType.name(type)
                        + "; expected int64 or int32");
            }
            return OnnxTensor.createTensor(env, LongBuffer.wrap(data.clone()), shape);
        } catch (OrtException e) {
            throw new OnnxExecutionException(file, "cannot create input '" + name + "': " + e.getMessage(), e);
        }
    }

    /** A 1-D int64 tensor for an input the library added to the graph (whose type it knows). */
    OnnxTensor int64Input(String name, long[] data) {
        try {
            return OnnxTensor.createTensor(env, LongBuffer.wrap(data.clone()), new long[] {data.length});
        } catch (OrtException e) {
            throw new OnnxExecutionException(file, "cannot create input '" + name + "': " + e.getMessage(), e);
        }
    }

    /** The values of an output as float32 (converting float16 and float64). */
    FloatTensor toFloatTensor(String name, OnnxValue value) {
        if (!(value instanceof OnnxTensor t)) {
            throw new OnnxExecutionException(file, "output '" + name + "' is not a tensor", null);
        }
        TensorInfo info = t.getInfo();
        long[] shape = info.getShape();
        float[] data;
        switch (info.type) {
            case FLOAT -> {
                FloatBuffer b = t.getFloatBuffer();
                data = new float[b.remaining()];
                b.get(data);
            }
            case FLOAT16 -> data = HalfPrecision.toFloat(t.getShortBuffer());
            case DOUBLE -> {
                DoubleBuffer b = t.getDoubleBuffer();
                data = new float[b.remaining()];
                for (int i = 0; i < data.length; i++) {
                    data[i] = (float) b.get(i);
                }
            }
            default -> throw new OnnxExecutionException(file, "output '" + name + "' has type " + info.type + ", expected a float type", null);
        }
        return new FloatTensor(shape, data);
    }

    /** Reads one named output of a result. */
    FloatTensor output(OrtSession.Result result, String name) {
        OnnxValue v = result.get(name).orElseThrow(() -> new OnnxExecutionException(file, "no output '" + name + "'", null));
        return toFloatTensor(name, v);
    }

    /** Closes a list of input tensors. */
    static void closeAll(List<OnnxTensor> tensors) {
        for (OnnxTensor t : tensors) {
            if (t != null) {
                t.close();
            }
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new OnnxExecutionException(file, "cannot close the session: " + e.getMessage(), e);
        } finally {
            options.close();
        }
    }
}
