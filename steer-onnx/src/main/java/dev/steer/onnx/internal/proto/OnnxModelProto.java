package dev.steer.onnx.internal.proto;

import dev.steer.onnx.ProtoFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * A read-only view of an ONNX {@code ModelProto} through a minimal protobuf wire-format reader: the
 * main graph's nodes (operator, name, domain, inputs, outputs), declared inputs and outputs, and its
 * initializers' names, shapes and external data locations. Weight payloads are never copied while
 * reading; {@link #rewrite} produces a new model whose bytes equal the original's except for the
 * fields a {@link GraphEdit} changes (the graph's length prefix, retyped inputs/outputs, appended
 * outputs): every other field, known or not, is copied byte for byte in its original order.
 *
 * <p>Field numbers follow {@code onnx.proto3}: ModelProto.graph = 7, GraphProto.node = 1,
 * initializer = 5, input = 11, output = 12; NodeProto input = 1, output = 2, name = 3, op_type = 4,
 * domain = 7; TensorProto dims = 1, data_type = 2, name = 8, external_data = 13, data_location = 14.
 */
public final class OnnxModelProto {
    private static final int MODEL_IR_VERSION = 1;
    private static final int MODEL_PRODUCER = 2;
    private static final int MODEL_GRAPH = 7;
    private static final int MODEL_OPSET_IMPORT = 8;
    private static final int GRAPH_NODE = 1;
    private static final int GRAPH_NAME = 2;
    private static final int GRAPH_INITIALIZER = 5;
    private static final int GRAPH_INPUT = 11;
    private static final int GRAPH_OUTPUT = 12;

    private final ByteBuffer buf;
    private final int size;
    private final long irVersion;
    private final String producer;
    private final Map<String, Long> opsets;
    private final int graphFieldStart;
    private final int graphFieldEnd;
    private final String graphName;
    private final List<OnnxNode> nodes;
    private final List<OnnxValueInfo> inputs;
    private final List<OnnxValueInfo> outputs;
    private final List<OnnxInitializer> initializers;

    private OnnxModelProto(ByteBuffer buf) {
        this.buf = buf;
        this.size = buf.capacity();
        long ir = 0;
        String prod = "";
        Map<String, Long> ops = new LinkedHashMap<>();
        int gStart = -1;
        int gEnd = -1;
        int gValueStart = -1;
        int gValueEnd = -1;
        ProtoReader m = new ProtoReader(buf, 0, size);
        while (m.next()) {
            switch (m.number()) {
                case MODEL_IR_VERSION -> ir = m.varint();
                case MODEL_PRODUCER -> prod = m.wireType() == ProtoReader.LEN ? m.string() : prod;
                case MODEL_OPSET_IMPORT -> {
                    ProtoReader o = m.message();
                    String domain = "";
                    long version = 0;
                    while (o.next()) {
                        if (o.number() == 1 && o.wireType() == ProtoReader.LEN) {
                            domain = o.string();
                        } else if (o.number() == 2) {
                            version = o.varint();
                        }
                    }
                    ops.put(domain, version);
                }
                case MODEL_GRAPH -> {
                    if (m.wireType() != ProtoReader.LEN) {
                        throw new ProtoFormatException(m.fieldStart(), "ModelProto.graph is not a message");
                    }
                    if (gStart >= 0) {
                        throw new ProtoFormatException(m.fieldStart(), "the model has more than one graph field (split graphs are not supported)");
                    }
                    gStart = m.fieldStart();
                    gEnd = m.fieldEnd();
                    gValueStart = m.valueStart();
                    gValueEnd = m.valueEnd();
                }
                default -> {
                    // other fields are not needed and are copied as they are
                }
            }
        }
        if (gStart < 0) {
            throw new ProtoFormatException(0, "no graph: not an ONNX model (ModelProto.graph missing)");
        }
        this.irVersion = ir;
        this.producer = prod;
        this.opsets = Collections.unmodifiableMap(ops);
        this.graphFieldStart = gStart;
        this.graphFieldEnd = gEnd;
        String name = "";
        List<OnnxNode> ns = new ArrayList<>();
        List<OnnxValueInfo> ins = new ArrayList<>();
        List<OnnxValueInfo> outs = new ArrayList<>();
        List<OnnxInitializer> inits = new ArrayList<>();
        ProtoReader g = new ProtoReader(buf, gValueStart, gValueEnd);
        while (g.next()) {
            if (g.wireType() != ProtoReader.LEN) {
                continue;
            }
            switch (g.number()) {
                case GRAPH_NODE -> ns.add(readNode(g.message(), ns.size()));
                case GRAPH_NAME -> name = g.string();
                case GRAPH_INITIALIZER -> inits.add(readInitializer(g.message()));
                case GRAPH_INPUT -> ins.add(readValueInfo(g.message()));
                case GRAPH_OUTPUT -> outs.add(readValueInfo(g.message()));
                default -> {
                }
            }
        }
        this.graphName = name;
        this.nodes = List.copyOf(ns);
        this.inputs = List.copyOf(ins);
        this.outputs = List.copyOf(outs);
        this.initializers = List.copyOf(inits);
    }

    /**
     * Parses a model held in {@code buf} (its whole capacity).
     *
     * @throws ProtoFormatException if the bytes are not a well-formed ONNX model
     */
    public static OnnxModelProto parse(ByteBuffer buf) {
        return new OnnxModelProto(buf);
    }

    /**
     * Maps a {@code .onnx} file read-only and parses it.
     *
     * @throws IOException if the file cannot be read
     * @throws ProtoFormatException if it is not a well-formed ONNX model or is over 2 GB (protobuf's
     *     limit: larger models keep their weights in external data files)
     */
    public static OnnxModelProto read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long n = ch.size();
            if (n > Integer.MAX_VALUE) {
                throw new ProtoFormatException(0, "file is " + n + " bytes, over protobuf's 2 GB limit: a graph this large must keep its "
                        + "weights in external data files");
            }
            return new OnnxModelProto(ch.map(FileChannel.MapMode.READ_ONLY, 0, n));
        }
    }

    private static OnnxNode readNode(ProtoReader r, int index) {
        String name = "";
        String op = "";
        String domain = "";
        List<String> in = new ArrayList<>();
        List<String> out = new ArrayList<>();
        while (r.next()) {
            if (r.wireType() != ProtoReader.LEN) {
                continue;
            }
            switch (r.number()) {
                case 1 -> in.add(r.string());
                case 2 -> out.add(r.string());
                case 3 -> name = r.string();
                case 4 -> op = r.string();
                case 7 -> domain = r.string();
                default -> {
                }
            }
        }
        return new OnnxNode(index, name, op, domain, List.copyOf(in), List.copyOf(out));
    }

    private static OnnxInitializer readInitializer(ProtoReader r) {
        String name = "";
        int dataType = 0;
        List<Long> dims = new ArrayList<>();
        boolean external = false;
        String location = null;
        long offset = 0;
        long length = -1;
        while (r.next()) {
            switch (r.number()) {
                case 1 -> r.readInt64s(dims);
                case 2 -> dataType = (int) r.varint();
                case 8 -> name = r.string();
                case 14 -> external = r.varint() == 1;
                case 13 -> {
                    ProtoReader e = r.message();
                    String key = null;
                    String value = null;
                    while (e.next()) {
                        if (e.number() == 1) {
                            key = e.string();
                        } else if (e.number() == 2) {
                            value = e.string();
                        }
                    }
                    if ("location".equals(key)) {
                        location = value;
                    } else if ("offset".equals(key) && value != null) {
                        offset = parseLong(value, r);
                    } else if ("length".equals(key) && value != null) {
                        length = parseLong(value, r);
                    }
                }
                default -> {
                }
            }
        }
        long[] d = dims.stream().mapToLong(Long::longValue).toArray();
        return new OnnxInitializer(name, dataType, d, external ? (location == null ? "" : location) : null, offset, length);
    }

    private static long parseLong(String s, ProtoReader r) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new ProtoFormatException(r.fieldStart(), "external data offset/length '" + s + "' is not a number");
        }
    }

    private static OnnxValueInfo readValueInfo(ProtoReader r) {
        String name = "";
        int elem = 0;
        List<OnnxDim> dims = null;
        while (r.next()) {
            if (r.number() == 1 && r.wireType() == ProtoReader.LEN) {
                name = r.string();
            } else if (r.number() == 2 && r.wireType() == ProtoReader.LEN) {
                ProtoReader type = r.message();
                while (type.next()) {
                    if (type.number() != 1 || type.wireType() != ProtoReader.LEN) {
                        continue;
                    }
                    ProtoReader tensor = type.message();
                    while (tensor.next()) {
                        if (tensor.number() == 1) {
                            elem = (int) tensor.varint();
                        } else if (tensor.number() == 2 && tensor.wireType() == ProtoReader.LEN) {
                            dims = new ArrayList<>();
                            ProtoReader shape = tensor.message();
                            while (shape.next()) {
                                if (shape.number() != 1 || shape.wireType() != ProtoReader.LEN) {
                                    continue;
                                }
                                ProtoReader dim = shape.message();
                                long value = -1;
                                String param = null;
                                while (dim.next()) {
                                    if (dim.number() == 1) {
                                        value = dim.varint();
                                    } else if (dim.number() == 2 && dim.wireType() == ProtoReader.LEN) {
                                        param = dim.string();
                                    }
                                }
                                dims.add(new OnnxDim(value, param));
                            }
                        }
                    }
                }
            }
        }
        return new OnnxValueInfo(name, elem, dims);
    }

    /** Size of the serialized model in bytes. */
    public int size() {
        return size;
    }

    /** The IR version. */
    public long irVersion() {
        return irVersion;
    }

    /** The producer name (e.g. "pytorch"). */
    public String producer() {
        return producer;
    }

    /** Imported operator sets: domain ("" for the default) to version. */
    public Map<String, Long> opsets() {
        return opsets;
    }

    /** The main graph's name. */
    public String graphName() {
        return graphName;
    }

    /** The main graph's nodes, in graph order (topological). */
    public List<OnnxNode> nodes() {
        return nodes;
    }

    /** Declared graph inputs that are not initializers (old IR versions list weights as inputs too). */
    public List<OnnxValueInfo> inputs() {
        Set<String> weights = new HashSet<>();
        for (OnnxInitializer i : initializers) {
            weights.add(i.name());
        }
        return inputs.stream().filter(v -> !weights.contains(v.name())).toList();
    }

    /** Declared graph outputs. */
    public List<OnnxValueInfo> outputs() {
        return outputs;
    }

    /** The main graph's initializers (weights), payloads not read. */
    public List<OnnxInitializer> initializers() {
        return initializers;
    }

    /** The distinct external data files the initializers refer to, in first-use order. */
    public List<String> externalDataFiles() {
        Set<String> files = new java.util.LinkedHashSet<>();
        for (OnnxInitializer i : initializers) {
            if (i.isExternal()) {
                files.add(i.externalLocation());
            }
        }
        return List.copyOf(files);
    }

    /** Rewrites into a new direct buffer; see {@link #rewrite(GraphEdit, IntFunction)}. */
    public ByteBuffer rewrite(GraphEdit edit) {
        return rewrite(edit, ByteBuffer::allocateDirect);
    }

    /**
     * Serializes the model with {@code edit} applied: the main graph's retyped inputs and outputs are
     * re-encoded (name and new type, their other fields kept), the added nodes, inputs and outputs
     * appended after the graph's last field (protobuf keeps repeated fields in order, so
     * added nodes come after every existing node); all other bytes are copied unchanged.
     *
     * @param allocator gives a buffer of the requested capacity to write into (from position 0)
     * @return the buffer, flipped (position 0, limit = the new model's size)
     * @throws IllegalArgumentException if a retyped value is not a graph input or output, or the result exceeds 2 GB
     */
    public ByteBuffer rewrite(GraphEdit edit, IntFunction<ByteBuffer> allocator) {
        List<Object> chunks = new ArrayList<>();
        Set<String> retypedSeen = new HashSet<>();
        Map<String, OnnxValueInfo> retyped = edit.retyped();
        ProtoReader g = new ProtoReader(buf, graphValueStart(), graphValueEnd());
        while (g.next()) {
            if ((g.number() == GRAPH_INPUT || g.number() == GRAPH_OUTPUT) && g.wireType() == ProtoReader.LEN) {
                String name = valueName(g.message());
                OnnxValueInfo replacement = retyped.get(name);
                if (replacement != null) {
                    retypedSeen.add(name);
                    ProtoWriter value = new ProtoWriter();
                    ProtoReader v = g.message();
                    boolean typed = false;
                    while (v.next()) {
                        if (v.number() == 2) {
                            value.messageField(2, replacement.encodeType());
                            typed = true;
                        } else {
                            value.copyField(v);
                        }
                    }
                    if (!typed) {
                        value.messageField(2, replacement.encodeType());
                    }
                    chunks.add(new ProtoWriter().messageField(g.number(), value).toByteArray());
                    continue;
                }
            }
            addRegion(chunks, g.fieldStart(), g.fieldEnd());
        }
        if (!retypedSeen.containsAll(retyped.keySet())) {
            Set<String> missing = new java.util.TreeSet<>(retyped.keySet());
            missing.removeAll(retypedSeen);
            throw new IllegalArgumentException("not graph inputs or outputs: " + missing);
        }
        for (ProtoWriter node : edit.addedNodes()) {
            chunks.add(new ProtoWriter().messageField(GRAPH_NODE, node).toByteArray());
        }
        for (OnnxValueInfo in : edit.addedInputs()) {
            chunks.add(new ProtoWriter().messageField(GRAPH_INPUT, in.encode()).toByteArray());
        }
        for (OnnxValueInfo out : edit.addedOutputs()) {
            chunks.add(new ProtoWriter().messageField(GRAPH_OUTPUT, out.encode()).toByteArray());
        }
        long graphLength = 0;
        for (Object c : chunks) {
            graphLength += c instanceof int[] r ? r[1] - r[0] : ((byte[]) c).length;
        }
        byte[] graphKey = new ProtoWriter().key(MODEL_GRAPH, ProtoReader.LEN).varint(graphLength).toByteArray();
        long total = (long) graphFieldStart + graphKey.length + graphLength + (size - graphFieldEnd);
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("rewritten model would be " + total + " bytes, over protobuf's 2 GB limit");
        }
        ByteBuffer out = allocator.apply((int) total);
        out.put(buf.slice(0, graphFieldStart));
        out.put(graphKey);
        for (Object c : chunks) {
            if (c instanceof int[] r) {
                out.put(buf.slice(r[0], r[1] - r[0]));
            } else {
                out.put((byte[]) c);
            }
        }
        out.put(buf.slice(graphFieldEnd, size - graphFieldEnd));
        out.flip();
        return out;
    }

    private int graphValueStart() {
        ProtoReader m = new ProtoReader(buf, graphFieldStart, graphFieldEnd);
        m.next();
        return m.valueStart();
    }

    private int graphValueEnd() {
        return graphFieldEnd;
    }

    private static void addRegion(List<Object> chunks, int from, int to) {
        if (!chunks.isEmpty() && chunks.get(chunks.size() - 1) instanceof int[] last && last[1] == from) {
            last[1] = to;
        } else {
            chunks.add(new int[] {from, to});
        }
    }

    private static String valueName(ProtoReader v) {
        while (v.next()) {
            if (v.number() == 1 && v.wireType() == ProtoReader.LEN) {
                return v.string();
            }
        }
        return "";
    }
}
