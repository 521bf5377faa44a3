package dev.steer.core.scheduler;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/** Creates {@link Scheduler}s from diffusers scheduler configs. */
public final class Schedulers {
    private Schedulers() {
    }

    /** The config file name inside a diffusers {@code scheduler/} folder. */
    public static final String CONFIG_FILE = "scheduler_config.json";

    /**
     * The scheduler the config's {@code _class_name} names.
     *
     * @throws IllegalArgumentException if the class name is missing or unsupported, or an option is unsupported
     */
    public static Scheduler fromConfig(SchedulerConfig config) {
        return create(config.declaredType(), config);
    }

    /**
     * A scheduler of the given type driven by {@code config}, which may have been written for another
     * class (as diffusers' {@code from_config} allows): options the type does not take are ignored and
     * absent ones take that class's defaults.
     *
     * @throws IllegalArgumentException if an option the type uses has an unsupported value
     */
    public static Scheduler create(SchedulerType type, SchedulerConfig config) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(config, "config");
        return switch (type) {
            case DDIM -> new DDIMScheduler(config);
            case EULER -> new EulerDiscreteScheduler(config);
            case DPMPP_2M -> new DPMSolverMultistepScheduler(config);
            case PNDM -> new PNDMScheduler(config);
            case FLOW_MATCH_EULER -> new FlowMatchEulerDiscreteScheduler(config);
        };
    }

    /**
     * Loads the scheduler of a diffusers {@code scheduler/} folder, or of a {@code scheduler_config.json}
     * given directly, with the class its {@code _class_name} names.
     *
     * @throws IllegalArgumentException naming the file if it is missing, unreadable or unsupported
     */
    public static Scheduler load(Path schedulerDirOrJson) {
        return load(schedulerDirOrJson, null);
    }

    /**
     * Like {@link #load(Path)}, but with the given type instead of the config's class ({@code null}:
     * the config's class).
     */
    public static Scheduler load(Path schedulerDirOrJson, SchedulerType type) {
        Path json = Files.isDirectory(schedulerDirOrJson) ? schedulerDirOrJson.resolve(CONFIG_FILE) : schedulerDirOrJson;
        SchedulerConfig config = SchedulerConfig.load(json);
        try {
            return type == null ? fromConfig(config) : create(type, config);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(json + ": " + e.getMessage(), e);
        }
    }
}
