package dev.steer.spark;

import java.io.Serializable;

/**
 * Hears each result row on the Spark task thread that produced it, right after it was produced
 * (progress, metrics). A listener that throws fails the task, which Spark then retries like any
 * failed task; the row in hand is not written by that attempt.
 */
@FunctionalInterface
public interface RowListener extends Serializable {

    /**
     * Called after each row.
     *
     * @param id the request's id
     * @param error the row's error, or null when an image was generated
     */
    void afterRow(String id, String error);
}
