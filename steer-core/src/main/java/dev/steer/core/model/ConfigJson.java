package dev.steer.core.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Typed, checked access to a model's {@code config.json}: every read names the file and the key
 * when the value is missing or of the wrong kind, and {@link #refuseUnless} turns an unsupported
 * option into an error instead of silently ignoring it.
 */
public final class ConfigJson {
    /** Config files larger than this are refused (real ones are a few KB). */
    public static final long MAX_BYTES = 1L << 20;

    private final Path file;
    private final JsonObject json;

    private ConfigJson(Path file, JsonObject json) {
        this.file = file;
        this.json = json;
    }

    /** Reads and parses a config file. @throws ModelConfigException naming the file */
    public static ConfigJson read(Path file) {
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new ModelConfigException(file, "is larger than " + MAX_BYTES + " bytes: not a model config");
            }
            return parse(file, Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new ModelConfigException(file, "file not found");
        } catch (IOException e) {
            throw new ModelConfigException(file, "cannot read: " + e.getMessage());
        }
    }

    /** Parses config text; {@code file} is used in messages only. */
    public static ConfigJson parse(Path file, String text) {
        try {
            JsonElement el = JsonParser.parseString(text);
            if (!el.isJsonObject()) {
                throw new ModelConfigException(file, "is not a JSON object");
            }
            return new ConfigJson(file, el.getAsJsonObject());
        } catch (JsonParseException e) {
            throw new ModelConfigException(file, "is not valid JSON: " + e.getMessage());
        }
    }

    /**
     * The JSON object under {@code key} as a config of the same file, or null when the key is absent.
     *
     * @throws ModelConfigException naming the file when the value is not an object
     */
    public ConfigJson object(String key) {
        if (!json.has(key) || json.get(key).isJsonNull()) {
            return null;
        }
        if (!json.get(key).isJsonObject()) {
            throw new ModelConfigException(file, "'" + key + "' must be a JSON object");
        }
        return new ConfigJson(file, json.getAsJsonObject(key));
    }

    /** The file this config came from. */
    public Path file() {
        return file;
    }

    /** True when the key is present and not null. */
    public boolean has(String key) {
        return json.has(key) && !json.get(key).isJsonNull();
    }

    /** A required integer. */
    public int getInt(String key) {
        return number(require(key), key).intValue();
    }

    /** An optional integer. */
    public int getInt(String key, int fallback) {
        return has(key) ? getInt(key) : fallback;
    }

    /** An optional float. */
    public float getFloat(String key, float fallback) {
        return has(key) ? number(json.get(key), key).floatValue() : fallback;
    }

    /** An optional double. */
    public double getDouble(String key, double fallback) {
        return has(key) ? number(json.get(key), key).doubleValue() : fallback;
    }

    /** An optional boolean. */
    public boolean getBool(String key, boolean fallback) {
        if (!has(key)) {
            return fallback;
        }
        JsonElement v = json.get(key);
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isBoolean()) {
            throw new ModelConfigException(file, "key '" + key + "' should be true or false, found " + v);
        }
        return v.getAsBoolean();
    }

    /** An optional string. */
    public String getString(String key, String fallback) {
        if (!has(key)) {
            return fallback;
        }
        JsonElement v = json.get(key);
        if (!v.isJsonPrimitive()) {
            throw new ModelConfigException(file, "key '" + key + "' should be a string, found " + v);
        }
        return v.getAsString();
    }

    /** A required list of strings. */
    public List<String> getStrings(String key) {
        List<String> out = new ArrayList<>();
        for (JsonElement e : array(key)) {
            out.add(e.getAsString());
        }
        return out;
    }

    /** A required list of integers. */
    public int[] getInts(String key) {
        JsonArray arr = array(key);
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = number(arr.get(i), key).intValue();
        }
        return out;
    }

    /**
     * An integer given either once for all blocks or as a list with one value per block (as
     * diffusers allows for head counts and layers per block).
     */
    public int[] getIntPerBlock(String key, int blocks, int fallback) {
        if (!has(key)) {
            int[] out = new int[blocks];
            java.util.Arrays.fill(out, fallback);
            return out;
        }
        JsonElement v = json.get(key);
        if (v.isJsonArray()) {
            int[] out = getInts(key);
            if (out.length != blocks) {
                throw new ModelConfigException(file, "key '" + key + "' lists " + out.length + " values for " + blocks + " blocks");
            }
            return out;
        }
        int[] out = new int[blocks];
        java.util.Arrays.fill(out, getInt(key));
        return out;
    }

    /** Refuses the model when {@code key} is present with a value other than the supported ones. */
    public void refuseUnless(String key, String what, Object... supported) {
        if (!has(key)) {
            return;
        }
        JsonElement v = json.get(key);
        for (Object s : supported) {
            if (s == null) {
                continue;
            }
            if (v.isJsonPrimitive() && v.getAsString().equals(String.valueOf(s))) {
                return;
            }
        }
        throw new ModelConfigException(file, "unsupported option " + key + "=" + v + " (" + what + "); this library supports "
                + (supported.length == 0 ? "only its absence" : java.util.Arrays.toString(supported)));
    }

    /**
     * Refuses an {@code architectures} list (transformers' model classes) naming a class outside
     * {@code supported}; an absent list is accepted.
     *
     * @param what what the supported classes are, for the message ("a CLIP text model")
     */
    public void refuseArchitecturesOutside(List<String> supported, String what) {
        if (!has("architectures")) {
            return;
        }
        List<String> archs;
        try {
            archs = getStrings("architectures");
        } catch (RuntimeException e) {
            throw new ModelConfigException(file, "key 'architectures' should be a list of class names");
        }
        for (String a : archs) {
            if (!supported.contains(a)) {
                throw new ModelConfigException(file, "unsupported architectures entry '" + a + "': not " + what + " (supported: "
                        + supported + ")");
            }
        }
    }

    /** Refuses a file with a key outside {@code known} (a typo must not be silently ignored). */
    public void refuseUnknownKeys(String what, String... known) {
        List<String> allowed = List.of(known);
        for (String key : json.keySet()) {
            if (!allowed.contains(key)) {
                throw new ModelConfigException(file, "unknown " + what + " '" + key + "'; known: " + allowed);
            }
        }
    }

    /** Refuses the model when {@code key} is present and not null. */
    public void refuseIfSet(String key, String what) {
        if (has(key)) {
            throw new ModelConfigException(file, "unsupported option " + key + "=" + json.get(key) + " (" + what
                    + "); this library supports models without it");
        }
    }

    private JsonElement require(String key) {
        if (!has(key)) {
            throw new ModelConfigException(file, "missing required key '" + key + "'");
        }
        return json.get(key);
    }

    private JsonArray array(String key) {
        JsonElement v = require(key);
        if (!v.isJsonArray()) {
            throw new ModelConfigException(file, "key '" + key + "' should be a list, found " + v);
        }
        return v.getAsJsonArray();
    }

    private Number number(JsonElement v, String key) {
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
            throw new ModelConfigException(file, "key '" + key + "' should be a number, found " + v);
        }
        return v.getAsNumber();
    }
}
