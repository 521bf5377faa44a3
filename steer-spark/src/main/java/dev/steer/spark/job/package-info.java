/**
 * The resumable dataset job ({@link dev.steer.spark.job.SteerDatasetJob}): a request table in, a
 * Parquet table of images and steering summaries out, optionally a folder of PNG files with a JSON
 * Lines manifest; every request written exactly once across task retries and reruns.
 */
package dev.steer.spark.job;
