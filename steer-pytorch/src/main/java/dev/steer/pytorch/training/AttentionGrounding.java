package dev.steer.pytorch.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.shapeworld.Scene;
import dev.steer.core.shapeworld.SceneObject;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.pytorch.flux.JointAttentionHook;
import dev.steer.pytorch.internal.nn.Scalars;
import dev.steer.pytorch.unet.CrossAttentionHook;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Token-level grounding of cross-attention while training on scenes whose layout is known: each
 * colour and shape word of a caption should put its attention inside the box of the object it
 * names. The loss is TokenCompose's token loss (Wang et al., CVPR 2024): for every grounded token,
 * {@code (1 - attention mass inside the box / total attention mass)^2}, with the attention averaged
 * over heads, averaged over grounded tokens and over the {@code attn2} layers.
 *
 * <p>Why the ShapeWorld model needs it: trained on captions alone, a small model's noun tokens keep
 * lighting up every object for thousands of steps (the causal text encoder lets later tokens and
 * the padding carry the whole caption), and a relation classifier cannot read a relation from maps
 * that do not say which object is which. Real Stable Diffusion checkpoints have word-specific maps
 * from their scale of training; this buys the same property cheaply.
 *
 * <p>Use: {@link #of} for a batch, pass {@link #hook()} to the UNet forward (or {@link #jointHook()}
 * to a FLUX transformer's), then {@link #loss}.
 */
final class AttentionGrounding {
    private final int imageSize;
    private final int batch;
    private final int tokens;
    /** Per sample: the grounded token positions and, for each, the box of the object it names. */
    private final List<List<int[]>> positions;
    private final List<List<SceneObject>> objects;
    private final List<Layer> layers = new ArrayList<>();

    private record Layer(int height, int width, NDArray probabilities) {
    }

    private AttentionGrounding(int imageSize, int tokens, List<List<int[]>> positions, List<List<SceneObject>> objects) {
        this.imageSize = imageSize;
        this.batch = positions.size();
        this.tokens = tokens;
        this.positions = positions;
        this.objects = objects;
    }

    /**
     * Binds each object of each scene to the tokens of its colour and shape words in the caption.
     * An empty caption (classifier-free guidance) or one that does not name an object grounds
     * nothing for it.
     */
    static AttentionGrounding of(Scene[] scenes, TokenizedPrompt[] captions) {
        List<List<int[]>> positions = new ArrayList<>();
        List<List<SceneObject>> objects = new ArrayList<>();
        for (int b = 0; b < scenes.length; b++) {
            List<int[]> p = new ArrayList<>();
            List<SceneObject> o = new ArrayList<>();
            List<TokenizedPrompt.Word> words = captions[b].words();
            for (SceneObject obj : scenes[b].objects()) {
                for (int w = 0; w + 1 < words.size(); w++) {
                    if (words.get(w).text().equals(obj.color().adjective()) && words.get(w + 1).text().equals(obj.kind().noun())) {
                        p.add(concat(words.get(w).positions(), words.get(w + 1).positions()));
                        o.add(obj);
                        break;
                    }
                }
            }
            positions.add(p);
            objects.add(o);
        }
        return new AttentionGrounding(scenes[0].size(), captions[0].length(), positions, objects);
    }

    /** Collects the {@code attn2} probabilities of one forward pass (with their autograd history). */
    CrossAttentionHook hook() {
        return (layer, h, w, probabilities) -> layers.add(new Layer(h, w, probabilities));
    }

    /**
     * Collects a FLUX transformer's image->text attention (every double- and single-stream block)
     * with its autograd history: the image rows of the joint softmax restricted to the text columns
     * and renormalised over them, as the FLUX probe ({@code TorchAttentionProbe#asJointHook}) reads
     * its maps, so that grounding trains the maps steering reads.
     */
    JointAttentionHook jointHook() {
        return (layer, textTokens, h, w, probabilities, call) -> {
            NDArray imageToText = probabilities.get(":, :, {}:, :{}", textTokens, textTokens); // [B, heads, N, T]
            NDArray maps = imageToText.div(imageToText.sum(new int[] {3}, true));
            maps.attach(call); // the block's scope closes before the loss reads the maps
            layers.add(new Layer(h, w, maps));
        };
    }

    /** How many tokens are grounded in this batch. */
    int groundedTokens() {
        int n = 0;
        for (List<int[]> p : positions) {
            for (int[] q : p) {
                n += q.length;
            }
        }
        return n;
    }

    /**
     * The token loss averaged over the collected layers, and in {@code insideShare[0]} the mean
     * share of a grounded token's attention inside its box (1 = perfectly grounded), for logs.
     *
     * @return a scalar with autograd history; null when nothing is grounded or no layer was seen
     */
    NDArray loss(NDManager scope, double[] insideShare) {
        int grounded = groundedTokens();
        if (grounded == 0 || layers.isEmpty()) {
            return null;
        }
        NDArray total = null;
        double share = 0;
        NDArray tiny = scope.create(1e-12f); // lives until the scope closes, after backward
        NDArray selected = scope.create(selector(), new Shape(batch, tokens));
        Map<String, NDArray> masksByGrid = new HashMap<>(); // several layers share a grid size
        for (Layer layer : layers) {
            long cells = (long) layer.height * layer.width;
            NDArray mask = masksByGrid.computeIfAbsent(layer.height + "x" + layer.width,
                    k -> scope.create(masks(layer.height, layer.width), new Shape(batch, cells, tokens)));
            NDArray attention = layer.probabilities.mean(new int[] {1}); // [B, HW, T]
            NDArray mass = attention.sum(new int[] {1}).add(tiny); // a token nobody attends to (only in tests) must not give 0/0
            NDArray inside = attention.mul(mask).sum(new int[] {1}).div(mass); // [B, T]
            NDArray miss = selected.sub(inside.mul(selected)); // (1 - inside) on grounded tokens, 0 elsewhere
            NDArray l = Scalars.div(miss.square().sum(), grounded);
            share += inside.mul(selected).sum().getFloat() / grounded;
            total = total == null ? l : total.add(l);
        }
        if (insideShare != null && insideShare.length > 0) {
            insideShare[0] = share / layers.size();
        }
        return Scalars.div(total, layers.size());
    }

    /** [B, h*w, T]: for a grounded token, the share of each cell covered by its object's box. */
    private float[] masks(int h, int w) {
        float[] out = new float[batch * h * w * tokens];
        double cellH = (double) imageSize / h;
        double cellW = (double) imageSize / w;
        for (int b = 0; b < batch; b++) {
            List<int[]> p = positions.get(b);
            for (int i = 0; i < p.size(); i++) {
                SceneObject o = objects.get(b).get(i);
                for (int y = 0; y < h; y++) {
                    double cy = overlap(y * cellH, (y + 1) * cellH, o.y0(), o.y1()) / cellH;
                    for (int x = 0; x < w; x++) {
                        double cover = cy * overlap(x * cellW, (x + 1) * cellW, o.x0(), o.x1()) / cellW;
                        for (int t : p.get(i)) {
                            out[((b * h + y) * w + x) * tokens + t] = (float) cover;
                        }
                    }
                }
            }
        }
        return out;
    }

    private float[] selector() {
        float[] out = new float[batch * tokens];
        for (int b = 0; b < batch; b++) {
            for (int[] q : positions.get(b)) {
                for (int t : q) {
                    out[b * tokens + t] = 1f;
                }
            }
        }
        return out;
    }

    private static double overlap(double a0, double a1, double b0, double b1) {
        return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = new int[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
