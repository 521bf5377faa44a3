/**
 * Research programs that are not part of the {@code steer} command: {@link dev.steer.examples.WordMapYardstick}
 * measures how well a ShapeWorld FLUX checkpoint's word maps single out their objects.
 */
package dev.steer.examples;
