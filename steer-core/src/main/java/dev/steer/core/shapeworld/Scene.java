package dev.steer.core.shapeworld;

import java.util.List;

/**
 * A ShapeWorld scene: its objects with exact boxes, and the background's shade and texture seed.
 *
 * @param size image side in pixels
 * @param objects the objects, in drawing order (distinct colours)
 * @param background grey level of the background (0..255)
 * @param textureSeed seed of the background's light noise; 0 for a plain background
 */
public record Scene(int size, List<SceneObject> objects, int background, long textureSeed) {

    /** Copies the object list. */
    public Scene {
        objects = List.copyOf(objects);
    }
}
