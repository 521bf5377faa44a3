package dev.steer.pytorch.pipeline;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.scheduler.SchedulerType;
import dev.steer.core.testing.Conformance;
import dev.steer.pytorch.testing.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Stable Diffusion UNet refuses the flow-matching sampler, whether the folder or the caller asks for it. */
class StableDiffusionSchedulerFamilyTest {
    @TempDir
    Path tmp;

    @Test
    void flowMatchingSchedulerIsRefusedForAUNetModel() throws Exception {
        Path model = TinyModels.folder(tmp.resolve("tiny"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StableDiffusion.builder().setModelFolder(model).optScheduler(SchedulerType.FLOW_MATCH_EULER).build());
        assertTrue(e.getMessage().contains("FlowMatchEulerDiscreteScheduler") && e.getMessage().contains("DDIM"), e.getMessage());

        Files.copy(Conformance.dir("sched-flowmatch-schnell").resolve("scheduler_config.json"),
                model.resolve("scheduler/scheduler_config.json"), StandardCopyOption.REPLACE_EXISTING);
        e = assertThrows(IllegalArgumentException.class, () -> StableDiffusion.builder().setModelFolder(model).build());
        assertTrue(e.getMessage().contains("scheduler_config.json") && e.getMessage().contains("flow-matching"), e.getMessage());
    }
}
