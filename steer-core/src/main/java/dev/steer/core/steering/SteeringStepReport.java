package dev.steer.core.steering;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * What steering did at one denoising step.
 *
 * @param stepIndex the denoising step (0 = first)
 * @param lossBefore loss before the first refinement
 * @param lossAfter loss after the last accepted refinement
 * @param iterations refinement iterations run
 * @param probabilities the classifier's class probabilities after the last accepted refinement
 * @param classNames the classifier's class names, in the order of {@code probabilities} (empty when
 *     the steerer was not told them)
 * @param time time spent on this step's refinements
 * @param abandoned non-null when steering of this step stopped early because the loss or gradient
 *     was not finite (the offending update was undone); says which
 */
public record SteeringStepReport(int stepIndex, float lossBefore, float lossAfter, int iterations, float[] probabilities,
        List<String> classNames, Duration time, String abandoned) {

    /** Copies the names. */
    public SteeringStepReport {
        classNames = List.copyOf(classNames);
    }

    /**
     * The report as one line, e.g. {@code step 2: loss 7.0448 -> 0.0075 after 10 iterations (0.41 s);
     * above 0.993, below 0.001, left of 0.004, right of 0.002}.
     */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "step %d: loss %.4f -> %.4f after %d iteration%s (%.2f s)",
                stepIndex, lossBefore, lossAfter, iterations, iterations == 1 ? "" : "s", time.toNanos() / 1e9));
        for (int i = 0; i < probabilities.length; i++) {
            String name = i < classNames.size() ? classNames.get(i) : "class " + i;
            s.append(i == 0 ? "; " : ", ").append(name).append(String.format(Locale.ROOT, " %.3f", probabilities[i]));
        }
        if (abandoned != null) {
            s.append("; abandoned: ").append(abandoned);
        }
        return s.toString();
    }
}
