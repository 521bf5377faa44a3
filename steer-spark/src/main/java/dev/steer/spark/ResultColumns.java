package dev.steer.spark;

import dev.steer.core.generation.GenerationResult;
import dev.steer.core.steering.SteeringStepReport;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The columns of a result table ({@link #SCHEMA}), one row per request: the request's id, prompt and
 * seed, then the image and what steering did, or, for a bad row, only {@code error}.
 *
 * <table>
 * <caption>Result columns</caption>
 * <tr><th>column</th><th>type</th><th>meaning</th></tr>
 * <tr><td>{@code id}, {@code prompt}, {@code seed}</td><td>string, string, long</td><td>the request</td></tr>
 * <tr><td>{@code png}</td><td>binary</td><td>the image as a PNG file, with {@code metadata} in its text chunks</td></tr>
 * <tr><td>{@code width}, {@code height}</td><td>int</td><td>the image's size in pixels</td></tr>
 * <tr><td>{@code metadata}</td><td>map&lt;string, string&gt;</td><td>the PNG's text chunks (prompt, seed, steps, guidance,
 *     scheduler, model, steering relations, settings and summary)</td></tr>
 * <tr><td>{@code steered}</td><td>boolean</td><td>whether steering was asked</td></tr>
 * <tr><td>{@code steered_steps}</td><td>int</td><td>denoising steps steering refined</td></tr>
 * <tr><td>{@code loss_before}, {@code loss_after}</td><td>float</td><td>the classifier's loss before the first steered
 *     step's refinement and after the last one (null when nothing was steered)</td></tr>
 * <tr><td>{@code probabilities}, {@code class_names}</td><td>array&lt;float&gt;, array&lt;string&gt;</td><td>the
 *     classifier's class probabilities after the last steered step, and the classes' names</td></tr>
 * <tr><td>{@code unet_passes}</td><td>int</td><td>denoiser calls, steering's included</td></tr>
 * <tr><td>{@code seconds}</td><td>double</td><td>the generation's time on the executor (loading the model and PNG
 *     encoding excluded)</td></tr>
 * <tr><td>{@code scores}</td><td>map&lt;string, double&gt;</td><td>the {@link ImageScorer}'s scores (null without a
 *     scorer)</td></tr>
 * <tr><td>{@code error}</td><td>string</td><td>why the row was not generated (null for a generated row)</td></tr>
 * </table>
 */
public final class ResultColumns {
    /** The result table's schema. */
    public static final StructType SCHEMA = new StructType(new StructField[] {
        DataTypes.createStructField("id", DataTypes.StringType, false),
        DataTypes.createStructField("prompt", DataTypes.StringType, true),
        DataTypes.createStructField("seed", DataTypes.LongType, false),
        DataTypes.createStructField("png", DataTypes.BinaryType, true),
        DataTypes.createStructField("width", DataTypes.IntegerType, true),
        DataTypes.createStructField("height", DataTypes.IntegerType, true),
        DataTypes.createStructField("metadata", DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType), true),
        DataTypes.createStructField("steered", DataTypes.BooleanType, true),
        DataTypes.createStructField("steered_steps", DataTypes.IntegerType, true),
        DataTypes.createStructField("loss_before", DataTypes.FloatType, true),
        DataTypes.createStructField("loss_after", DataTypes.FloatType, true),
        DataTypes.createStructField("probabilities", DataTypes.createArrayType(DataTypes.FloatType, false), true),
        DataTypes.createStructField("class_names", DataTypes.createArrayType(DataTypes.StringType, false), true),
        DataTypes.createStructField("unet_passes", DataTypes.IntegerType, true),
        DataTypes.createStructField("seconds", DataTypes.DoubleType, true),
        DataTypes.createStructField("scores", DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType), true),
        DataTypes.createStructField("error", DataTypes.StringType, true),
    });

    private ResultColumns() {
    }

    /** The row of a bad request. */
    static Row error(RequestColumns.Request request, String error) {
        return RowFactory.create(request.id(), request.prompt(), request.seed(), null, null, null, null, null, null, null, null, null,
                null, null, null, null, error);
    }

    /** The row of a generated image. */
    static Row generated(RequestColumns.Request request, GenerationResult result, byte[] png, double seconds,
            Map<String, Double> scores) {
        List<SteeringStepReport> reports = result.steering();
        boolean steered = result.request().steering() != null;
        Float before = reports.isEmpty() ? null : reports.get(0).lossBefore();
        Float after = reports.isEmpty() ? null : reports.get(reports.size() - 1).lossAfter();
        Float[] probabilities = null;
        String[] classNames = null;
        if (!reports.isEmpty()) {
            SteeringStepReport last = reports.get(reports.size() - 1);
            probabilities = new Float[last.probabilities().length];
            for (int i = 0; i < probabilities.length; i++) {
                probabilities[i] = last.probabilities()[i];
            }
            classNames = last.classNames().toArray(new String[0]);
        }
        return RowFactory.create(request.id(), request.prompt(), request.seed(), png, result.image().getWidth(),
                result.image().getHeight(), scala(result.metadata()), steered, reports.size(), before, after,
                probabilities == null ? null : scala.jdk.javaapi.CollectionConverters.asScala(List.of(probabilities)).toSeq(),
                classNames == null ? null : scala.jdk.javaapi.CollectionConverters.asScala(List.of(classNames)).toSeq(),
                result.timings().unetCalls(), seconds, scores == null ? null : scala(scores), null);
    }

    private static <K, V> scala.collection.Map<K, V> scala(Map<K, V> m) {
        return scala.jdk.javaapi.CollectionConverters.asScala(m);
    }
}
