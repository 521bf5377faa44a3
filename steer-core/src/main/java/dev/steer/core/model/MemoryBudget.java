package dev.steer.core.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * What a model needs in memory before it is loaded, checked against what the machine has, so that a
 * model that cannot fit fails at once with the bytes it needs instead of being killed halfway through
 * loading. Parts are named (transformer, text encoders...) so the message says where the bytes go.
 */
public final class MemoryBudget {
    private final Map<String, Long> parts = new LinkedHashMap<>();

    /** Adds a part's bytes. */
    public MemoryBudget add(String part, long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes must be non-negative, got " + bytes);
        }
        parts.merge(part, bytes, Long::sum);
        return this;
    }

    /** The parts and their bytes, in the order added. */
    public Map<String, Long> parts() {
        return Map.copyOf(parts);
    }

    /** Total bytes. */
    public long total() {
        return parts.values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * Fails when the total exceeds {@code availableBytes}.
     *
     * @param what the model, for the message (its folder, say)
     * @param where the memory, for the message ("memory available on this machine", "GPU memory")
     * @throws InsufficientMemoryException naming the total, each part and what is available
     */
    public void require(long availableBytes, Path what, String where) {
        long total = total();
        if (total > availableBytes) {
            StringBuilder detail = new StringBuilder();
            for (Map.Entry<String, Long> e : parts.entrySet()) {
                detail.append(detail.length() == 0 ? "" : ", ").append(e.getKey()).append(' ').append(gigabytes(e.getValue()));
            }
            throw new InsufficientMemoryException(what, "needs about " + gigabytes(total) + " (" + detail + ") but only "
                    + gigabytes(availableBytes) + " of " + where + " is free", total, availableBytes);
        }
    }

    /** Bytes as "12.3 GB" (decimal gigabytes). */
    public static String gigabytes(long bytes) {
        return String.format(Locale.ROOT, "%.2f GB", bytes / 1e9);
    }

    /**
     * Memory the operating system can give a new allocation without swapping: {@code MemAvailable}
     * of {@code /proc/meminfo} on Linux, else the JVM's view of free physical memory, else
     * {@link Long#MAX_VALUE} (no check possible).
     */
    public static long availableMemory() {
        Path meminfo = Path.of("/proc/meminfo");
        if (Files.isReadable(meminfo)) {
            try {
                for (String line : Files.readAllLines(meminfo)) {
                    if (line.startsWith("MemAvailable:")) {
                        String[] f = line.trim().split("\\s+");
                        return Long.parseLong(f[1]) * 1024L;
                    }
                }
            } catch (IOException | NumberFormatException | ArrayIndexOutOfBoundsException e) {
                // fall through to the JVM's view
            }
        }
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getFreeMemorySize();
        }
        return Long.MAX_VALUE;
    }

    /** Thrown when a model would not fit; a {@link ModelConfigException} naming the model. */
    public static final class InsufficientMemoryException extends ModelConfigException {
        /** Bytes the model needs. */
        private final long neededBytes;
        /** Bytes that were free. */
        private final long availableBytes;

        InsufficientMemoryException(Path path, String message, long neededBytes, long availableBytes) {
            super(path, message);
            this.neededBytes = neededBytes;
            this.availableBytes = availableBytes;
        }

        /** Bytes the model needs. */
        public long neededBytes() {
            return neededBytes;
        }

        /** Bytes that were free. */
        public long availableBytes() {
            return availableBytes;
        }
    }
}
