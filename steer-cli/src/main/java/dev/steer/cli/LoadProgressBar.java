package dev.steer.cli;

import ai.djl.util.Progress;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A terminal progress bar (standard error) for the library's loading progress ({@code optProgress},
 * {@code SamplerOptions.withProgress}): the backends report weight bytes (LibTorch) or graphs (ONNX
 * Runtime); and for the ShapeWorld trainers' steps (their builders' {@code optProgress}, a new bar per
 * training stage). Only on a terminal: the progress bar library cannot tell whether standard error is
 * one, so {@link #onTerminal()} gives none when the JVM has no console (output redirected or piped).
 */
final class LoadProgressBar implements Progress, AutoCloseable {
    private static final long MIB = 1L << 20;
    private ProgressBar bar;
    private long max;

    private LoadProgressBar() {
    }

    /** A bar when the program runs on a terminal, else null (no progress reported). */
    static LoadProgressBar onTerminal() {
        return System.console() != null ? new LoadProgressBar() : null;
    }

    /**
     * A counting bar over {@code max} items ({@code -1}: unknown) on standard error when the program runs
     * on a terminal, else null.
     */
    static ProgressBar counter(String task, long max, String unit) {
        return System.console() == null ? null : new ProgressBarBuilder().setTaskName(task).setInitialMax(max)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200).setUnit(unit, 1).build();
    }

    @Override
    public void reset(String message, long max, String trailingMessage) {
        close();
        this.max = max;
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(message).setInitialMax(max).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(200);
        b = max >= MIB ? b.setUnit(" MiB", MIB) : b.setUnit("", 1);
        bar = b.build();
        if (trailingMessage != null) {
            bar.setExtraMessage(trailingMessage);
        }
    }

    @Override
    public void start(long initialProgress) {
        if (bar != null) {
            bar.stepTo(initialProgress);
        }
    }

    @Override
    public void increment(long increment) {
        if (bar != null) {
            bar.stepBy(increment);
        }
    }

    @Override
    public void update(long progress, String message) {
        if (bar != null) {
            bar.stepTo(progress);
            if (message != null) {
                bar.setExtraMessage(message);
            }
        }
    }

    @Override
    public void end() {
        if (bar != null) {
            bar.stepTo(max);
        }
        close();
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
