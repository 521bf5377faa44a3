package dev.steer.examples;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Minimal {@code --flag value} parsing for the example programs. */
final class Args {
    private final Map<String, String> values = new HashMap<>();

    private Args() {
    }

    /**
     * Parses {@code args}; every flag takes one value.
     *
     * @throws IllegalArgumentException for an unknown flag or a flag without value
     */
    static Args parse(String[] args, Set<String> known) {
        Args a = new Args();
        List<String> list = List.of(args);
        for (int i = 0; i < list.size(); i++) {
            String flag = list.get(i);
            if (!known.contains(flag)) {
                throw new IllegalArgumentException("unknown option " + flag + "; known: " + known);
            }
            if (i + 1 >= list.size()) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            a.values.put(flag, list.get(++i));
        }
        return a;
    }

    /** This, with {@code flag} set to {@code value} unless it was given. */
    Args withDefault(String flag, String value) {
        values.putIfAbsent(flag, value);
        return this;
    }

    String get(String flag, String fallback) {
        return values.getOrDefault(flag, fallback);
    }

    boolean has(String flag) {
        return values.containsKey(flag);
    }

    int getInt(String flag, int fallback) {
        return has(flag) ? Integer.parseInt(values.get(flag)) : fallback;
    }

    float getFloat(String flag, float fallback) {
        return has(flag) ? Float.parseFloat(values.get(flag)) : fallback;
    }

    long getLong(String flag, long fallback) {
        return has(flag) ? Long.parseLong(values.get(flag)) : fallback;
    }

    /** "WxH" as {width, height}, or {0, 0} when absent (the model's default). */
    int[] size(String flag) {
        if (!has(flag)) {
            return new int[] {0, 0};
        }
        String[] wh = values.get(flag).toLowerCase(java.util.Locale.ROOT).split("x");
        return new int[] {Integer.parseInt(wh[0]), Integer.parseInt(wh[wh.length - 1])};
    }
}
