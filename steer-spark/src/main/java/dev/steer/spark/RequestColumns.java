package dev.steer.spark;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The columns of a request table and how one row reads. Only {@code prompt} is required; every
 * other column is optional, and a null value takes the job's {@link SteerSettings}. Columns other than
 * these are ignored. Numbers and booleans may also come as strings (a CSV file read without schema
 * inference); a value that does not parse makes its row a bad row.
 *
 * <table>
 * <caption>Request columns</caption>
 * <tr><th>column</th><th>type</th><th>meaning</th></tr>
 * <tr><td>{@code id}</td><td>string or number</td><td>the request's key, unique in the table and usable as a
 *     file name ({@code [A-Za-z0-9][A-Za-z0-9._-]*}, at most 128 characters); default: a hash of the
 *     row's other values ({@link #contentId})</td></tr>
 * <tr><td>{@code prompt}</td><td>string</td><td>what to draw (required, not empty, at most {@value #MAX_PROMPT} characters)</td></tr>
 * <tr><td>{@code seed}</td><td>integer</td><td>the initial noise's seed; default 0</td></tr>
 * <tr><td>{@code negative_prompt}</td><td>string</td><td>classifier-free guidance's negative prompt</td></tr>
 * <tr><td>{@code relations}</td><td>string</td><td>relations to steer, {@link ExplicitRelations}' form; default: parsed
 *     from the prompt</td></tr>
 * <tr><td>{@code steer}</td><td>boolean</td><td>whether to steer this row</td></tr>
 * <tr><td>{@code steps}, {@code width}, {@code height}, {@code iterations}</td><td>integer</td><td>denoising steps,
 *     image size, most refinement iterations per steered step</td></tr>
 * <tr><td>{@code guidance}, {@code step_size}, {@code end_fraction}</td><td>number</td><td>guidance scale, steering
 *     step size, the fraction of the schedule steered</td></tr>
 * </table>
 */
public final class RequestColumns implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The longest prompt read, in characters. */
    public static final int MAX_PROMPT = 10_000;

    /** What an id must look like: it names the image file. */
    public static final Pattern ID_PATTERN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    /** Every column read, with the kind of value it holds. */
    static final Map<String, Kind> COLUMNS;

    static {
        Map<String, Kind> m = new LinkedHashMap<>();
        m.put("id", Kind.ID);
        m.put("prompt", Kind.TEXT);
        m.put("seed", Kind.INTEGER);
        m.put("negative_prompt", Kind.TEXT);
        m.put("relations", Kind.TEXT);
        m.put("steer", Kind.BOOLEAN);
        m.put("steps", Kind.INTEGER);
        m.put("width", Kind.INTEGER);
        m.put("height", Kind.INTEGER);
        m.put("iterations", Kind.INTEGER);
        m.put("guidance", Kind.NUMBER);
        m.put("step_size", Kind.NUMBER);
        m.put("end_fraction", Kind.NUMBER);
        COLUMNS = java.util.Collections.unmodifiableMap(m);
    }

    /** What a column holds. */
    enum Kind {
        ID, TEXT, INTEGER, NUMBER, BOOLEAN
    }

    private final Map<String, Integer> index;

    private RequestColumns(Map<String, Integer> index) {
        this.index = index;
    }

    /**
     * The request columns of {@code schema}.
     *
     * @throws IllegalArgumentException when there is no {@code prompt} column, or a known column has a type
     *     its values cannot have (naming the column, its type and the types allowed)
     */
    public static RequestColumns of(StructType schema) {
        Map<String, Integer> index = new LinkedHashMap<>();
        StructField[] fields = schema.fields();
        for (int i = 0; i < fields.length; i++) {
            String name = fields[i].name().toLowerCase(Locale.ROOT);
            Kind kind = COLUMNS.get(name);
            if (kind == null) {
                continue;
            }
            if (index.containsKey(name)) {
                throw new IllegalArgumentException("the request table has two columns named '" + name + "'");
            }
            DataType t = fields[i].dataType();
            boolean ok = switch (kind) {
                case TEXT -> t instanceof StringType;
                case ID, INTEGER, NUMBER -> t instanceof StringType || t instanceof NumericType;
                case BOOLEAN -> t instanceof StringType || t instanceof BooleanType;
            };
            if (!ok) {
                throw new IllegalArgumentException("request column '" + name + "' has type " + t.simpleString() + "; it must be "
                        + switch (kind) {
                            case TEXT -> "a string";
                            case ID, INTEGER, NUMBER -> "a number or a string";
                            case BOOLEAN -> "a boolean or a string";
                        });
            }
            index.put(name, i);
        }
        if (!index.containsKey("prompt")) {
            throw new IllegalArgumentException("the request table has no 'prompt' column (columns: " + String.join(", ",
                    schema.fieldNames()) + ")");
        }
        return new RequestColumns(index);
    }

    /**
     * One request row as read: its id and prompt always (for the result row, also when the row is bad),
     * its values, and the first problem found, if any.
     *
     * @param id the id (given or derived)
     * @param prompt the prompt, or null when missing
     * @param seed the seed
     * @param values the other columns' parsed values (String, Long, Double or Boolean), missing ones absent
     * @param error why the row cannot be generated, or null
     */
    public record Request(String id, String prompt, long seed, Map<String, Object> values, String error) implements Serializable {
        private static final long serialVersionUID = 1L;

        /** An integer value, or null. */
        public Integer integer(String column) {
            Object v = values.get(column);
            return v == null ? null : Math.toIntExact((Long) v);
        }

        /** A number value, or null. */
        public Double number(String column) {
            return (Double) values.get(column);
        }

        /** A text value, or null. */
        public String text(String column) {
            return (String) values.get(column);
        }

        /** A boolean value, or null. */
        public Boolean bool(String column) {
            return (Boolean) values.get(column);
        }
    }

    /** Reads one row: never throws for bad values, which become the request's error. */
    public Request read(Row row) {
        Map<String, Object> values = new LinkedHashMap<>();
        String error = null;
        for (Map.Entry<String, Integer> e : index.entrySet()) {
            String column = e.getKey();
            Object raw = row.get(e.getValue());
            if (raw == null || column.equals("id")) {
                continue;
            }
            try {
                values.put(column, convert(column, COLUMNS.get(column), raw));
            } catch (IllegalArgumentException ex) {
                error = error == null ? ex.getMessage() : error;
            }
        }
        String prompt = (String) values.get("prompt");
        long seed = values.get("seed") instanceof Long s ? s : 0L;
        Object rawId = index.containsKey("id") ? row.get(index.get("id")) : null;
        String id = rawId == null || rawId.toString().isBlank() ? contentId(values) : idText(rawId);
        if (error == null) {
            error = check(id, prompt, values);
        }
        return new Request(id, prompt, seed, Map.copyOf(values), error);
    }

    private static String check(String id, String prompt, Map<String, Object> values) {
        if (!ID_PATTERN.matcher(id).matches()) {
            return "id: '" + abbreviate(id) + "' is not usable as a file name ([A-Za-z0-9][A-Za-z0-9._-]*, at most 128 characters)";
        }
        if (prompt == null || prompt.isBlank()) {
            return "prompt: empty";
        }
        if (prompt.length() > MAX_PROMPT) {
            return "prompt: longer than " + MAX_PROMPT + " characters";
        }
        for (String c : new String[] {"steps", "width", "height", "iterations"}) {
            Object v = values.get(c);
            if (v != null && ((Long) v < 0 || (Long) v > Integer.MAX_VALUE)) {
                return c + ": out of range: " + v;
            }
        }
        for (String c : new String[] {"guidance", "step_size", "end_fraction"}) {
            Object v = values.get(c);
            if (v != null && !Double.isFinite((Double) v)) {
                return c + ": not a finite number: " + v;
            }
        }
        return null;
    }

    private static Object convert(String column, Kind kind, Object raw) {
        switch (kind) {
            case TEXT:
                return raw.toString();
            case INTEGER:
                if (raw instanceof Number n) {
                    double d = n.doubleValue();
                    if (d != Math.rint(d)) {
                        throw new IllegalArgumentException(column + ": not an integer: " + raw);
                    }
                    return n.longValue();
                }
                try {
                    return Long.parseLong(raw.toString().strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(column + ": not an integer: '" + abbreviate(raw.toString()) + "'");
                }
            case NUMBER:
                if (raw instanceof Number n) {
                    return n.doubleValue();
                }
                try {
                    return Double.parseDouble(raw.toString().strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(column + ": not a number: '" + abbreviate(raw.toString()) + "'");
                }
            case BOOLEAN:
                if (raw instanceof Boolean b) {
                    return b;
                }
                String s = raw.toString().strip().toLowerCase(Locale.ROOT);
                if (s.equals("true") || s.equals("1") || s.equals("yes")) {
                    return true;
                }
                if (s.equals("false") || s.equals("0") || s.equals("no")) {
                    return false;
                }
                throw new IllegalArgumentException(column + ": not a boolean: '" + abbreviate(raw.toString()) + "'");
            default:
                throw new IllegalStateException(kind.name());
        }
    }

    private static String idText(Object raw) {
        if (raw instanceof Double || raw instanceof Float) {
            double d = ((Number) raw).doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                return Long.toString((long) d);
            }
        }
        return raw.toString().strip();
    }

    /**
     * The id of a row without one: the first 20 hex digits of the SHA-256 of its values, so that the
     * same request gets the same id in every run (two equal rows are one request).
     */
    public static String contentId(Map<String, Object> values) {
        StringBuilder s = new StringBuilder();
        for (String c : COLUMNS.keySet()) {
            Object v = values.get(c);
            if (v != null) {
                s.append(c).append('=').append(v).append('\u0000');
            }
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(s.toString().getBytes(StandardCharsets.UTF_8));
            return "r" + HexFormat.of().formatHex(h, 0, 10);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }
}
