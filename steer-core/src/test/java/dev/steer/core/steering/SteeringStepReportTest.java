package dev.steer.core.steering;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class SteeringStepReportTest {
    @Test
    void readsAsOneLineWithTheRelationNamesAndTheirProbabilities() {
        SteeringStepReport r = new SteeringStepReport(2, 7.04479f, 0.0075f, 10, new float[] {0.993f, 0.001f, 0.004f, 0.002f},
                List.of("above", "below", "left of", "right of"), Duration.ofMillis(410), null);
        assertEquals("step 2: loss 7.0448 -> 0.0075 after 10 iterations (0.41 s); above 0.993, below 0.001, left of 0.004, right of 0.002",
                r.toString());
    }

    @Test
    void namesClassesByIndexWhenTheNamesAreUnknownAndSaysWhyAStepWasAbandoned() {
        SteeringStepReport r = new SteeringStepReport(0, 1f, 1f, 1, new float[] {0.5f, 0.5f}, List.of(), Duration.ZERO, "non-finite loss NaN");
        assertEquals("step 0: loss 1.0000 -> 1.0000 after 1 iteration (0.00 s); class 0 0.500, class 1 0.500; abandoned: non-finite loss NaN",
                r.toString());
    }
}
