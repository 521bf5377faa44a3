package dev.steer.pytorch.internal.weights;

import ai.djl.util.Progress;
import dev.steer.pytorch.nn.Module;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Reports a pipeline's weight loading to an optional {@link Progress} (the builders' {@code optProgress}):
 * {@code reset(message, total bytes)} and {@code start(0)} when created, {@code increment(bytes)} per
 * tensor read, {@code end()} when everything is loaded. Without a listener it does nothing. It never
 * prints.
 */
public final class LoadProgress implements LongConsumer {
    private final Progress progress;

    private LoadProgress(Progress progress) {
        this.progress = progress;
    }

    /** Starts reporting {@code total} bytes to {@code progress} (nothing when it is null). */
    public static LoadProgress start(Progress progress, String message, long total) {
        if (progress != null) {
            progress.reset(message, Math.max(1, total));
            progress.start(0);
        }
        return new LoadProgress(progress);
    }

    /** The bytes of {@code files} (a file that cannot be read counts 0; loading reports it). */
    @SafeVarargs
    public static long fileBytes(List<Path>... files) {
        long total = 0;
        for (List<Path> list : files) {
            for (Path f : list) {
                try {
                    total += Files.size(f);
                } catch (IOException e) {
                    // the loader names the file
                }
            }
        }
        return total;
    }

    /** The float32 bytes of every parameter of {@code modules} (what random weights fill). */
    public static long parameterBytes(Module... modules) {
        long total = 0;
        for (Module m : modules) {
            total += m.parameterCount() * Float.BYTES;
        }
        return total;
    }

    /** {@code bytes} more were loaded. */
    @Override
    public void accept(long bytes) {
        if (progress != null) {
            progress.increment(bytes);
        }
    }

    /** Everything was loaded. */
    public void end() {
        if (progress != null) {
            progress.end();
        }
    }
}
