package dev.steer.core.scheduler;

import java.util.Objects;

/** The step bookkeeping shared by every {@link Schedule}: timesteps, ordering checks, argument checks. */
abstract class BaseSchedule implements Schedule {
    final int[] timesteps;
    final float[] modelTimesteps;
    private int next;

    BaseSchedule(int[] timesteps, float[] modelTimesteps) {
        this.timesteps = timesteps;
        this.modelTimesteps = modelTimesteps;
    }

    BaseSchedule(int[] timesteps) {
        this(timesteps, toFloat(timesteps));
    }

    private static float[] toFloat(int[] t) {
        float[] f = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            f[i] = t[i];
        }
        return f;
    }

    @Override
    public final int[] timesteps() {
        return timesteps.clone();
    }

    @Override
    public final float[] modelTimesteps() {
        return modelTimesteps.clone();
    }

    @Override
    public final int size() {
        return timesteps.length;
    }

    @Override
    public final int stepIndex() {
        return next;
    }

    @Override
    public float initNoiseSigma() {
        return 1f;
    }

    @Override
    public final float[] scaleModelInput(float[] sample, int stepIndex) {
        requireCurrent(stepIndex, "scaleModelInput");
        Objects.requireNonNull(sample, "sample");
        return scale(sample, stepIndex);
    }

    @Override
    public final float[] step(float[] modelOutput, int stepIndex, float[] sample) {
        requireCurrent(stepIndex, "step");
        Numerics.requireSameLength(modelOutput, "modelOutput", sample, "sample");
        float[] prev = doStep(modelOutput, stepIndex, sample);
        next++;
        return prev;
    }

    @Override
    public final float[] predictOriginalSample(float[] modelOutput, int stepIndex, float[] sample) {
        Objects.checkIndex(stepIndex, size());
        Numerics.requireSameLength(modelOutput, "modelOutput", sample, "sample");
        return predictX0(modelOutput, stepIndex, sample);
    }

    /** scale_model_input; the default returns the sample unchanged, as DDIM, DPM and PNDM do. */
    float[] scale(float[] sample, int i) {
        return sample;
    }

    abstract float[] doStep(float[] modelOutput, int i, float[] sample);

    abstract float[] predictX0(float[] modelOutput, int i, float[] sample);

    private void requireCurrent(int stepIndex, String what) {
        if (stepIndex != next || next >= size()) {
            String state = next >= size() ? "all " + size() + " steps are done" : "the current step is " + next;
            throw new IllegalStateException(what + "(" + stepIndex + ") out of order: " + state + "; steps run in order 0.."
                    + (size() - 1) + ", each once (take a new Schedule from Scheduler.schedule for another run)");
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[step " + next + " of " + size() + "]";
    }
}
