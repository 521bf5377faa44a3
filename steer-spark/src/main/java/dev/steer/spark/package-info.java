/**
 * Steered image datasets on Apache Spark: {@link dev.steer.spark.SteerTransform} turns a DataFrame of
 * requests into a DataFrame of images and steering summaries, each executor JVM loading the model
 * once ({@link dev.steer.spark.ExecutorModels}, closed by {@link dev.steer.spark.SteerSparkPlugin}).
 * The resumable dataset job is in {@link dev.steer.spark.job}.
 */
package dev.steer.spark;
