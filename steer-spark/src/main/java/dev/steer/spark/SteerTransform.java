package dev.steer.spark;

import dev.steer.core.generation.GenerationCancelledException;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.ModelDefaults;
import dev.steer.core.image.PngImages;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringRequest;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;

/**
 * The transformation from a DataFrame of requests ({@link RequestColumns}) to a DataFrame of results
 * ({@link ResultColumns#SCHEMA}), one result row per request row, computed where the rows are: each
 * executor JVM loads the model once ({@link ExecutorModels}) and every task it runs shares it.
 *
 * <pre>{@code
 * SteerTransform steer = SteerTransform.builder(ModelSpec.of("/shared/models/shapeworld"))
 *         .optSettings(SteerSettings.DEFAULTS.withSteps(20).withGuidance(5f))
 *         .optScorer(new ShapeBenchScorer())
 *         .build();
 * Dataset<Row> results = steer.transform(spark.read().json("prompts.jsonl"));
 * }</pre>
 *
 * <p>A bad row (an empty prompt, a value that does not parse, a relation the parser refuses, a word
 * the prompt does not have, steering asked without a classifier: anything the library refuses with an
 * {@link IllegalArgumentException}) becomes a result row with only {@code error} set; it never fails
 * the task. Anything else (the model does not load, native memory runs out) fails the task, which
 * Spark retries. Like any Spark transformation it is lazy, and computing it twice generates twice:
 * write it once ({@link dev.steer.spark.job.SteerDatasetJob} does, resumably) or cache it.
 *
 * <p>Set {@link #PLUGIN_CONF} to {@link #PLUGIN} on the session so that executors close their models
 * when they stop.
 */
