/**
 * ShapeWorld, the synthetic world of coloured shapes the embedded model ({@code models/shapeworld}) was
 * trained on: scenes whose layout is known exactly ({@link dev.steer.core.shapeworld.ShapeWorld},
 * {@link dev.steer.core.shapeworld.Scene}), their alt-text style captions, the rendered relation scenes
 * its classifier is trained from, and ShapeBench, GenEval's position task scored by an exact detector
 * ({@link dev.steer.core.shapeworld.ShapeBench}, {@link dev.steer.core.shapeworld.ShapeDetector}).
 */
package dev.steer.core.shapeworld;
