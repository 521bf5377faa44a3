package dev.steer.core.engine;

import dev.steer.core.generation.Sampler;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * Opens a {@link Sampler} on a backend chosen by name at run time ({@code --backend pytorch|onnx} in
 * the programs): the backends on the class path register {@link SamplerProvider}s.
 */
public final class Backends {
    private Backends() {
    }

    /** The backends on the class path, by name. */
    public static TreeMap<String, SamplerProvider> available() {
        TreeMap<String, SamplerProvider> out = new TreeMap<>();
        for (SamplerProvider p : ServiceLoader.load(SamplerProvider.class)) {
            out.put(p.name(), p);
        }
        return out;
    }

    /**
     * Loads {@code options} on the backend {@code name}.
     *
     * @throws IllegalArgumentException when no backend of that name is on the class path (naming those that are)
     */
    public static Sampler open(String name, SamplerOptions options) {
        TreeMap<String, SamplerProvider> all = available();
        SamplerProvider p = all.get(name.toLowerCase(Locale.ROOT));
        if (p == null) {
            throw new IllegalArgumentException("no backend '" + name + "' on the class path; available: " + all.keySet()
                    + " (add steer-pytorch or steer-onnx as a dependency)");
        }
        return p.open(options);
    }
}
