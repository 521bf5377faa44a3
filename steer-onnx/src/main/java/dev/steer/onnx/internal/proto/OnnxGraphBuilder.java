package dev.steer.onnx.internal.proto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes a new ONNX model (a {@code ModelProto} with one graph of standard-domain operators) from
 * Java: graph inputs and outputs, float32 and int64 initializers (inline {@code raw_data},
 * little-endian) and nodes with int, float and ints attributes. Value names are checked to be
 * defined before use, so a mistake is reported here rather than as an ONNX Runtime load error.
 *
 * <p>Field numbers follow {@code onnx.proto3}: ModelProto ir_version 1, producer_name 2, graph 7,
 * opset_import 8; GraphProto node 1, name 2, initializer 5, input 11, output 12; NodeProto input 1,
 * output 2, name 3, op_type 4, attribute 5; AttributeProto name 1, f 2, i 3, floats 7, ints 8,
 * type 20; TensorProto dims 1, data_type 2, name 8, raw_data 9.
 *
 * <p>Everything is held in memory: meant for small graphs (a few tens of MB of weights at most),
 * such as the relation classifier's.
 */
public final class OnnxGraphBuilder {
    /** ONNX IR version written (supported by ONNX Runtime 1.14 and later). */
    public static final int IR_VERSION = 8;

    private static final int ATTR_FLOAT = 1;
    private static final int ATTR_INT = 2;
    private static final int ATTR_INTS = 7;

    private final String graphName;
    private final List<ProtoWriter> nodes = new ArrayList<>();
    private final List<ProtoWriter> initializers = new ArrayList<>();
    private final List<ProtoWriter> inputs = new ArrayList<>();
    private final List<ProtoWriter> outputs = new ArrayList<>();
    private final Set<String> defined = new LinkedHashSet<>();
    private int counter;

    /** A builder of a graph named {@code graphName}. */
    public OnnxGraphBuilder(String graphName) {
        this.graphName = graphName;
    }

    /**
     * One node attribute.
     *
     * @param name the attribute name
     * @param type 1 float, 2 int, 7 ints
     * @param f the float value
     * @param i the int value
     * @param ints the ints value
     */
    public record Attribute(String name, int type, float f, long i, long[] ints) {
        /** An int attribute. */
        public static Attribute of(String name, long value) {
            return new Attribute(name, ATTR_INT, 0, value, null);
        }

        /** A float attribute. */
        public static Attribute of(String name, float value) {
            return new Attribute(name, ATTR_FLOAT, value, 0, null);
        }

        /** An ints attribute. */
        public static Attribute ints(String name, long... values) {
            return new Attribute(name, ATTR_INTS, 0, 0, values.clone());
        }

        ProtoWriter encode() {
            ProtoWriter w = new ProtoWriter().stringField(1, name);
            switch (type) {
                case ATTR_FLOAT -> w.key(2, ProtoReader.I32).raw(floatBytes(f));
                case ATTR_INT -> w.varintField(3, i);
                case ATTR_INTS -> {
                    for (long v : ints) {
                        w.varintField(8, v);
                    }
                }
                default -> throw new IllegalStateException("attribute type " + type);
            }
            return w.varintField(20, type);
        }

        private static byte[] floatBytes(float v) {
            return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array();
        }
    }

    /** Declares a graph input; returns its name. */
    public String input(String name, int elemType, OnnxDim... dims) {
        define(name);
        inputs.add(new OnnxValueInfo(name, elemType, List.of(dims)).encode());
        return name;
    }

    /** Declares a graph output of an existing value. */
    public void output(String name, int elemType, OnnxDim... dims) {
        requireDefined(name);
        outputs.add(new OnnxValueInfo(name, elemType, List.of(dims)).encode());
    }

    /** A float32 initializer of the given shape; returns its name. */
    public String initializer(String name, float[] values, long... dims) {
        checkCount(name, values.length, dims);
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return addInitializer(name, OnnxElementType.FLOAT, b.array(), dims);
    }

