package dev.steer.onnx.internal.proto;

import java.util.List;

/**
 * A declared graph input or output ({@code ValueInfoProto}) of tensor type.
 *
 * @param name the value name
 * @param elemType the element type code ({@link OnnxElementType}), 0 when not declared
 * @param dims the declared shape, or null when no shape is declared
 */
public record OnnxValueInfo(String name, int elemType, List<OnnxDim> dims) {

    /** A tensor value of the given type and shape (dims may be null for "any shape"). */
    public OnnxValueInfo {
        dims = dims == null ? null : List.copyOf(dims);
    }

    /** The declared rank, or -1 when no shape is declared. */
    public int rank() {
        return dims == null ? -1 : dims.size();
    }

    /** The {@code type} field ({@code TypeProto} with a {@code tensor_type}) of this value. */
    public ProtoWriter encodeType() {
        ProtoWriter tensor = new ProtoWriter();
        if (elemType != 0) {
            tensor.varintField(1, elemType);
        }
        if (dims != null) {
            ProtoWriter shape = new ProtoWriter();
            for (OnnxDim d : dims) {
                ProtoWriter dim = new ProtoWriter();
                if (d.isFixed()) {
                    dim.varintField(1, d.value());
                } else if (d.param() != null) {
                    dim.stringField(2, d.param());
                }
                shape.messageField(1, dim);
            }
            tensor.messageField(2, shape);
        }
        return new ProtoWriter().messageField(1, tensor);
    }

    /**
     * The whole {@code ValueInfoProto}: name and type; only the name when neither element type nor
     * shape is known (ONNX Runtime then infers the type of such a graph output).
     */
    public ProtoWriter encode() {
        ProtoWriter w = new ProtoWriter().stringField(1, name);
        return elemType == 0 && dims == null ? w : w.messageField(2, encodeType());
    }

    @Override
    public String toString() {
        return name + ": " + OnnxElementType.name(elemType) + (dims == null ? "[?]" : dims.toString());
    }
}
