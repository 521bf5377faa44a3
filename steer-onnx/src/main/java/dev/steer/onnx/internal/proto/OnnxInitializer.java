package dev.steer.onnx.internal.proto;

/**
 * What the library needs to know of one weight ({@code TensorProto} initializer of the main graph):
 * its name, type, shape and, for weights stored outside the graph file, where.
 *
 * @param name the tensor name
 * @param dataType the ONNX element type code ({@link OnnxElementType})
 * @param dims the shape
 * @param externalLocation the external data file, relative to the model's folder, or null when the
 *     data is inside the graph file
 * @param externalOffset byte offset in the external file (0 if not given)
 * @param externalLength byte length in the external file (-1 if not given)
 */
public record OnnxInitializer(String name, int dataType, long[] dims, String externalLocation, long externalOffset,
        long externalLength) {

    /** Whether the data lives in an external file. */
    public boolean isExternal() {
        return externalLocation != null;
    }
}
