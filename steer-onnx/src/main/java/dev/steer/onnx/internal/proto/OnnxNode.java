package dev.steer.onnx.internal.proto;

import java.util.List;

/**
 * What the library needs to know of one {@code NodeProto} of the main graph (its attributes are
 * not decoded).
 *
 * @param index position in the graph's node list (ONNX requires topological order)
 * @param name the node name ("" if unnamed)
 * @param opType the operator, e.g. {@code Softmax}
 * @param domain the operator set domain ("" for the default ONNX domain, e.g. {@code com.microsoft})
 * @param inputs input value names
 * @param outputs output value names
 */
public record OnnxNode(int index, String name, String opType, String domain, List<String> inputs, List<String> outputs) {

    /** Whether the operator is in the default ONNX domain. */
    public boolean isStandardDomain() {
        return domain.isEmpty() || domain.equals("ai.onnx");
    }
}
