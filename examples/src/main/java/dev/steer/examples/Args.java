package dev.steer.examples;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Minimal {@code --flag value} parsing for {@link WordMapYardstick} (the steer command uses picocli). */
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

    String get(String flag, String fallback) {
        return values.getOrDefault(flag, fallback);
    }

    boolean has(String flag) {
        return values.containsKey(flag);
    }

    int getInt(String flag, int fallback) {
        return has(flag) ? Integer.parseInt(values.get(flag)) : fallback;
    }

    long getLong(String flag, long fallback) {
        return has(flag) ? Long.parseLong(values.get(flag)) : fallback;
    }
}
