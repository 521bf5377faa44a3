package dev.steer.spark;

import java.util.Map;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.SparkPlugin;

/**
 * Closes the models an executor loaded ({@link ExecutorModels#closeAll()}) when the executor stops.
 * Enable it with {@code spark.plugins=dev.steer.spark.SteerSparkPlugin} ({@link SteerTransform#PLUGIN_CONF});
 * the dataset job does. Without it the models live until the executor's JVM exits.
 */
public final class SteerSparkPlugin implements SparkPlugin {

    /** No driver part. */
    @Override
    public DriverPlugin driverPlugin() {
        return null;
    }

    /** The executor part: closes the models on shutdown. */
    @Override
    public ExecutorPlugin executorPlugin() {
        return new ExecutorPlugin() {
            @Override
            public void init(org.apache.spark.api.plugin.PluginContext ctx, Map<String, String> extraConf) {
                // models load lazily, on the first row
            }

            @Override
            public void shutdown() {
                ExecutorModels.closeAll();
            }
        };
    }
}
