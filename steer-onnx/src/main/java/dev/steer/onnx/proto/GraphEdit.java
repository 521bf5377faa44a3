package dev.steer.onnx.proto;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Changes to make to a model's main graph when {@link OnnxModelProto#rewrite rewriting} it: extra
 * graph outputs (e.g. intermediate values such as attention probabilities) and new declared types
 * for existing inputs or outputs (e.g. fixed sizes made symbolic). Everything else is copied
 * unchanged.
 */
public final class GraphEdit {
    private final Map<String, OnnxValueInfo> retyped = new LinkedHashMap<>();
    private final List<OnnxValueInfo> addedOutputs = new ArrayList<>();

    /** An edit that changes nothing. */
    public GraphEdit() {
    }

    /** Appends a graph output exposing the value {@code output.name()}. */
    public GraphEdit addOutput(OnnxValueInfo output) {
        addedOutputs.add(output);
        return this;
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
        return retyped.isEmpty() && addedOutputs.isEmpty();
    }
}
