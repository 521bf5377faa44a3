package dev.steer.pytorch.relation;

import dev.steer.pytorch.internal.nn.Embedding;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.relation.RelationClassifierConfig;
import dev.steer.pytorch.internal.nn.Linear;
import dev.steer.pytorch.nn.Module;
import dev.steer.pytorch.nn.Weight;
import java.util.ArrayList;
import java.util.List;

/**
 * The published classifier's extractor (checkpoint prefix {@code object_extractor.}, shared by the
 * subject and the object maps): reads a word's N maps as a sequence of N tokens and pools them into
 * one map.
 *
 * <pre>
 * x = input_projection(maps)                      [B, N, map^2] -> [B, N, d]
 * x = x + pe[:, :N]                               positional_encoding over the map index
 * for each layer: x = layer(x + temb)             temb = timestep_embedding(t) [B, 1, d], added before EACH layer
 * p = layer_attention(query_vector, x, x)         one learnable query [1, 1, d], torch MultiheadAttention
 * out = output_projection(p)                      [B, 1, map^2]
 * </pre>
 * The encoder layers are pre-norm ({@code norm_first=True}) and there is no final norm after them.
 */
final class AttentionMapExtractor extends Module {
    private final Linear inputProjection;
    private final PositionalEncoding positionalEncoding;
    private final Embedding timestepEmbedding;
    private final List<EncoderLayer> layers = new ArrayList<>();
    private final Weight queryVector;
    private final MultiheadAttention layerAttention;
    private final Linear outputProjection;
    private final int dModel;

    AttentionMapExtractor(RelationClassifierConfig c) {
        int d = c.dModel();
        RelationClassifierConfig.Extractor e = c.extractor();
        this.dModel = d;
        this.inputProjection = child("input_projection", new Linear(c.mapArea(), d, true));
        this.positionalEncoding = child("positional_encoding", new PositionalEncoding(c.inputChannels(), d));
        this.timestepEmbedding = child("timestep_embedding", new Embedding(c.numTimesteps(), d));
        for (int i = 0; i < e.numLayers(); i++) {
            layers.add(child("transformer.layers." + i, new EncoderLayer(d, e.nhead(), e.dimFeedforward(), e.dropout())));
        }
        this.queryVector = parameter("query_vector", 1, 1, d);
        this.layerAttention = child("layer_attention", new MultiheadAttention(d, e.layerAttnHeads(), 0));
        this.outputProjection = child("output_projection", new Linear(d, c.mapArea(), true));
    }

    PositionalEncoding positionalEncoding() {
        return positionalEncoding;
    }

    /**
     * @param maps [B, N, map^2]
     * @param timesteps [B] int64 timestep indices
     * @return [B, 1, map^2]
     */
    NDArray forward(NDArray maps, NDArray timesteps, boolean training) {
        long batch = maps.getShape().get(0);
        NDArray x = positionalEncoding.forward(inputProjection.forward(maps));
        NDArray temb = timestepEmbedding.lookup(timesteps.reshape(batch, 1));
        for (EncoderLayer layer : layers) {
            x = layer.forward(x.add(temb), training);
        }
        NDArray query = inScopeOf(x, value(queryVector, x).broadcast(new Shape(batch, 1, dModel)));
        return outputProjection.forward(layerAttention.forward(query, x, training));
    }
}
