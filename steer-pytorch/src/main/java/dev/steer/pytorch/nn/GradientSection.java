package dev.steer.pytorch.nn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The one way this library records gradients on LibTorch: a DJL {@link GradientCollector} opened
 * under one process-wide lock, for the time of one forward and backward pass.
 *
 * <p>Why: DJL's PyTorch collector is process-wide. Only one may be open at a time in the whole JVM;
 * opening a second, from any thread, fails with "A PtGradientCollector is already collecting".
 * (LibTorch's own grad mode is per thread, so the lock is the only thing that has to be shared.)
 * Every gradient this library computes (each steering evaluation, each classifier or ShapeWorld
 * training step) is computed inside a section, so several pipelines, each used by its own thread,
 * can steer at the same time with the same results as one after the other: their gradient
 * sections take turns, and everything else (prompt encoding, the guided denoiser calls, the
 * scheduler, decoding) runs in parallel.
 *
 * <p>Code outside the library that opens its own {@code GradientCollector} while the library may
 * be steering or training on another thread must open it through this class too (or hold
 * {@link #lock()} while it is open), or one of the two fails as above.
 *
 * <pre>{@code
 * try (GradientSection gc = GradientSection.open()) {
 *     NDArray loss = ...;   // forward, recording
 *     gc.backward(loss);
 * }   // collector closed, lock released
 * }</pre>
 */
public final class GradientSection implements AutoCloseable {
    private static final ReentrantLock LOCK = new ReentrantLock(true);
    private static final java.util.concurrent.atomic.AtomicLong WAITED_NANOS = new java.util.concurrent.atomic.AtomicLong();
    private static final java.util.concurrent.atomic.AtomicLong HELD_NANOS = new java.util.concurrent.atomic.AtomicLong();

    private final GradientCollector collector;
    private final long openedNanos = System.nanoTime();
    private boolean closed;

    private GradientSection(GradientCollector collector) {
        this.collector = collector;
    }

    /** Waits for the lock, then opens a collector on the default engine. */
    public static GradientSection open() {
        return open(Engine.getInstance());
    }

    /** Waits for the lock, then opens a collector on {@code engine}. */
    public static GradientSection open(Engine engine) {
        long t0 = System.nanoTime();
        LOCK.lock();
        WAITED_NANOS.addAndGet(System.nanoTime() - t0);
        try {
            return new GradientSection(engine.newGradientCollector());
        } catch (RuntimeException | Error e) {
            LOCK.unlock();
            throw e;
        }
    }

    /** The process-wide lock the sections hold, for code that opens DJL collectors itself. */
    public static ReentrantLock lock() {
        return LOCK;
    }

    /**
     * Total time threads have waited for the lock since the JVM started (telemetry: how much the
     * serialisation of gradient sections costs concurrent callers).
     */
    public static long waitedMillis() {
        return TimeUnit.NANOSECONDS.toMillis(WAITED_NANOS.get());
    }

    /** Total time sections have been open since the JVM started (the part of the work that is serialised). */
    public static long heldMillis() {
        return TimeUnit.NANOSECONDS.toMillis(HELD_NANOS.get());
    }

    /** Back-propagates from {@code target} (a scalar) to every array that requires a gradient. */
    public void backward(NDArray target) {
        collector.backward(target);
    }

    /** Closes the collector and releases the lock; a second call does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            collector.close();
        } finally {
            HELD_NANOS.addAndGet(System.nanoTime() - openedNanos);
            LOCK.unlock();
        }
    }
}
