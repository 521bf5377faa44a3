package dev.steer.onnx.internal.proto;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Changes to make to a model's main graph when {@link OnnxModelProto#rewrite rewriting} it: extra
 * graph outputs (e.g. intermediate values such as attention probabilities), new declared types
 * for existing inputs or outputs (e.g. fixed sizes made symbolic), and small additions: nodes
 * appended after the existing ones (so they may read any existing value) and graph inputs.
 * Everything else is copied unchanged.
 */
public final class GraphEdit {
    private final Map<String, OnnxValueInfo> retyped = new LinkedHashMap<>();
    private final List<OnnxValueInfo> addedOutputs = new ArrayList<>();
    private final List<ProtoWriter> addedNodes = new ArrayList<>();
    private final List<OnnxValueInfo> addedInputs = new ArrayList<>();

    /** An edit that changes nothing. */
    public GraphEdit() {
    }

    /** Appends a graph output exposing the value {@code output.name()}. */
    public GraphEdit addOutput(OnnxValueInfo output) {
        addedOutputs.add(output);
        return this;
    }

    /**
     * Appends a node of the default domain after the graph's nodes.
     *
     * @param name the node name
     * @param opType the operator
     * @param inputs input value names
     * @param outputs output value names
     * @param attributes encoded {@code AttributeProto}s (see {@link OnnxGraphBuilder.Attribute})
     */
    public GraphEdit addNode(String name, String opType, List<String> inputs, List<String> outputs,
            OnnxGraphBuilder.Attribute... attributes) {
        ProtoWriter n = new ProtoWriter();
        for (String i : inputs) {
            n.stringField(1, i);
        }
        for (String o : outputs) {
            n.stringField(2, o);
        }
        n.stringField(3, name).stringField(4, opType);
        for (OnnxGraphBuilder.Attribute a : attributes) {
            n.messageField(5, a.encode());
        }
        addedNodes.add(n);
        return this;
    }

    /** Appends a graph input. */
    public GraphEdit addInput(OnnxValueInfo input) {
        addedInputs.add(input);
        return this;
    }

    /** The encoded nodes to append, in order. */
    List<ProtoWriter> addedNodes() {
        return List.copyOf(addedNodes);
    }

    /** The inputs to append, in order. */
    public List<OnnxValueInfo> addedInputs() {
        return List.copyOf(addedInputs);
    }

    /** Replaces the declared type of the graph input or output named {@code info.name()}. */
    public GraphEdit retype(OnnxValueInfo info) {
        retyped.put(info.name(), info);
        return this;
    }

    /** The outputs to append, in order. */
    public List<OnnxValueInfo> addedOutputs() {
        return List.copyOf(addedOutputs);
    }

    /** The inputs and outputs to retype, by name. */
    public Map<String, OnnxValueInfo> retyped() {
        return Map.copyOf(retyped);
    }

    /** Whether the edit changes nothing. */
    public boolean isEmpty() {
        return retyped.isEmpty() && addedOutputs.isEmpty() && addedNodes.isEmpty() && addedInputs.isEmpty();
    }
}
