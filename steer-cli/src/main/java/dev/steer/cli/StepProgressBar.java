package dev.steer.cli;

import dev.steer.core.generation.ProgressListener;
import dev.steer.core.generation.StepProgress;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A terminal progress bar (on standard error, so standard output stays the program's results) fed
 * by a generation's {@link ProgressListener}: one tick per denoising step over all images of the
 * call, with the last steered step's loss as its message.
 */
final class StepProgressBar implements ProgressListener, AutoCloseable {
    private final ProgressBar bar;

    /** A bar over {@code images} images of {@code steps} steps each. */
    StepProgressBar(String task, int images, int steps) {
        this.bar = new ProgressBarBuilder().setTaskName(task).setInitialMax((long) images * steps).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(200).setUnit(" steps", 1).build();
    }

    @Override
    public void onStep(StepProgress p) {
        bar.stepTo((long) p.image() * p.steps() + p.step() + 1);
        if (p.steering() != null) {
            bar.setExtraMessage(String.format(Locale.ROOT, "steered step %d: loss %.3g -> %.3g", p.step(), p.steering().lossBefore(),
                    p.steering().lossAfter()));
        }
    }

    @Override
    public void close() {
        bar.close();
    }
}