    /** An int64 initializer of the given shape; returns its name. */
    public String initializer(String name, long[] values, long... dims) {
        checkCount(name, values.length, dims);
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return addInitializer(name, OnnxElementType.INT64, b.array(), dims);
    }

    /** A 1-D int64 constant with a generated name (shapes, axes, indices). */
    public String longs(long... values) {
        return initializer(fresh("const"), values, values.length);
    }

    /** A float32 scalar constant with a generated name. */
    public String scalar(float value) {
        return initializer(fresh("const"), new float[] {value});
    }

    private static void checkCount(String name, int count, long[] dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        if (n != count) {
            throw new IllegalArgumentException("initializer '" + name + "' has " + count + " values for shape " + java.util.Arrays.toString(dims));
        }
    }

    private String addInitializer(String name, int type, byte[] raw, long[] dims) {
        define(name);
        ProtoWriter t = new ProtoWriter();
        for (long d : dims) {
            t.varintField(1, d);
        }
        t.varintField(2, type).stringField(8, name).bytesField(9, raw);
        initializers.add(t);
        return name;
    }

    /** A node with one output (named after the operator); returns the output's name. */
    public String node(String opType, List<String> in, Attribute... attributes) {
        return node(opType, 1, in, attributes)[0];
    }

    /** A node with one output named {@code outputName} (e.g. a graph output); returns that name. */
    public String namedNode(String opType, String outputName, List<String> in, Attribute... attributes) {
        return add(opType, fresh(opType), new String[] {outputName}, in, attributes)[0];
    }

    /** A node with {@code outputCount} outputs; returns their names. */
    public String[] node(String opType, int outputCount, List<String> in, Attribute... attributes) {
        String base = fresh(opType);
        String[] out = new String[outputCount];
        for (int k = 0; k < outputCount; k++) {
            out[k] = outputCount == 1 ? base : base + ":" + k;
        }
        return add(opType, base, out, in, attributes);
    }

    private String[] add(String opType, String base, String[] out, List<String> in, Attribute... attributes) {
        ProtoWriter n = new ProtoWriter();
        for (String i : in) {
            if (!i.isEmpty()) {
                requireDefined(i);
            }
            n.stringField(1, i);
        }
        for (int k = 0; k < out.length; k++) {
            define(out[k]);
            n.stringField(2, out[k]);
        }
        n.stringField(3, base).stringField(4, opType);
        for (Attribute a : attributes) {
            n.messageField(5, a.encode());
        }
        nodes.add(n);
        return out;
    }

    /** A fresh value name starting with {@code prefix}. */
    public String fresh(String prefix) {
        String name;
        do {
            name = prefix + "_" + counter++;
        } while (defined.contains(name));
        return name;
    }

    private void define(String name) {
        if (!defined.add(name)) {
            throw new IllegalArgumentException("value '" + name + "' is defined twice");
        }
    }

    private void requireDefined(String name) {
        if (!defined.contains(name)) {
            throw new IllegalArgumentException("value '" + name + "' is used before it is defined");
        }
    }

    /** Number of nodes so far. */
    public int nodeCount() {
        return nodes.size();
    }

    /**
     * The model's bytes.
     *
     * @param opset the default-domain opset version (17 or later for LayerNormalization)
     * @param producer the producer name written into the model
     */
    public byte[] build(int opset, String producer) {
        if (outputs.isEmpty()) {
            throw new IllegalStateException("the graph declares no outputs");
        }
        ProtoWriter g = new ProtoWriter();
        for (ProtoWriter n : nodes) {
            g.messageField(1, n);
        }
        g.stringField(2, graphName);
        for (ProtoWriter t : initializers) {
            g.messageField(5, t);
        }
        for (ProtoWriter i : inputs) {
            g.messageField(11, i);
        }
        for (ProtoWriter o : outputs) {
            g.messageField(12, o);
        }
        ProtoWriter m = new ProtoWriter();
        m.varintField(1, IR_VERSION);
        m.stringField(2, producer);
        m.messageField(7, g);
        m.messageField(8, new ProtoWriter().stringField(1, "").varintField(2, opset));
        return m.toByteArray();
    }
}
