package dev.steer.spark.job;

import com.google.gson.GsonBuilder;
import java.util.Locale;

/**
 * What one run of the dataset job did.
 *
 * @param requested rows in the request table
 * @param duplicates rows dropped because another row had the same id (one of them is generated)
 * @param skipped requests already in the output (written by an earlier run), not generated again
 * @param written result rows this run added to the output (generated images and bad rows)
 * @param generated of {@code written}, the rows with an image
 * @param errors of {@code written}, the bad rows (an {@code error} and no image)
 * @param batches batches written
 * @param outputRows rows in the output after this run
 * @param outputErrors bad rows in the output after this run
 * @param pngFiles image files written this run ({@code --png}; files already there are kept)
 * @param seconds the run's wall-clock time, from reading the requests to the summary
 * @param generationSeconds the time spent writing batches (generation and the Parquet commit)
 */
public record JobSummary(long requested, long duplicates, long skipped, long written, long generated, long errors, int batches,
        long outputRows, long outputErrors, long pngFiles, double seconds, double generationSeconds) {

    /** Rows written per minute of batch time. */
    public double rowsPerMinute() {
        return generationSeconds > 0 ? written / generationSeconds * 60 : 0;
    }

    /** The summary as JSON (what {@code job-summary.json} holds). */
    public String toJson() {
        var o = new GsonBuilder().setPrettyPrinting().create().toJsonTree(this).getAsJsonObject();
        o.addProperty("rowsPerMinute", rowsPerMinute());
        return new GsonBuilder().setPrettyPrinting().create().toJson(o);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d requested, %d duplicate ids dropped, %d already written (skipped), %d written (%d images, "
                + "%d errors) in %d batches, %.1f s (%.1f s writing batches, %.1f rows/min); output now %d rows (%d errors); %d PNG "
                + "files written", requested, duplicates, skipped, written, generated, errors, batches, seconds, generationSeconds,
                rowsPerMinute(), outputRows, outputErrors, pngFiles);
    }
}
