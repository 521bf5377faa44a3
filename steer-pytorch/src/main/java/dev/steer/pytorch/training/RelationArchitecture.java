package dev.steer.pytorch.training;

import dev.steer.core.relation.RelationClassifierConfig;
import java.util.List;
import java.util.Locale;

/**
 * The classifier sizes {@link RelationClassifierTrainer} can train. Both are the published
 * architecture (same module tree, same checkpoint format, loadable by the steering pipeline);
 * they differ in size only.
 */
public enum RelationArchitecture {
    /**
     * The published SD configuration ({@link RelationClassifierConfig#publishedSd}): d_model 256,
     * extractor 2 layers (2 heads, FFN 128), head 2 layers (4 heads, FFN 128), dropout 0.3, about
     * 2M parameters; pinned to the dataset's maps per word.
     */
    PUBLISHED,
    /**
     * A smaller variant for small datasets and quick experiments: d_model 128, one encoder layer
     * in the extractor (2 heads, FFN 128) and one in the head (4 heads, FFN 128), dropout 0.1, a
     * positional table only as long as the maps per word; about a quarter of the published size.
     */
    SMALL;

    /** The configuration for a dataset's relations, maps per word and map side. */
    public RelationClassifierConfig config(List<String> relations, int mapsPerWord, int mapSize) {
        return switch (this) {
            case PUBLISHED -> {
                RelationClassifierConfig p = RelationClassifierConfig.publishedSd(relations).withMapsPerWord(mapsPerWord);
                yield new RelationClassifierConfig(p.dModel(), mapSize, p.numTimesteps(), Math.max(p.inputChannels(), mapsPerWord),
                        p.extractor(), p.classifier(), relations, mapsPerWord, p.headPositionalLength());
            }
            case SMALL -> new RelationClassifierConfig(128, mapSize, 50, mapsPerWord, new RelationClassifierConfig.Extractor(2, 1, 128, 2, 0.1),
                    new RelationClassifierConfig.Head(16, 4, 1, 128, 0.1), relations, mapsPerWord,
                    RelationClassifierConfig.DEFAULT_HEAD_POSITIONAL_LENGTH);
        };
    }

    /** Parses {@code published} or {@code small} (any case). @throws IllegalArgumentException otherwise */
    public static RelationArchitecture parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown architecture '" + name + "'; known: published, small");
        }
    }
}
