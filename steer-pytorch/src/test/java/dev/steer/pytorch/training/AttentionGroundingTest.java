package dev.steer.pytorch.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.core.shapeworld.Scene;
import dev.steer.core.shapeworld.SceneObject;
import dev.steer.core.shapeworld.ShapeColor;
import dev.steer.core.shapeworld.ShapeKind;
import dev.steer.core.testing.Conformance;
import dev.steer.core.tokenizer.ClipTokenizer;
import dev.steer.core.tokenizer.TokenizedPrompt;
import java.util.List;
import org.junit.jupiter.api.Test;

class AttentionGroundingTest {
    private static final CrossAttentionLayer LAYER = new CrossAttentionLayer(0, "test.attn2", 1, 1);
    private static final ClipTokenizer TOKENIZER = ClipTokenizer.fromFolder(Conformance.dir("clip-tokenizer"));
    /** Red circle in the left half's top-left quarter, blue square in the right half (32x32 image). */
    private static final Scene SCENE = new Scene(32,
            List.of(new SceneObject(ShapeColor.RED, ShapeKind.CIRCLE, 0, 0, 16, 16), new SceneObject(ShapeColor.BLUE, ShapeKind.SQUARE, 16, 0, 32, 32)),
            200, 0);

    private static AttentionGrounding grounding(String caption) {
        return AttentionGrounding.of(new Scene[] {SCENE}, new TokenizedPrompt[] {TOKENIZER.tokenize(caption)});
    }

    @Test
    void bindsEachObjectsColourAndShapeWordsAndNothingForAnEmptyCaption() {
        assertEquals(4, grounding("a red circle and a blue square").groundedTokens());
        assertEquals(4, grounding("a photo of a blue square right of a red circle").groundedTokens());
        assertEquals(2, grounding("a red circle and a green triangle").groundedTokens()); // the blue square is not named
        assertEquals(0, grounding("").groundedTokens());
    }

    @Test
    void lossIsZeroForAttentionInsideTheBoxesAndTheMissedShareSquaredForUniformAttention() {
        int tokens = TOKENIZER.maxLength();
        try (NDManager m = NDManager.newBaseManager()) {
            // 4x4 grid: the red circle's box covers the 2x2 top-left cells, the blue square's the right 2 columns.
            float[] inside = new float[16 * tokens];
            for (int y = 0; y < 4; y++) {
                for (int x = 0; x < 4; x++) {
                    int cell = y * 4 + x;
                    inside[cell * tokens + 2] = x < 2 && y < 2 ? 1f : 0f; // "red"
                    inside[cell * tokens + 3] = x < 2 && y < 2 ? 1f : 0f; // "circle"
                    inside[cell * tokens + 6] = x >= 2 ? 1f : 0f; // "blue"
                    inside[cell * tokens + 7] = x >= 2 ? 1f : 0f; // "square"
                }
            }
            double[] share = new double[1];
            AttentionGrounding g = grounding("a red circle and a blue square");
            g.hook().onCrossAttention(LAYER, 4, 4, m.create(inside, new Shape(1, 1, 16, tokens)));
            assertEquals(0f, g.loss(m, share).getFloat(), 1e-6f);
            assertEquals(1.0, share[0], 1e-6);

            AttentionGrounding u = grounding("a red circle and a blue square");
            u.hook().onCrossAttention(LAYER, 4, 4, m.ones(new Shape(1, 2, 16, tokens)));
            // uniform attention: a quarter of the mass inside the circle's box, half inside the square's
            float expected = (2 * 0.75f * 0.75f + 2 * 0.5f * 0.5f) / 4;
            assertEquals(expected, u.loss(m, share).getFloat(), 1e-6f);
            assertEquals((2 * 0.25 + 2 * 0.5) / 4, share[0], 1e-6);

            assertNull(grounding("").loss(m, share));
        }
    }

    @Test
    void gradientDescentMovesAttentionIntoTheNamedBox() {
        int tokens = TOKENIZER.maxLength();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits = m.randomNormal(new Shape(1, 1, 16, tokens));
            double before = 0;
            for (int iteration = 0; iteration < 50; iteration++) {
                AttentionGrounding g = grounding("a red circle and a blue square");
                double[] share = new double[1];
                logits.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    g.hook().onCrossAttention(LAYER, 4, 4, logits.softmax(-1));
                    gc.backward(g.loss(m, share));
                }
                if (iteration == 0) {
                    before = share[0];
                }
                NDArray next = logits.sub(logits.getGradient().mul(m.create(200f)));
                logits = next.stopGradient();
                if (iteration == 49) {
                    assertTrue(share[0] > before + 0.3, "inside share " + before + " -> " + share[0]);
                }
            }
        }
    }
}
