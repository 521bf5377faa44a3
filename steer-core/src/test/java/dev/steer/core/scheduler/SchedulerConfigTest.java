package dev.steer.core.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.testing.Conformance;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Parsing of scheduler_config.json, refusals, and scheduler names. */
class SchedulerConfigTest {

    private static IllegalArgumentException refused(String json) {
        return assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.fromJson(json));
    }

    private static IllegalArgumentException refused(SchedulerType type, String json) {
        SchedulerConfig c = SchedulerConfig.fromJson(json);
        return assertThrows(IllegalArgumentException.class, () -> Schedulers.create(type, c));
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message \"" + e.getMessage() + "\" should mention " + p);
        }
    }

    @Test
    void parsesTheFixtureConfigs() {
        SchedulerConfig ddim = SchedulerConfig.load(Conformance.dir("sched-ddim").resolve("scheduler_config.json"));
        assertEquals("DDIMScheduler", ddim.className());
        assertEquals(SchedulerType.DDIM, ddim.declaredType());
        assertEquals(1000, ddim.numTrainTimesteps());
        assertEquals(0.00085, ddim.betaStart());
        assertEquals(0.012, ddim.betaEnd());
        assertEquals("scaled_linear", ddim.betaSchedule());
        assertEquals("epsilon", ddim.predictionType());
        assertEquals("leading", ddim.timestepSpacing());
        assertEquals(1, ddim.stepsOffset());
        assertEquals(Boolean.FALSE, ddim.setAlphaToOne());
        assertFalse(ddim.clipSample());

        SchedulerConfig dpm = SchedulerConfig.load(Conformance.dir("sched-dpmpp2m").resolve("scheduler_config.json"));
        assertEquals(SchedulerType.DPMPP_2M, dpm.declaredType());
        assertEquals(2, dpm.solverOrder());
        assertEquals("dpmsolver++", dpm.algorithmType());
        assertEquals("midpoint", dpm.solverType());
        assertTrue(dpm.lowerOrderFinal());
        assertEquals(Double.NEGATIVE_INFINITY, dpm.lambdaMinClipped()); // written bare as -Infinity
        assertNull(dpm.varianceType());

        assertTrue(SchedulerConfig.load(Conformance.dir("sched-pndm").resolve("scheduler_config.json")).skipPrkSteps());
    }

    @Test
    void absentKeysTakeDiffusersDefaultsPerClass() {
        SchedulerConfig c = SchedulerConfig.defaults();
        assertNull(c.className());
        assertEquals(1000, c.numTrainTimesteps());
        assertEquals("linear", c.betaSchedule());
        assertEquals("epsilon", c.predictionType());
        assertEquals(0, c.stepsOffset());
        assertTrue(c.clipSample()); // DDIMScheduler's default
        // defaults that differ between diffusers classes
        assertEquals("leading", c.timestepSpacingFor(SchedulerType.DDIM));
        assertEquals("leading", c.timestepSpacingFor(SchedulerType.PNDM));
        assertEquals("linspace", c.timestepSpacingFor(SchedulerType.EULER));
        assertEquals("linspace", c.timestepSpacingFor(SchedulerType.DPMPP_2M));
        assertTrue(c.setAlphaToOneFor(SchedulerType.DDIM));
        assertFalse(c.setAlphaToOneFor(SchedulerType.PNDM));
        // nulls count as absent
        assertEquals(SchedulerConfig.defaults(), SchedulerConfig.fromJson("{\"trained_betas\": null, \"timestep_spacing\": null}"));
    }

    @Test
    void unknownKeysAreIgnored() {
        SchedulerConfig c = SchedulerConfig.fromJson("{\"_class_name\": \"DDIMScheduler\", \"_diffusers_version\": \"0.27.2\","
                + " \"some_future_option\": [1, 2, {\"x\": 3}]}");
        assertEquals(SchedulerType.DDIM, c.declaredType());
    }

    @Test
    void unsupportedPredictionTypeIsRefusedByName() {
        assertMentions(refused("{\"prediction_type\": \"sample\"}"), "prediction_type", "sample", "epsilon", "v_prediction");
    }

    @Test
    void unsupportedBetaScheduleIsRefusedByName() {
        assertMentions(refused("{\"beta_schedule\": \"sigmoid\"}"), "beta_schedule", "sigmoid");
    }

    @Test
    void otherUnsupportedValuesAreRefusedByKeyAndValue() {
        assertMentions(refused("{\"timestep_spacing\": \"uniform\"}"), "timestep_spacing", "uniform");
        assertMentions(refused("{\"thresholding\": true}"), "thresholding", "true");
        assertMentions(refused("{\"use_karras_sigmas\": true}"), "use_karras_sigmas", "true");
        assertMentions(refused("{\"rescale_betas_zero_snr\": true}"), "rescale_betas_zero_snr");
        assertMentions(refused("{\"trained_betas\": [0.1, 0.2]}"), "trained_betas");
        assertMentions(refused("{\"steps_offset\": \"one\"}"), "steps_offset", "one");
        assertMentions(refused("{\"num_train_timesteps\": 1000.5}"), "num_train_timesteps");
        assertMentions(refused("[1, 2]"), "JSON object");
        assertMentions(refused("{\"beta_start\": "), "JSON");
        // class-specific options are checked when the scheduler is built
        assertMentions(refused(SchedulerType.DPMPP_2M, "{\"algorithm_type\": \"sde-dpmsolver++\"}"), "algorithm_type", "sde-dpmsolver++");
        assertMentions(refused(SchedulerType.DPMPP_2M, "{\"solver_order\": 3}"), "solver_order", "3");
        assertMentions(refused(SchedulerType.DPMPP_2M, "{\"solver_type\": \"bogus\"}"), "solver_type", "bogus");
        assertMentions(refused(SchedulerType.DPMPP_2M, "{\"final_sigmas_type\": \"denoise_to_zero\"}"), "final_sigmas_type");
        assertMentions(refused(SchedulerType.DPMPP_2M, "{\"variance_type\": \"learned_range\"}"), "variance_type", "learned_range");
        assertMentions(refused(SchedulerType.EULER, "{\"interpolation_type\": \"log_linear\"}"), "interpolation_type", "log_linear");
    }

    @Test
    void pndmWithoutSkipPrkStepsIsRefused() {
        IllegalArgumentException e = refused(SchedulerType.PNDM, "{\"skip_prk_steps\": false}");
        assertMentions(e, "skip_prk_steps", "PRK", "not supported");
        // ...but the same config drives DDIM, which ignores the key, as in diffusers
        Schedulers.create(SchedulerType.DDIM, SchedulerConfig.fromJson("{\"skip_prk_steps\": false}"));
    }

    @Test
    void loadErrorsNameTheFile(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("nope.json");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.load(missing)), missing.toString());
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Schedulers.load(dir)), "scheduler_config.json");

        Path bad = Files.writeString(dir.resolve("scheduler_config.json"), "{\"_class_name\": \"DDIMScheduler\", \"prediction_type\": \"sample\"}");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Schedulers.load(dir)), bad.toString(), "prediction_type");

        Files.writeString(bad, "{\"_class_name\": \"LMSDiscreteScheduler\"}");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Schedulers.load(bad)), bad.toString(), "LMSDiscreteScheduler");
        assertEquals(SchedulerType.EULER, Schedulers.load(bad, SchedulerType.EULER).type());

        Files.writeString(bad, "{\"prediction_type\": \"epsilon\"}");
        assertMentions(assertThrows(IllegalArgumentException.class, () -> Schedulers.load(bad)), "_class_name");
    }

    @Test
    void schedulerTypeAliasesParse() {
        assertEquals(SchedulerType.DDIM, SchedulerType.parse("DDIMScheduler"));
        assertEquals(SchedulerType.DDIM, SchedulerType.parse("ddim"));
        assertEquals(SchedulerType.DDIM, SchedulerType.parse(" DDIM "));
        assertEquals(SchedulerType.EULER, SchedulerType.parse("EulerDiscreteScheduler"));
        assertEquals(SchedulerType.EULER, SchedulerType.parse("euler"));
        assertEquals(SchedulerType.EULER, SchedulerType.parse("eulerdiscretescheduler"));
        assertEquals(SchedulerType.DPMPP_2M, SchedulerType.parse("DPMSolverMultistepScheduler"));
        assertEquals(SchedulerType.DPMPP_2M, SchedulerType.parse("dpm++2m"));
        assertEquals(SchedulerType.DPMPP_2M, SchedulerType.parse("DPMPP2M"));
        assertEquals(SchedulerType.DPMPP_2M, SchedulerType.parse("dpmpp_2m"));
        assertEquals(SchedulerType.PNDM, SchedulerType.parse("PNDMScheduler"));
        assertEquals(SchedulerType.PNDM, SchedulerType.parse("pndm"));
        assertEquals(SchedulerType.PNDM, SchedulerType.parse("PLMS"));
        for (SchedulerType t : SchedulerType.values()) {
            assertEquals(t, SchedulerType.parse(t.diffusersClassName()));
            assertEquals(t, SchedulerType.parse(t.name()));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SchedulerType.parse("lms"));
        assertMentions(e, "lms", "DDIMScheduler", "euler", "dpm++2m", "plms");
        assertThrows(IllegalArgumentException.class, () -> SchedulerType.parse(null));
    }
}
