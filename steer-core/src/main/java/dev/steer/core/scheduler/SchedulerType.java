package dev.steer.core.scheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The diffusion samplers this library implements, each matching one diffusers scheduler class.
 *
 * <p>{@link #parse} accepts the diffusers class name (as written in {@code _class_name} of
 * {@code scheduler_config.json}), the enum name, and the usual short names, case-insensitively.
 */
public enum SchedulerType {
    /** {@code DDIMScheduler}: deterministic DDIM (eta 0). */
    DDIM("DDIMScheduler", "ddim"),
    /** {@code EulerDiscreteScheduler}: the k-diffusion Euler sampler, no churn. */
    EULER("EulerDiscreteScheduler", "euler", "euler_discrete"),
    /** {@code DPMSolverMultistepScheduler} configured as DPM-Solver++ 2M. */
    DPMPP_2M("DPMSolverMultistepScheduler", "dpm++2m", "dpmpp2m", "dpmpp_2m", "dpm++_2m"),
    /** {@code PNDMScheduler} in PLMS mode ({@code skip_prk_steps} true), Stable Diffusion 1.x's default. */
    PNDM("PNDMScheduler", "pndm", "plms"),
    /**
     * {@code FlowMatchEulerDiscreteScheduler}: the Euler sampler of rectified-flow models (FLUX.1), timesteps
     * as FluxPipeline sets them. No beta schedule: {@link Scheduler#alphasCumprod()} is unsupported.
     */
    FLOW_MATCH_EULER("FlowMatchEulerDiscreteScheduler", "flow_match_euler", "flowmatch", "flow_match", "flowmatch_euler");

    private final String diffusersClassName;
    private final String[] aliases;

    SchedulerType(String diffusersClassName, String... aliases) {
        this.diffusersClassName = diffusersClassName;
        this.aliases = aliases;
    }

    /**
     * Whether the sampler works on a discrete beta schedule and therefore has
     * {@link Scheduler#alphasCumprod()}: true for DDIM, Euler, DPM-Solver++ and PNDM, false for flow matching.
     */
    public boolean hasAlphasCumprod() {
        return this != FLOW_MATCH_EULER;
    }

    /** The diffusers class name, as found in {@code _class_name}. */
    public String diffusersClassName() {
        return diffusersClassName;
    }

    /**
     * Parses a diffusers class name ({@code "DDIMScheduler"}), an enum name ({@code "DPMPP_2M"}) or a
     * short name ({@code "ddim"}, {@code "euler"}, {@code "dpm++2m"}, {@code "dpmpp2m"}, {@code "pndm"},
     * {@code "plms"}, {@code "flowmatch"}, {@code "flow_match_euler"}), ignoring case and surrounding blanks.
     *
     * @throws IllegalArgumentException naming the value and listing the accepted names
     */
    public static SchedulerType parse(String name) {
        if (name != null) {
            String n = name.trim().toLowerCase(Locale.ROOT);
            for (SchedulerType t : values()) {
                if (n.equals(t.diffusersClassName.toLowerCase(Locale.ROOT)) || n.equals(t.name().toLowerCase(Locale.ROOT))) {
                    return t;
                }
                for (String a : t.aliases) {
                    if (n.equals(a)) {
                        return t;
                    }
                }
            }
        }
        throw new IllegalArgumentException("unknown scheduler \"" + name + "\"; accepted names: " + String.join(", ", acceptedNames()));
    }

    /** Every name {@link #parse} accepts (matching ignores case). */
    public static List<String> acceptedNames() {
        List<String> names = new ArrayList<>();
        for (SchedulerType t : values()) {
            names.add(t.diffusersClassName);
            names.add(t.name());
            names.addAll(List.of(t.aliases));
        }
        return names;
    }
}
