package dev.steer.spark;

import dev.steer.core.engine.Backends;
import dev.steer.core.engine.SamplerOptions;
import dev.steer.core.generation.Sampler;
import dev.steer.core.steering.SteeringConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models of one executor JVM: each {@link ModelSpec} is loaded once, on first use, and shared by
 * every task the JVM runs until {@link #closeAll()} (which {@link SteerSparkPlugin} calls when the
 * executor stops).
 *
 * <p>Every call on a model runs on that model's own long-lived thread (a daemon with a
 * {@value #STACK_BYTES}-byte stack), never on Spark's task thread: the model is loaded, used and
 * closed on one thread, LibTorch's backward pass gets a deep native stack whatever the JVM's
 * {@code -Xss}, and a Spark task that is killed or interrupted cancels its generation without
 * disturbing the model. A spec with {@link ModelSpec#modelsPerExecutor()} copies has as many such
 * threads; a task takes whichever copy is free and waits when none is.
 */
public final class ExecutorModels {
    /** The stack size of the model threads. */
    public static final long STACK_BYTES = 64L << 20;

    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);
    private static final Map<ModelSpec, Pool> POOLS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    private ExecutorModels() {
    }

    /**
     * Runs {@code call} with a loaded copy of {@code spec}'s model on that copy's thread, loading the
     * model first when this JVM has not yet. Waits for a free copy. An interrupt of the calling thread
     * interrupts the model's thread (which stops a generation within one step) and is rethrown as
     * {@link InterruptedException}.
     *
     * @throws ExecutionException wrapping whatever {@code call} threw, or an {@link IllegalStateException} when
     *     the model could not be loaded
     */
    public static <T> T call(ModelSpec spec, Function<LoadedModel, T> call) throws InterruptedException, ExecutionException {
        Pool pool = POOLS.computeIfAbsent(spec, Pool::new);
        return pool.call(call);
    }

    /** How many models this JVM has loaded since it started (a model loaded once and shared counts once). */
    public static int loadCount() {
        return LOADS.get();
    }

    /** How many models are loaded now. */
    public static int openCount() {
        int n = 0;
        for (Pool p : POOLS.values()) {
            n += p.open();
        }
        return n;
    }

    /** Closes every model of this JVM, each on its own thread, and stops the threads; later calls load again. */
    public static void closeAll() {
        List<Pool> pools = new ArrayList<>(POOLS.values());
        POOLS.clear();
        for (Pool p : pools) {
            p.close();
        }
    }

    /**
     * A model loaded in this JVM, as a call sees it.
     *
     * @param sampler the loaded pipeline (used on the calling model thread only)
     * @param options what was loaded: the resolved model folder and classifier
     * @param recommended the steering settings the classifier was tuned with (its {@code steering.json}, else the
     *     model family's), or null without a classifier
     */
    public record LoadedModel(Sampler sampler, SamplerOptions options, SteeringConfig recommended) {

        /** Whether a relation classifier was loaded (steering is possible). */
        public boolean canSteer() {
            return options.relationClassifier() != null;
        }
    }

    /** The copies of one spec's model. */
    private static final class Pool {
        private final BlockingQueue<Worker> idle;
        private final List<Worker> all = new ArrayList<>();

        Pool(ModelSpec spec) {
            idle = new ArrayBlockingQueue<>(spec.modelsPerExecutor());
            for (int i = 0; i < spec.modelsPerExecutor(); i++) {
                Worker w = new Worker(spec, i);
                all.add(w);
                idle.add(w);
            }
        }

        <T> T call(Function<LoadedModel, T> call) throws InterruptedException, ExecutionException {
            Worker w = idle.take();
            try {
                return w.call(call);
            } finally {
                idle.add(w);
            }
        }

        int open() {
            int n = 0;
            for (Worker w : all) {
                n += w.loaded != null ? 1 : 0;
            }
            return n;
        }

        void close() {
            for (Worker w : all) {
                w.close();
            }
        }
    }

    /** One copy of a model and the thread it lives on. */
    private static final class Worker {
        private final ModelSpec spec;
        private final ExecutorService thread;
        private volatile LoadedModel loaded;

        Worker(ModelSpec spec, int index) {
            this.spec = spec;
            String name = "steer-model-" + index;
            this.thread = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(null, r, name, STACK_BYTES);
                t.setDaemon(true);
                return t;
            });
        }

        <T> T call(Function<LoadedModel, T> call) throws InterruptedException, ExecutionException {
            Callable<T> job = () -> {
                if (loaded == null) {
                    long t0 = System.nanoTime();
                    Sampler sampler;
                    SamplerOptions options;
                    try {
                        options = spec.samplerOptions();
                        sampler = Backends.open(spec.backend(), options);
                    } catch (RuntimeException e) {
                        throw new IllegalStateException("could not load the model " + spec.model() + " on " + spec.backend()
                                + ": " + e.getMessage(), e);
                    }
                    SteeringConfig recommended = options.relationClassifier() == null ? null
                            : SteeringConfig.recommendedFor(options.relationClassifier(), sampler.defaults().steering(), spec.backend());
                    loaded = new LoadedModel(sampler, options, recommended);
                    LOADS.incrementAndGet();
                    LOG.info("loaded {} on {} for this executor in {} ms", sampler.modelDescription(), spec.backend(),
                            (System.nanoTime() - t0) / 1_000_000);
                }
                Thread.interrupted(); // an interrupt meant for an earlier call must not stop this one
                return call.apply(loaded);
            };
            Future<T> f = thread.submit(job);
            try {
                return f.get();
            } catch (InterruptedException e) {
                f.cancel(true);
                throw e;
            }
        }

        void close() {
            Future<?> f = thread.submit(() -> {
                LoadedModel m = loaded;
                loaded = null;
                if (m != null) {
                    m.sampler().close();
                    LOG.info("closed {}", m.sampler().modelDescription());
                }
            });
            try {
                f.get(5, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
                LOG.warn("closing the model of {} failed", spec.model(), e);
            } finally {
                thread.shutdownNow();
            }
        }
    }
}
