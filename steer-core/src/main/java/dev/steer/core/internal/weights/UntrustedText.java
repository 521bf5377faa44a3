package dev.steer.core.internal.weights;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Renders values read from an untrusted file (a checkpoint's dicts, lists and strings) for an
 * error message, in bounded time and space: at most {@link #MAX_CHARS} characters, so that a value
 * built to be huge when printed (a deeply shared nested list renders exponentially long, a 16 MB
 * string renders 16 MB) costs no more than a short one.
 */
public final class UntrustedText {
    /** The most characters a rendering has, ellipsis included. */
    public static final int MAX_CHARS = 200;

    private UntrustedText() {
    }

    /** {@code value} as Python would print it, cut to at most {@link #MAX_CHARS} characters. */
    public static String brief(Object value) {
        StringBuilder out = new StringBuilder();
        if (!append(out, value, 0)) {
            out.setLength(Math.min(out.length(), MAX_CHARS - 3));
            out.append("...");
        }
        return out.toString();
    }

    /** Appends {@code o}; false once the budget is spent (the output is then cut). */
    private static boolean append(StringBuilder out, Object o, int depth) {
        if (out.length() > MAX_CHARS) {
            return false;
        }
        if (depth > 16) {
            out.append("...");
            return out.length() <= MAX_CHARS;
        }
        if (o instanceof String s) {
            out.append('\'');
            out.append(s, 0, Math.min(s.length(), MAX_CHARS + 1));
            out.append('\'');
        } else if (o instanceof Map<?, ?> m) {
            out.append('{');
            Iterator<? extends Map.Entry<?, ?>> it = m.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                if (!append(out, e.getKey(), depth + 1)) {
                    return false;
                }
                out.append(": ");
                if (!append(out, e.getValue(), depth + 1)) {
                    return false;
                }
                if (it.hasNext()) {
                    out.append(", ");
                }
            }
            out.append('}');
        } else if (o instanceof List<?> l) {
            out.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    out.append(", ");
                }
                if (!append(out, l.get(i), depth + 1)) {
                    return false;
                }
            }
            out.append(']');
        } else if (o instanceof byte[] b) {
            out.append("bytes[").append(b.length).append(']');
        } else if (o == null) {
            out.append("None");
        } else {
            String s = String.valueOf(o);
            out.append(s, 0, Math.min(s.length(), MAX_CHARS + 1));
        }
        return out.length() <= MAX_CHARS;
    }
}