public final class SteerTransform implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The Spark setting that loads plugins. */
    public static final String PLUGIN_CONF = "spark.plugins";

    /** The plugin that closes the executors' models ({@link SteerSparkPlugin}). */
    public static final String PLUGIN = "dev.steer.spark.SteerSparkPlugin";

    private final ModelSpec model;
    private final SteerSettings settings;
    private final ImageScorer scorer;
    private final RowListener listener;

    private SteerTransform(Builder b) {
        this.model = b.model;
        this.settings = b.settings;
        this.scorer = b.scorer;
        this.listener = b.listener;
    }

    /** A builder for {@code model}. */
    public static Builder builder(ModelSpec model) {
        return new Builder(model);
    }

    /** The model the executors load. */
    public ModelSpec model() {
        return model;
    }

    /** The settings of rows that give none. */
    public SteerSettings settings() {
        return settings;
    }

    /**
     * The results of {@code requests}, partitioned as they are (repartition the requests to spread them
     * over the executors).
     *
     * @throws IllegalArgumentException when the request table has no prompt column or a column of a wrong type
     */
    public Dataset<Row> transform(Dataset<Row> requests) {
        RequestColumns columns = RequestColumns.of(requests.schema());
        return requests.mapPartitions(new Generate(this, columns), Encoders.row(ResultColumns.SCHEMA));
    }

    /**
     * The result row of one request row, generated on this JVM's shared model (what each task does per row;
     * for tests and for callers outside Spark's transformations).
     *
     * @throws InterruptedException when the calling thread was interrupted (the generation is cancelled)
     */
    public Row generate(RequestColumns columns, Row requestRow) throws InterruptedException {
        RequestColumns.Request r = columns.read(requestRow);
        Row out = r.error() != null ? ResultColumns.error(r, r.error()) : generate(r);
        if (listener != null) {
            listener.afterRow(r.id(), out.isNullAt(out.length() - 1) ? null : out.getString(out.length() - 1));
        }
        return out;
    }

    private Row generate(RequestColumns.Request r) throws InterruptedException {
        Outcome o;
        try {
            o = ExecutorModels.call(model, m -> {
                GenerationRequest request;
                try {
                    request = request(m, r);
                } catch (IllegalArgumentException e) {
                    return new Outcome(null, 0, e.getMessage());
                }
                long t0 = System.nanoTime();
                try {
                    GenerationResult result = m.sampler().generate(request);
                    return new Outcome(result, (System.nanoTime() - t0) / 1e9, null);
                } catch (IllegalArgumentException e) {
                    return new Outcome(null, 0, e.getMessage());
                }
            });
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof GenerationCancelledException c) {
                InterruptedException ie = new InterruptedException("generation of " + r.id() + " cancelled");
                ie.initCause(c);
                throw ie;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        }
        if (o.error() != null) {
            return ResultColumns.error(r, o.error() == null || o.error().isBlank() ? "refused without a message" : o.error());
        }
        byte[] png;
        try {
            png = PngImages.encode(o.result().image(), o.result().metadata());
        } catch (IOException e) {
            throw new UncheckedIOException("PNG encoding of " + r.id() + " failed", e);
        }
        Map<String, Double> scores = scorer == null ? null : scorer.score(o.result().image(), r.prompt());
        return ResultColumns.generated(r, o.result(), png, o.seconds(), scores);
    }

    /** What the model thread hands back: a result, or a bad row's error. */
    private record Outcome(GenerationResult result, double seconds, String error) {
    }

    /** The generation request of a row: the row's values, else the settings', else the model's defaults. */
    private GenerationRequest request(ExecutorModels.LoadedModel m, RequestColumns.Request r) {
        ModelDefaults d = m.sampler().defaults();
        Integer steps = first(r.integer("steps"), settings.steps());
        Double guidance = r.number("guidance") != null ? r.number("guidance")
                : settings.guidance() != null ? Double.valueOf(settings.guidance()) : null;
        Integer width = first(r.integer("width"), settings.width());
        Integer height = first(r.integer("height"), settings.height());
        GenerationRequest.Builder b = GenerationRequest.builder(r.prompt())
                .optSeed(r.seed())
                .optSteps(steps != null ? steps : d.steps())
                .optGuidanceScale(guidance != null ? guidance.floatValue() : d.guidanceScale())
                .optSize(width != null ? width : 0, height != null ? height : 0);
        if (r.text("negative_prompt") != null) {
            b.optNegativePrompt(r.text("negative_prompt"));
        }
        boolean steer = r.bool("steer") != null ? r.bool("steer") : settings.steer();
        if (steer) {
            if (!m.canSteer()) {
                throw new IllegalArgumentException("steering asked, but no relation classifier is loaded (name one, or set steer "
                        + "to false)");
            }
            SteeringConfig c = m.recommended();
            Double stepSize = r.number("step_size") != null ? r.number("step_size")
                    : settings.stepSize() != null ? Double.valueOf(settings.stepSize()) : null;
            Integer iterations = first(r.integer("iterations"), settings.iterations());
            Double end = r.number("end_fraction") != null ? r.number("end_fraction") : settings.endFraction();
            if (stepSize != null) {
                c = c.withStepSize(stepSize.floatValue());
            }
            if (iterations != null) {
                c = c.withMaxIterations(iterations);
            }
            if (end != null) {
                c = c.withRange(c.startFraction(), end);
            }
            String relations = r.text("relations");
            SteeringRequest s = relations != null && !relations.isBlank()
                    ? new SteeringRequest(ExplicitRelations.parse(relations), c, null, null)
                    : SteeringRequest.fromPrompt().withConfig(c);
            b.optSteering(s);
        }
        return b.build();
    }

    private static <T> T first(T a, T b) {
        return a != null ? a : b;
    }

    /** The per-partition function: a lazy iterator of result rows. */
    private static final class Generate implements MapPartitionsFunction<Row, Row> {
        private static final long serialVersionUID = 1L;
        private final SteerTransform transform;
        private final RequestColumns columns;

        Generate(SteerTransform transform, RequestColumns columns) {
            this.transform = transform;
            this.columns = columns;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> input) {
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return input.hasNext();
                }

                @Override
                public Row next() {
                    try {
                        return transform.generate(columns, input.next());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("task interrupted while generating", e);
                    }
                }
            };
        }
    }

    /** Builds {@link SteerTransform}s. */
    public static final class Builder {
        private final ModelSpec model;
        private SteerSettings settings = SteerSettings.DEFAULTS;
        private ImageScorer scorer;
        private RowListener listener;

        private Builder(ModelSpec model) {
            this.model = Objects.requireNonNull(model, "model");
        }

        /** The settings of rows that give none (default: {@link SteerSettings#DEFAULTS}). */
        public Builder optSettings(SteerSettings s) {
            this.settings = Objects.requireNonNull(s, "settings");
            return this;
        }

        /** Scores every image into the {@code scores} column (default: none, the column is null). */
        public Builder optScorer(ImageScorer s) {
            this.scorer = s;
            return this;
        }

        /** Hears every row on its task thread (default: none). */
        public Builder optListener(RowListener l) {
            this.listener = l;
            return this;
        }

        /** The transformation. */
        public SteerTransform build() {
            return new SteerTransform(this);
        }
    }
}
