package dev.steer.examples;

import dev.steer.core.shapeworld.RelationScenes;
import dev.steer.core.shapeworld.ShapeWorld;
import java.nio.file.Path;
import java.util.Set;

/**
 * Renders two-object ShapeWorld scenes (PNG) with a relation manifest that
 * {@link BuildRelationDataset} reads ({@code --manifest DIR/pairs.jsonl}): the real images from
 * which the embedded model's relation classifier is trained.
 *
 * <pre>
 * RenderShapeWorldScenes --out DIR [--count 600] [--seed 0]
 * </pre>
 */
public final class RenderShapeWorldScenes {
    private RenderShapeWorldScenes() {
    }

    /** Entry point. */
    public static void main(String[] argv) throws Exception {
        Args a = Args.parse(argv, Set.of("--out", "--count", "--seed"));
        if (!a.has("--out")) {
            System.err.println("usage: RenderShapeWorldScenes --out DIR [--count 600] [--seed 0]");
            System.exit(2);
        }
        Path manifest = RelationScenes.write(ShapeWorld.DEFAULT, Path.of(a.get("--out", null)), a.getInt("--count", 600),
                a.getLong("--seed", 0));
        System.out.println("wrote " + manifest.toAbsolutePath());
    }
}
