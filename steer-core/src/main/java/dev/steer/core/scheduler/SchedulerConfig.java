package dev.steer.core.scheduler;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The settings of a diffusers {@code scheduler/scheduler_config.json}, as far as the schedulers of
 * this package use them.
 *
 * <p>Like diffusers' {@code from_config}, one config can drive any {@link SchedulerType}: keys a
 * scheduler class does not take are ignored, unknown keys are ignored, and absent keys take
 * diffusers' defaults. Two defaults differ between diffusers classes and are therefore kept as
 * {@code null} when absent: {@link #timestepSpacing} (see {@link #timestepSpacingFor}) and
 * {@link #setAlphaToOne} (see {@link #setAlphaToOneFor}).
 *
 * <p>Values this library cannot reproduce are refused with an {@link IllegalArgumentException}
 * naming the key and the value: here for options no implemented scheduler supports
 * ({@code thresholding}, {@code trained_betas}, Karras/Lu/exponential/beta sigmas,
 * {@code rescale_betas_zero_snr}, an unknown {@code beta_schedule}, {@code prediction_type} or
 * {@code timestep_spacing}; for flow matching {@code invert_sigmas} true and a {@code shift_terminal}),
 * and when a scheduler is created for options specific to its class (for example
 * {@code skip_prk_steps} false for PNDM).
 *
 * @param className          {@code _class_name}, or null when absent
 * @param numTrainTimesteps  {@code num_train_timesteps} (default 1000)
 * @param betaStart          {@code beta_start} (default 0.0001)
 * @param betaEnd            {@code beta_end} (default 0.02)
 * @param betaSchedule       {@code beta_schedule}: linear (default), scaled_linear or squaredcos_cap_v2
 * @param predictionType     {@code prediction_type}: epsilon (default) or v_prediction
 * @param timestepSpacing    {@code timestep_spacing}: leading, trailing, linspace, or null for the class default
 * @param stepsOffset        {@code steps_offset} (default 0)
 * @param setAlphaToOne      {@code set_alpha_to_one} (DDIM, PNDM), or null for the class default
 * @param clipSample         {@code clip_sample} (DDIM; default true, as in diffusers)
 * @param clipSampleRange    {@code clip_sample_range} (DDIM; default 1.0)
 * @param skipPrkSteps       {@code skip_prk_steps} (PNDM; default false, which PNDM refuses)
 * @param solverOrder        {@code solver_order} (DPM; default 2)
 * @param algorithmType      {@code algorithm_type} (DPM; default dpmsolver++)
 * @param solverType         {@code solver_type} (DPM; default midpoint)
 * @param lowerOrderFinal    {@code lower_order_final} (DPM; default true)
 * @param eulerAtFinal       {@code euler_at_final} (DPM; default false)
 * @param finalSigmasType    {@code final_sigmas_type} (DPM, Euler; default zero)
 * @param lambdaMinClipped   {@code lambda_min_clipped} (DPM; default -infinity)
 * @param varianceType       {@code variance_type} (DPM; default null)
 * @param interpolationType  {@code interpolation_type} (Euler; default linear)
 * @param timestepType       {@code timestep_type} (Euler; default discrete)
 * @param shift              {@code shift} (flow matching; default 1.0): the static time shift, unused with dynamic shifting
 * @param useDynamicShifting {@code use_dynamic_shifting} (flow matching; default false): shift by
 *                           mu = calculate_shift(image sequence length), as FLUX.1-dev
 * @param baseShift          {@code base_shift} (flow matching; default 0.5): mu at {@code base_image_seq_len}
 * @param maxShift           {@code max_shift} (flow matching; default 1.15): mu at {@code max_image_seq_len}
 * @param baseImageSeqLen    {@code base_image_seq_len} (flow matching; default 256)
 * @param maxImageSeqLen     {@code max_image_seq_len} (flow matching; default 4096)
 */
public record SchedulerConfig(
        String className,
        int numTrainTimesteps,
        double betaStart,
        double betaEnd,
        String betaSchedule,
        String predictionType,
        String timestepSpacing,
        int stepsOffset,
        Boolean setAlphaToOne,
        boolean clipSample,
        double clipSampleRange,
        boolean skipPrkSteps,
        int solverOrder,
        String algorithmType,
        String solverType,
        boolean lowerOrderFinal,
        boolean eulerAtFinal,
        String finalSigmasType,
        double lambdaMinClipped,
        String varianceType,
        String interpolationType,
        String timestepType,
        double shift,
        boolean useDynamicShifting,
        double baseShift,
        double maxShift,
        int baseImageSeqLen,
        int maxImageSeqLen) {

    static final List<String> BETA_SCHEDULES = List.of("linear", "scaled_linear", "squaredcos_cap_v2");
    static final List<String> PREDICTION_TYPES = List.of("epsilon", "v_prediction");
    static final List<String> TIMESTEP_SPACINGS = List.of("leading", "trailing", "linspace");

    /** Validates the options every scheduler uses. */
    public SchedulerConfig {
        if (numTrainTimesteps < 2) {
            throw new IllegalArgumentException("num_train_timesteps " + numTrainTimesteps + " is not supported (must be at least 2)");
        }
        if (!(betaStart > 0 && betaEnd > 0 && betaStart < 1 && betaEnd < 1)) {
            throw new IllegalArgumentException("beta_start " + betaStart + " / beta_end " + betaEnd + " are not supported (must be in (0, 1))");
        }
        requireOneOf("beta_schedule", betaSchedule, BETA_SCHEDULES);
        requireOneOf("prediction_type", predictionType, PREDICTION_TYPES);
        if (timestepSpacing != null) {
            requireOneOf("timestep_spacing", timestepSpacing, TIMESTEP_SPACINGS);
        }
        if (stepsOffset < 0) {
            throw new IllegalArgumentException("steps_offset " + stepsOffset + " is not supported (must be >= 0)");
        }
        Objects.requireNonNull(algorithmType, "algorithmType");
        Objects.requireNonNull(solverType, "solverType");
        Objects.requireNonNull(finalSigmasType, "finalSigmasType");
        Objects.requireNonNull(interpolationType, "interpolationType");
        Objects.requireNonNull(timestepType, "timestepType");
    }

    /** diffusers' defaults (those of {@code DDIMScheduler()} and friends), without a class name. */
    public static SchedulerConfig defaults() {
        return fromJson("{}");
    }

    /**
     * Reads a {@code scheduler_config.json}.
     *
     * @throws IllegalArgumentException naming the file if it is missing, unreadable, not JSON, or holds
     *                                  an unsupported value
     */
    public static SchedulerConfig load(Path json) {
        String text;
        try {
            text = Files.readString(json, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(json + ": scheduler config not found", e);
        } catch (IOException e) {
            throw new IllegalArgumentException(json + ": cannot read scheduler config: " + e.getMessage(), e);
        }
        try {
            return fromJson(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(json + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses the text of a {@code scheduler_config.json}. JSON nulls count as absent keys.
     *
     * @throws IllegalArgumentException if the text is not a JSON object or holds an unsupported value
     */
    public static SchedulerConfig fromJson(String json) {
        JsonObject o;
        try {
            JsonElement el = JsonParser.parseString(json);
            if (!el.isJsonObject()) {
                throw new IllegalArgumentException("scheduler config is not a JSON object");
            }
            o = el.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new IllegalArgumentException("scheduler config is not valid JSON: " + e.getMessage(), e);
        }
        Json j = new Json(o);

        if (j.present("trained_betas")) {
            throw new IllegalArgumentException("trained_betas is not supported (only beta_schedule with beta_start/beta_end)");
        }
        j.requireFalse("thresholding", "dynamic thresholding is not supported");
        j.requireFalse("rescale_betas_zero_snr", "zero-terminal-SNR rescaling is not supported");
        for (String key : List.of("use_karras_sigmas", "use_lu_lambdas", "use_exponential_sigmas", "use_beta_sigmas", "use_flow_sigmas")) {
            j.requireFalse(key, "only the default sigma spacing is supported");
        }
        j.requireFalse("invert_sigmas", "inverted flow-matching sigmas are not supported");
        if (j.present("shift_terminal")) {
            throw new IllegalArgumentException("shift_terminal " + o.get("shift_terminal")
                    + " is not supported (only null: sigmas are not stretched to a terminal value)");
        }

        return new SchedulerConfig(
                j.string("_class_name", null),
                j.integer("num_train_timesteps", 1000),
                j.number("beta_start", 0.0001),
                j.number("beta_end", 0.02),
                j.string("beta_schedule", "linear"),
                j.string("prediction_type", "epsilon"),
                j.string("timestep_spacing", null),
                j.integer("steps_offset", 0),
                j.bool("set_alpha_to_one"),
                j.bool("clip_sample", true),
                j.number("clip_sample_range", 1.0),
                j.bool("skip_prk_steps", false),
                j.integer("solver_order", 2),
                j.string("algorithm_type", "dpmsolver++"),
                j.string("solver_type", "midpoint"),
                j.bool("lower_order_final", true),
                j.bool("euler_at_final", false),
                j.string("final_sigmas_type", "zero"),
                j.number("lambda_min_clipped", Double.NEGATIVE_INFINITY),
                j.string("variance_type", null),
                j.string("interpolation_type", "linear"),
                j.string("timestep_type", "discrete"),
                j.number("shift", 1.0),
                j.bool("use_dynamic_shifting", false),
                j.number("base_shift", 0.5),
                j.number("max_shift", 1.15),
                j.integer("base_image_seq_len", 256),
                j.integer("max_image_seq_len", 4096));
    }

    /**
     * The scheduler class named by {@code _class_name}.
     *
     * @throws IllegalArgumentException if the config has no class name or names an unsupported class
     */
    public SchedulerType declaredType() {
        if (className == null) {
            throw new IllegalArgumentException("scheduler config has no _class_name; choose a SchedulerType explicitly");
        }
        return SchedulerType.parse(className);
    }

    /** {@code timestep_spacing} as the given diffusers class resolves it (leading for DDIM and PNDM, linspace for Euler and DPM). */
    public String timestepSpacingFor(SchedulerType type) {
        if (timestepSpacing != null) {
            return timestepSpacing;
        }
        return type == SchedulerType.DDIM || type == SchedulerType.PNDM ? "leading" : "linspace";
    }

    /** {@code set_alpha_to_one} as the given diffusers class resolves it (default true for DDIM, false for PNDM). */
    public boolean setAlphaToOneFor(SchedulerType type) {
        if (setAlphaToOne != null) {
            return setAlphaToOne;
        }
        return type == SchedulerType.DDIM;
    }

    static void requireOneOf(String key, String value, List<String> supported) {
        if (value == null || !supported.contains(value)) {
            throw new IllegalArgumentException(key + " \"" + value + "\" is not supported (supported: " + String.join(", ", supported) + ")");
        }
    }

    /** Typed, key-naming access to the JSON object. */
    private static final class Json {
        private final JsonObject o;

        Json(JsonObject o) {
            this.o = o;
        }

        boolean present(String key) {
            return o.has(key) && !o.get(key).isJsonNull();
        }

        private JsonPrimitive primitive(String key, String expected) {
            JsonElement el = o.get(key);
            if (!el.isJsonPrimitive()) {
                throw new IllegalArgumentException(key + ": expected " + expected + ", found " + el);
            }
            return el.getAsJsonPrimitive();
        }

        String string(String key, String dflt) {
            if (!present(key)) {
                return dflt;
            }
            JsonPrimitive p = primitive(key, "a string");
            if (!p.isString()) {
                throw new IllegalArgumentException(key + ": expected a string, found " + p);
            }
            return p.getAsString();
        }

        double number(String key, double dflt) {
            if (!present(key)) {
                return dflt;
            }
            JsonPrimitive p = primitive(key, "a number");
            if (p.isString()) {
                // Python's json writes -Infinity/Infinity/NaN bare; Gson hands them over as strings
                switch (p.getAsString()) {
                    case "-Infinity":
                        return Double.NEGATIVE_INFINITY;
                    case "Infinity":
                        return Double.POSITIVE_INFINITY;
                    case "NaN":
                        return Double.NaN;
                    default:
                        break;
                }
            }
            if (!p.isNumber()) {
                throw new IllegalArgumentException(key + ": expected a number, found " + p);
            }
            return p.getAsDouble();
        }

        int integer(String key, int dflt) {
            if (!present(key)) {
                return dflt;
            }
            double d = number(key, dflt);
            if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(key + ": expected an integer, found " + o.get(key));
            }
            return (int) d;
        }

        Boolean bool(String key) {
            if (!present(key)) {
                return null;
            }
            JsonPrimitive p = primitive(key, "true or false");
            if (!p.isBoolean()) {
                throw new IllegalArgumentException(key + ": expected true or false, found " + p);
            }
            return p.getAsBoolean();
        }

        boolean bool(String key, boolean dflt) {
            Boolean b = bool(key);
            return b == null ? dflt : b;
        }

        void requireFalse(String key, String why) {
            if (bool(key, false)) {
                throw new IllegalArgumentException(key + " true is not supported: " + why);
            }
        }
    }
}
