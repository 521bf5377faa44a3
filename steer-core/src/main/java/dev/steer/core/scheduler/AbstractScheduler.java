package dev.steer.core.scheduler;

import java.util.Objects;

/** What every scheduler shares: the config, the training noise schedule, argument checks. */
abstract class AbstractScheduler implements Scheduler {
    final SchedulerType type;
    final SchedulerConfig config;
    /** float32 alphas_cumprod, as diffusers holds them. */
    final float[] alphasCumprod;
    final int numTrainTimesteps;
    final boolean vPrediction;

    AbstractScheduler(SchedulerType type, SchedulerConfig config) {
        this.type = type;
        this.config = Objects.requireNonNull(config, "config");
        this.numTrainTimesteps = config.numTrainTimesteps();
        this.alphasCumprod = Numerics.alphasCumprod(Numerics.betas(config));
        this.vPrediction = config.predictionType().equals("v_prediction");
    }

    @Override
    public final SchedulerType type() {
        return type;
    }

    @Override
    public final SchedulerConfig config() {
        return config;
    }

    @Override
    public final double[] alphasCumprod() {
        double[] out = new double[alphasCumprod.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = alphasCumprod[i];
        }
        return out;
    }

    final String timestepSpacing() {
        return config.timestepSpacingFor(type);
    }

    final void checkNumInferenceSteps(int n) {
        if (n < 1 || n > numTrainTimesteps) {
            throw new IllegalArgumentException("numInferenceSteps " + n + " must be in [1, " + numTrainTimesteps
                    + "] (num_train_timesteps)");
        }
    }

    /** Refuses an unsupported value of a class-specific option, naming the class, key and value. */
    final IllegalArgumentException unsupported(String key, Object value, String supported) {
        return new IllegalArgumentException(type.diffusersClassName() + ": " + key + " \"" + value + "\" is not supported ("
                + supported + ")");
    }

    @Override
    public String toString() {
        return type.diffusersClassName() + "[" + config + "]";
    }
}
