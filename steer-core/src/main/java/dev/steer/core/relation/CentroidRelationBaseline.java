package dev.steer.core.relation;

import java.util.List;

/**
 * A training-free reading of the relation from attention maps: the centre of mass of the subject's
 * mean map against the object's, on the axis where they differ most (GenEval's rule applied to
 * map centroids instead of boxes). It is the yardstick for a trained classifier on the same data:
 * when this baseline is near chance (0.25) the maps carry little word-specific geometry and no
 * classifier can be expected to read them; when a classifier scores well below it, the classifier
 * has not learned the geometry.
 *
 * <p>Logits are the centroid displacement, in map pixels, in each relation's direction
 * ({@code above}: object y minus subject y, ...), so the arg-max is the rule's answer. No gradient
 * flows through it: it evaluates, it does not steer.
 */
public final class CentroidRelationBaseline implements RelationClassifier {
    private final List<String> classNames;
    private final SpatialRelation[] relations;
    private final int mapsPerWord;

    /**
     * @param classNames the relations in logit order (canonical names, as a dataset lists them)
     * @param mapsPerWord maps per word in the input
     * @throws IllegalArgumentException for a name that is not a spatial relation
     */
    public CentroidRelationBaseline(List<String> classNames, int mapsPerWord) {
        if (mapsPerWord < 1) {
            throw new IllegalArgumentException("mapsPerWord must be positive: " + mapsPerWord);
        }
        this.classNames = List.copyOf(classNames);
        this.relations = new SpatialRelation[classNames.size()];
        for (int i = 0; i < relations.length; i++) {
            relations[i] = SpatialRelation.parse(classNames.get(i));
        }
        this.mapsPerWord = mapsPerWord;
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    @Override
    public int mapsPerWord() {
        return mapsPerWord;
    }

    @Override
    public int timestepIndices() {
        return 50;
    }

    @Override
    public float[] logits(float[] maps, int mapsPerWord, long[] timestepIndices) {
        int batch = timestepIndices.length;
        int side = RelationClassifier.mapSide(maps, mapsPerWord, batch);
        int word = mapsPerWord * side * side;
        float[] out = new float[batch * relations.length];
        for (int b = 0; b < batch; b++) {
            double[] s = centroid(maps, (2 * b) * word, mapsPerWord, side);
            double[] o = centroid(maps, (2 * b + 1) * word, mapsPerWord, side);
            double dx = s[0] - o[0];
            double dy = s[1] - o[1]; // y grows downward
            for (int k = 0; k < relations.length; k++) {
                double v = switch (relations[k]) {
                    case LEFT_OF -> -dx;
                    case RIGHT_OF -> dx;
                    case ABOVE -> -dy;
                    case BELOW -> dy;
                };
                out[b * relations.length + k] = (float) v;
            }
        }
        return out;
    }

    /** {x, y} centre of mass of the mean of {@code count} maps starting at {@code offset}; the centre for an empty map. */
    private static double[] centroid(float[] maps, int offset, int count, int side) {
        double sum = 0;
        double sx = 0;
        double sy = 0;
        for (int m = 0; m < count; m++) {
            int base = offset + m * side * side;
            for (int y = 0; y < side; y++) {
                for (int x = 0; x < side; x++) {
                    double v = Math.max(0, maps[base + y * side + x]);
                    sum += v;
                    sx += v * x;
                    sy += v * y;
                }
            }
        }
        double centre = (side - 1) / 2.0;
        return sum > 0 ? new double[] {sx / sum, sy / sum} : new double[] {centre, centre};
    }

    @Override
    public void close() {
        // holds no native resources
    }
}
