package dev.steer.onnx;

import dev.steer.core.model.ModelConfigException;
import dev.steer.onnx.internal.proto.OnnxModelProto;
import dev.steer.onnx.internal.proto.OnnxNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds the cross-attention probabilities of a UNet graph: the {@code Softmax} node of every
 * {@code attn2} module, recognised by its node name (or, failing that, its output name) as
 * torch.onnx.export writes them from module paths, e.g.
 * {@code /down_blocks.0/attentions.0/transformer_blocks.0/attn2/Softmax}. Graphs whose attention
 * is fused into one operator, or whose attn2 softmax nodes cannot be identified, are refused with a
 * message saying how to export a usable UNet.
 */
final class CrossAttentionTaps {
    /** Operators that fuse a whole attention (scores, softmax, weighted sum) into one node. */
    static final Set<String> FUSED_ATTENTION_OPS = Set.of("Attention", "MultiHeadAttention", "PackedAttention",
            "PackedMultiHeadAttention", "GroupQueryAttention", "SparseAttention", "DecoderMaskedMultiHeadAttention",
            "DecoderMaskedSelfAttention", "QAttention", "LongformerAttention", "RelativePositionBias", "FlashAttention");

    static final String HOW_TO_EXPORT = "The library reads cross-attention maps from the Softmax node inside each attn2 module, "
            + "named like /down_blocks.0/attentions.0/transformer_blocks.0/attn2/Softmax as torch.onnx.export names nodes after "
            + "module paths, and adds their outputs as extra graph outputs. Export the diffusers UNet with unfused attention: "
            + "torch.onnx.export(unet, ...) with the default attention processor and no attention slicing, or "
            + "optimum-cli export onnx --model <model> --no-post-process <out>; do not run ONNX Runtime's transformer optimizer "
            + "(optimum-cli onnxruntime optimize, onnxruntime.transformers.optimizer), which fuses attention into "
            + "Attention/MultiHeadAttention operators.";

    private CrossAttentionTaps() {
    }

    /**
     * One attn2 softmax.
     *
     * @param module the module path, e.g. {@code down_blocks.0.attentions.0.transformer_blocks.0.attn2}
     * @param valueName the softmax output's value name (the extra graph output)
     * @param nodeIndex the node's position in the graph (topological, i.e. execution, order)
     */
    record Tap(String module, String valueName, int nodeIndex) {
    }

    /** The taps in execution order. @throws ModelConfigException naming {@code file} when the graph is unusable */
    static List<Tap> find(Path file, OnnxModelProto model) {
        Map<String, List<OnnxNode>> byModule = new LinkedHashMap<>();
        List<String> fused = new ArrayList<>();
        for (OnnxNode n : model.nodes()) {
            if (FUSED_ATTENTION_OPS.contains(n.opType())) {
                String module = attn2Module(n);
                boolean selfAttention = module == null && (n.name().contains("/attn1/") || n.name().contains(".attn1"));
                if (!selfAttention) {
                    fused.add((n.domain().isEmpty() ? "" : n.domain() + ".") + n.opType() + (n.name().isEmpty() ? "" : " '" + n.name() + "'"));
                }
                continue;
            }
            if (!n.opType().equals("Softmax") || !n.isStandardDomain() || n.outputs().isEmpty()) {
                continue;
            }
            String module = attn2Module(n);
            if (module != null) {
                byModule.computeIfAbsent(module, k -> new ArrayList<>()).add(n);
            }
        }
        if (!fused.isEmpty()) {
            throw new ModelConfigException(file, "this UNet export fuses attention into single operators (" + fused.size() + " nodes, e.g. "
                    + fused.get(0) + "), so its cross-attention probabilities are not computed as a tensor that can be read. "
                    + HOW_TO_EXPORT);
        }
        if (byModule.isEmpty()) {
            throw new ModelConfigException(file, "no cross-attention Softmax nodes found (no Softmax node or output named after an "
                    + "attn2 module among " + model.nodes().size() + " nodes). " + HOW_TO_EXPORT);
        }
        List<Tap> taps = new ArrayList<>();
        for (Map.Entry<String, List<OnnxNode>> e : byModule.entrySet()) {
            if (e.getValue().size() != 1) {
                throw new ModelConfigException(file, "cross-attention module " + e.getKey() + " has " + e.getValue().size()
                        + " Softmax nodes (an export with attention slicing?); expected exactly one. " + HOW_TO_EXPORT);
            }
            OnnxNode n = e.getValue().get(0);
            taps.add(new Tap(e.getKey(), n.outputs().get(0), n.index()));
        }
        taps.sort((a, b) -> Integer.compare(a.nodeIndex(), b.nodeIndex()));
        return taps;
    }

    /** The attn2 module a node belongs to, from its name or else its first output's name; null if none. */
    static String attn2Module(OnnxNode n) {
        String m = attn2Module(n.name());
        if (m == null && !n.outputs().isEmpty()) {
            m = attn2Module(n.outputs().get(0));
        }
        return m;
    }

    /** {@code /a.0/b/attn2/Softmax} -> {@code a.0.b.attn2}; null when no path segment is {@code attn2}. */
    static String attn2Module(String path) {
        String[] parts = path.split("/");
        int attn = -1;
        for (int i = 0; i < parts.length - 1; i++) {
            if (parts[i].equals("attn2")) {
                attn = i;
            }
        }
        if (attn < 0) {
            return null;
        }
        int start = 0;
        for (int i = 0; i <= attn; i++) {
            String p = parts[i];
            if (p.startsWith("down_blocks.") || p.equals("mid_block") || p.startsWith("up_blocks.")) {
                start = i;
                break;
            }
        }
        StringBuilder sb = new StringBuilder();
        for (int i = start; i <= attn; i++) {
            if (parts[i].isEmpty()) {
                continue;
            }
            sb.append(sb.length() == 0 ? "" : ".").append(parts[i]);
        }
        return sb.toString();
    }
}
