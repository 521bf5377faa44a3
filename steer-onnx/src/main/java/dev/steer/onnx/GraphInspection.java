package dev.steer.onnx;

import dev.steer.onnx.internal.proto.GraphEdit;
import dev.steer.onnx.internal.proto.OnnxDim;
import dev.steer.onnx.internal.proto.OnnxInitializer;
import dev.steer.onnx.internal.proto.OnnxModelProto;
import dev.steer.onnx.internal.proto.OnnxNode;
import dev.steer.onnx.internal.proto.OnnxValueInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Facts read from graphs by node names and declarations (torch.onnx exports name nodes after module paths). */
final class GraphInspection {
    private GraphInspection() {
    }

    /**
     * Adds to {@code edit} symbolic heights and widths for every rank-4 (NCHW) input and output whose
     * spatial sizes are fixed, so a graph exported at one size can run at others when its operators
     * allow (torch exports compute most shapes at run time).
     */
    static GraphEdit relaxSpatialSizes(OnnxModelProto model, GraphEdit edit) {
        List<OnnxValueInfo> io = new ArrayList<>(model.inputs());
        io.addAll(model.outputs());
        for (OnnxValueInfo v : io) {
            if (v.rank() != 4 || (!v.dims().get(2).isFixed() && !v.dims().get(3).isFixed())) {
                continue;
            }
            List<OnnxDim> dims = new ArrayList<>(v.dims());
            dims.set(2, OnnxDim.symbolic(v.name() + "_height"));
            dims.set(3, OnnxDim.symbolic(v.name() + "_width"));
            edit.retype(new OnnxValueInfo(v.name(), v.elemType(), dims));
        }
        return edit;
    }

    /** The fixed spatial size [h, w] of a declared rank-4 value, or null when not fixed. */
    static int[] fixedSpatialSize(OnnxValueInfo v) {
        if (v == null || v.rank() != 4 || !v.dims().get(2).isFixed() || !v.dims().get(3).isFixed()) {
            return null;
        }
        return new int[] {(int) v.dims().get(2).value(), (int) v.dims().get(3).value()};
    }

    /**
     * The number of distinct resampling stages named in the graph, e.g. {@code down_blocks.N/downsamplers}
     * for a UNet's down path or {@code up_blocks.N/upsamplers} for a decoder.
     */
    static int countStages(OnnxModelProto model, String blockPrefix, String resampler) {
        Pattern p = Pattern.compile("(?:^|/)" + Pattern.quote(blockPrefix) + "\\.(\\d+)/" + Pattern.quote(resampler) + "(?:\\.\\d+)?/");
        Set<String> blocks = new TreeSet<>();
        for (OnnxNode n : model.nodes()) {
            Matcher m = p.matcher(n.name());
            if (m.find()) {
                blocks.add(m.group(1));
            }
        }
        return blocks.size();
    }

    /** The first declared dimension of a value as a fixed size, or -1. */
    static long fixedDim(OnnxValueInfo v, int axis) {
        if (v == null || v.rank() <= axis) {
            return -1;
        }
        OnnxDim d = v.dims().get(axis < 0 ? v.rank() + axis : axis);
        return d.isFixed() ? d.value() : -1;
    }

    /**
     * The number of rows of the embedding table that {@code Gather}s the token ids (directly or after a
     * {@code Cast}), or -1 when it cannot be told.
     */
    static int embeddingRows(OnnxModelProto model, String idsInput) {
        Set<String> ids = new java.util.HashSet<>();
        ids.add(idsInput);
        for (OnnxNode n : model.nodes()) {
            if (n.opType().equals("Cast") && !n.inputs().isEmpty() && ids.contains(n.inputs().get(0))) {
                ids.addAll(n.outputs());
            }
        }
        for (OnnxNode n : model.nodes()) {
            if (n.opType().equals("Gather") && n.inputs().size() >= 2 && ids.contains(n.inputs().get(1))) {
                for (OnnxInitializer init : model.initializers()) {
                    if (init.name().equals(n.inputs().get(0)) && init.dims().length == 2) {
                        return (int) init.dims()[0];
                    }
                }
            }
        }
        return -1;
    }
}
