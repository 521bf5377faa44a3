package dev.steer.core.shapeworld;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A synthetic world whose spatial truth is known exactly: scenes of one to three coloured shapes
 * (mostly two) at random sizes and positions on a plain or lightly textured light background,
 * rendered without anti-aliasing so every object's box is exact. The embedded default model is
 * trained on it and ShapeBench measures position accuracy on it.
 *
 * @param size image side in pixels
 * @param minObject smallest object side in pixels
 * @param maxObject largest object side in pixels
 */
public record ShapeWorld(int size, int minObject, int maxObject) {

    /** The world of the embedded model: 32x32 images, objects 8 to 14 pixels. */
    public static final ShapeWorld DEFAULT = new ShapeWorld(32, 8, 14);

    /** Validates sizes. */
    public ShapeWorld {
        if (size < 8 || minObject < 3 || minObject > maxObject || maxObject * 2 > size) {
            throw new IllegalArgumentException("need size >= 8 and 3 <= minObject <= maxObject <= size / 2");
        }
    }

    /**
     * A random scene: two objects in 80% of scenes, one in 10%, three in 10%; distinct colours;
     * objects do not overlap; a textured background in half of the scenes.
     */
    public Scene sample(Random rng) {
        double u = rng.nextDouble();
        int count = u < 0.8 ? 2 : u < 0.9 ? 1 : 3;
        return sample(rng, count);
    }

    /** A random scene with exactly {@code count} objects. */
    public Scene sample(Random rng, int count) {
        ShapeColor[] colors = ShapeColor.values();
        ShapeKind[] kinds = ShapeKind.values();
        List<ShapeColor> free = new ArrayList<>(List.of(colors));
        List<SceneObject> objects = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ShapeColor color = free.remove(rng.nextInt(free.size()));
            ShapeKind kind = kinds[rng.nextInt(kinds.length)];
            objects.add(place(rng, color, kind, objects));
        }
        int background = 215 + rng.nextInt(31);
        long texture = rng.nextBoolean() ? rng.nextLong() | 1 : 0;
        return new Scene(size, objects, background, texture);
    }

    /** A scene with the given objects placed at random where they fit (for benchmark prompts). */
    public SceneObject place(Random rng, ShapeColor color, ShapeKind kind, List<SceneObject> others) {
        for (int attempt = 0; attempt < 1000; attempt++) {
            int side = minObject + rng.nextInt(maxObject - minObject + 1);
            int x0 = rng.nextInt(size - side + 1);
            int y0 = rng.nextInt(size - side + 1);
            SceneObject o = new SceneObject(color, kind, x0, y0, x0 + side, y0 + side);
            boolean clear = true;
            for (SceneObject other : others) {
                if (o.overlaps(other)) {
                    clear = false;
                    break;
                }
            }
            if (clear) {
                return o;
            }
        }
        throw new IllegalStateException("no room for another object in a " + size + "px scene");
    }

    /**
     * Whether a point lies inside an object (pixels are filled when their centre is inside, so the
     * fill ratio of a box is the shape's own, at every size).
     */
    static boolean covers(SceneObject o, double px, double py) {
        double w = o.x1() - o.x0();
        double h = o.y1() - o.y0();
        double u = (px - o.x0()) / w;
        double v = (py - o.y0()) / h;
        return switch (o.kind()) {
            case SQUARE -> true;
            case CIRCLE -> (u - 0.5) * (u - 0.5) + (v - 0.5) * (v - 0.5) <= 0.25;
            case TRIANGLE -> Math.abs(u - 0.5) <= v / 2; // apex at the top centre, base along the bottom
        };
    }

    /** Draws a scene (no anti-aliasing: pixels are either background or exactly an object's colour). */
    public static BufferedImage render(Scene scene) {
        int n = scene.size();
        BufferedImage img = new BufferedImage(n, n, BufferedImage.TYPE_INT_RGB);
        Random texture = new Random(scene.textureSeed());
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                int v = scene.background() + (scene.textureSeed() == 0 ? 0 : texture.nextInt(9) - 4);
                v = Math.max(0, Math.min(255, v));
                img.setRGB(x, y, (v << 16) | (v << 8) | v);
            }
        }
        for (SceneObject o : scene.objects()) {
            for (int y = o.y0(); y < o.y1(); y++) {
                for (int x = o.x0(); x < o.x1(); x++) {
                    if (covers(o, x + 0.5, y + 0.5)) {
                        img.setRGB(x, y, o.color().rgb());
                    }
                }
            }
        }
        return img;
    }
}
