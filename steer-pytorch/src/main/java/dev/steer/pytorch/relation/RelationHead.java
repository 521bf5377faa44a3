package dev.steer.pytorch.relation;

import dev.steer.pytorch.internal.nn.Embedding;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.nn.Activation;
import dev.steer.core.relation.RelationClassifierConfig;
import dev.steer.pytorch.internal.nn.LayerNorm;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;
import java.util.ArrayList;
import java.util.List;

/**
 * The published classifier's relation head (checkpoint prefix {@code relation_classifier.}).
 *
 * <pre>
 * x = projection(concat(subject map, object map))  [B, 1, 2 map^2] -> [B, 1, d]
 * x = x + pe[:, :1]                                 positional_encoding at index 0
 * x = layers(x)                                     pre-norm encoder, no final norm
 * x = concat(x[:, 0], timestep_embedding(t))        [B, d + temb]
 * fc: Linear(256) LayerNorm LeakyReLU(0.1) Dropout Linear(128) LayerNorm LeakyReLU(0.1) Dropout Linear(C)
 *     (torch.nn.Sequential indices 0, 1, [2, 3], 4, 5, [6, 7], 8)
 * </pre>
 */
final class RelationHead extends Module {
    private static final float EPS = 1e-5f;
    private static final float SLOPE = 0.1f;

    private final Linear projection;
    private final PositionalEncoding positionalEncoding;
    private final List<EncoderLayer> layers = new ArrayList<>();
    private final Embedding timestepEmbedding;
    private final Linear fc0;
    private final LayerNorm fc1;
    private final Linear fc4;
    private final LayerNorm fc5;
    private final Linear fc8;
    private final float dropout;

    RelationHead(RelationClassifierConfig c) {
        int d = c.dModel();
        RelationClassifierConfig.Head h = c.classifier();
        this.projection = child("projection", new Linear(2L * c.mapArea(), d, true));
        this.positionalEncoding = child("positional_encoding", new PositionalEncoding(c.headPositionalLength(), d));
        for (int i = 0; i < h.numLayers(); i++) {
            layers.add(child("transformer.layers." + i, new EncoderLayer(d, h.nhead(), h.dimFeedforward(), h.dropout())));
        }
        this.timestepEmbedding = child("timestep_embedding", new Embedding(c.numTimesteps(), h.timestepEmbeddingDim()));
        this.fc0 = child("fc.0", new Linear(d + h.timestepEmbeddingDim(), 256, true));
        this.fc1 = child("fc.1", new LayerNorm(256, EPS));
        this.fc4 = child("fc.4", new Linear(256, 128, true));
        this.fc5 = child("fc.5", new LayerNorm(128, EPS));
        this.fc8 = child("fc.8", new Linear(128, c.numClasses(), true));
        this.dropout = (float) h.dropout();
    }

    PositionalEncoding positionalEncoding() {
        return positionalEncoding;
    }

    /**
     * @param pair [B, 1, 2 map^2]: the pooled subject map then the pooled object map
     * @param timesteps [B] int64
     * @return logits [B, C]
     */
    NDArray forward(NDArray pair, NDArray timesteps, boolean training) {
        NDArray x = positionalEncoding.forward(projection.forward(pair));
        for (EncoderLayer layer : layers) {
            x = layer.forward(x, training);
        }
        long batch = x.getShape().get(0);
        x = x.reshape(batch, x.getShape().get(2));
        NDArray temb = timestepEmbedding.lookup(timesteps);
        x = NDArrays.concat(new ai.djl.ndarray.NDList(x, temb), 1);
        x = drop(Activation.leakyRelu(fc1.forward(fc0.forward(x)), SLOPE), training);
        x = drop(Activation.leakyRelu(fc5.forward(fc4.forward(x)), SLOPE), training);
        return fc8.forward(x);
    }

    private NDArray drop(NDArray x, boolean training) {
        return training && dropout > 0 ? ai.djl.nn.norm.Dropout.dropout(x, dropout, true).singletonOrThrow() : x;
    }
}
