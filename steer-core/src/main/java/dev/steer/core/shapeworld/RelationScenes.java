package dev.steer.core.shapeworld;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.steer.core.relation.PositionRule;
import dev.steer.core.relation.SpatialRelation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * Rendered two-object ShapeWorld scenes with a relation manifest: the real images from which the
 * embedded model's relation classifier is trained by dual inversion.
 *
 * <p>{@link #write} renders scenes whose pair has exactly one relation under GenEval's rule
 * (diagonal placements are drawn again) to {@code images/NNNNN.png} and lists them in
 * {@code pairs.jsonl}, one line per image in the library's manifest format with the colour phrases
 * as words and the exact boxes: {@code {"image": "images/00000.png", "subject": "red circle",
 * "object": "blue square", "subject_box": [...], "object_box": [...], "relation": "left of"}}.
 * The relation is stated as well as derivable from the boxes, so a reader can check one against
 * the other.
 */
public final class RelationScenes {
    /** The manifest's file name. */
    public static final String MANIFEST = "pairs.jsonl";

    private RelationScenes() {
    }

    /**
     * Renders {@code count} scenes from {@code seed} into {@code dir}.
     *
     * @return the manifest written
     */
    public static Path write(ShapeWorld world, Path dir, int count, long seed) throws IOException {
        if (count < 1) {
            throw new IllegalArgumentException("count must be positive: " + count);
        }
        Path images = Files.createDirectories(dir.resolve("images"));
        Random rng = new Random(seed);
        List<String> lines = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Scene scene;
            Optional<SpatialRelation> relation;
            do {
                scene = world.sample(rng, 2);
                relation = PositionRule.relation(box(scene.objects().get(0)), box(scene.objects().get(1)));
            } while (relation.isEmpty());
            String file = String.format(Locale.ROOT, "%05d.png", i);
            ImageIO.write(ShapeWorld.render(scene), "png", images.resolve(file).toFile());
            lines.add(line("images/" + file, scene.objects().get(0), scene.objects().get(1), relation.get()));
        }
        Path manifest = dir.resolve(MANIFEST);
        Files.write(manifest, lines, StandardCharsets.UTF_8);
        return manifest;
    }

    private static String line(String image, SceneObject subject, SceneObject object, SpatialRelation relation) {
        JsonObject o = new JsonObject();
        o.addProperty("image", image);
        o.addProperty("subject", subject.phrase());
        o.addProperty("object", object.phrase());
        o.add("subject_box", json(subject));
        o.add("object_box", json(object));
        o.addProperty("relation", relation.canonicalName());
        return o.toString();
    }

    private static JsonArray json(SceneObject o) {
        JsonArray a = new JsonArray();
        for (double v : o.box()) {
            a.add((int) v);
        }
        return a;
    }

    static PositionRule.Box box(SceneObject o) {
        return PositionRule.Box.ofCorners(o.x0(), o.y0(), o.x1(), o.y1());
    }
}
