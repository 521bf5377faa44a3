package dev.steer.core.internal.weights;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import dev.steer.core.weights.WeightsFormatException;

/**
 * A restricted reader of Python pickles, for the {@code data.pkl} that {@code torch.save} writes.
 *
 * <p>It understands the opcodes of pickle protocols 2 to 4 that torch.save emits for dicts of
 * tensors and plain values, and nothing is ever executed or instantiated: {@code GLOBAL} resolves
 * only the names of {@link #ALLOWED_GLOBALS} to markers, {@code REDUCE} is only applied to those
 * markers ({@code OrderedDict()}, {@code _rebuild_tensor_v2}, {@code _rebuild_parameter}), and
 * {@code BUILD} only to OrderedDicts (whose attribute state, e.g. a state dict's {@code _metadata},
 * is ignored). Anything else is refused with a {@link WeightsFormatException} that names it.
 *
 * <p>Every resource a pickle can make it spend has a budget ({@link Limits}): values on the stack,
 * objects created, items put into containers, memo indices, open MARKs, string lengths and, checked
 * on the result, nesting (which also refuses a container that contains itself). A tuple used as a
 * dict key is checked to be small and shallow before it is hashed, so a tuple built from itself
 * forty times, or a self-containing list, is refused instead of hashed.
 *
 * <p>Values come out as plain Java: dicts as {@link LinkedHashMap} (keys in pickle order), lists
 * and tuples as {@link List}, str as {@link String}, int as {@link Long}, float as {@link Double},
 * bool as {@link Boolean}, None as null, bytes as {@code byte[]}, tensors as whatever the
 * {@link TensorFactory} returns.
 */
final class Unpickler {

    /** The globals a torch checkpoint may name; every other one is refused. */
    static final Set<String> ALLOWED_GLOBALS;

    private static final Map<String, TensorDType> STORAGE_TYPES = new LinkedHashMap<>();

    static {
        STORAGE_TYPES.put("torch.FloatStorage", TensorDType.F32);
        STORAGE_TYPES.put("torch.HalfStorage", TensorDType.F16);
        STORAGE_TYPES.put("torch.BFloat16Storage", TensorDType.BF16);
        STORAGE_TYPES.put("torch.DoubleStorage", TensorDType.F64);
        STORAGE_TYPES.put("torch.LongStorage", TensorDType.I64);
        STORAGE_TYPES.put("torch.IntStorage", TensorDType.I32);
        STORAGE_TYPES.put("torch.ShortStorage", TensorDType.I16);
        STORAGE_TYPES.put("torch.CharStorage", TensorDType.I8);
        STORAGE_TYPES.put("torch.ByteStorage", TensorDType.U8);
        STORAGE_TYPES.put("torch.BoolStorage", TensorDType.BOOL);
        // untyped (byte) storages, as torch >= 2 names them
        STORAGE_TYPES.put("torch.UntypedStorage", TensorDType.U8);
        STORAGE_TYPES.put("torch.storage.UntypedStorage", TensorDType.U8);
        java.util.LinkedHashSet<String> allowed = new java.util.LinkedHashSet<>();
        allowed.add("collections.OrderedDict");
        allowed.add("torch._utils._rebuild_tensor_v2");
        allowed.add("torch._utils._rebuild_parameter");
        allowed.addAll(STORAGE_TYPES.keySet());
        ALLOWED_GLOBALS = Collections.unmodifiableSet(allowed);
    }

    /**
     * Bounds on what one pickle may make the reader do.
     *
     * @param maxMemo memo indices (each must be below this)
     * @param maxMarkDepth MARKs open at once
     * @param maxNesting nesting of containers in the result
     * @param maxStringBytes length of one str or bytes
     * @param maxStack values on the stack at once
     * @param maxObjects values created in all (containers, strings, numbers, tensors)
     * @param maxItems items added to lists, tuples and dicts in all
     */
    record Limits(int maxMemo, int maxMarkDepth, int maxNesting, int maxStringBytes, int maxStack, long maxObjects, long maxItems) {
    }

    /** Tuples used as dict keys: at most this many scalars in all, nested at most {@link #MAX_KEY_DEPTH}. */
    private static final int MAX_KEY_ITEMS = 64;
    private static final int MAX_KEY_DEPTH = 4;

    /** A storage named by a persistent id: {@code ('storage', type, key, location, numel)}. */
    record StorageRef(String key, TensorDType dtype, long numel, String location) {
    }

    /** Creates tensors for {@code _rebuild_tensor_v2}. */
    interface TensorFactory {
        Object tensor(StorageRef storage, long storageOffset, long[] shape, long[] strides);
    }

    private record Global(String name) {
    }

    private static final Object MARK = new Object() {
        @Override
        public String toString() {
            return "MARK";
        }
    };

    private final byte[] data;
    private final Path file;
    private final String entry;
    private final Limits limits;
    private final TensorFactory tensors;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    /** Memo slots by index; {@link #UNSET} where never written. */
    private final List<Object> memo = new ArrayList<>();
    private static final Object UNSET = new Object();
    private long objects;
    private long items;
    /** Maps created by OrderedDict(): the only objects BUILD may be applied to. */
    private final Set<Object> orderedDicts = Collections.newSetFromMap(new IdentityHashMap<>());
    private int pos;

    private Unpickler(byte[] data, Path file, String entry, Limits limits, TensorFactory tensors) {
        this.data = data;
        this.file = file;
        this.entry = entry;
        this.limits = limits;
        this.tensors = tensors;
    }

    /**
     * Reads one pickle.
     *
     * @param file and {@code entry} name the source in messages
     * @throws WeightsFormatException on anything malformed, unbounded or not allowed
     */
    static Object load(byte[] data, Path file, String entry, Limits limits, TensorFactory tensors) {
        Unpickler u = new Unpickler(data, file, entry, limits, tensors);
        Object result = u.run();
        u.checkNesting(result);
        return result;
    }

    private WeightsFormatException error(String problem) {
        return new WeightsFormatException(file, entry + ": " + problem);
    }

    private Object run() {
        while (true) {
            if (pos >= data.length) {
                throw error("pickle ends at byte " + pos + " without STOP: truncated");
            }
            int at = pos;
            int op = data[pos++] & 0xff;
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = u8();
                    if (proto > 5) {
                        throw error("pickle protocol " + proto + " is not supported");
                    }
                }
                case 0x95 -> skip(8); // FRAME: frames are just a hint for buffering
                case '.' -> { // STOP
                    if (stack.size() != 1 || !marks.isEmpty()) {
                        throw error("STOP with " + stack.size() + " values on the stack: malformed pickle");
                    }
                    return stack.get(0);
                }
                case '}' -> pushNew(new LinkedHashMap<Object, Object>()); // EMPTY_DICT
                case ']' -> pushNew(new ArrayList<Object>()); // EMPTY_LIST
                case ')' -> pushNew(new ArrayList<Object>()); // EMPTY_TUPLE
                case '(' -> { // MARK
                    if (marks.size() >= limits.maxMarkDepth()) {
                        throw error("marks nested deeper than " + limits.maxMarkDepth());
                    }
                    marks.add(stack.size());
                    push(MARK);
                }
                case '0' -> pop(); // POP
                case '1' -> popMark(); // POP_MARK
                case '2' -> push(peek()); // DUP
                case 'X' -> pushNew(utf8(u32())); // BINUNICODE
                case 0x8c -> pushNew(utf8(u8())); // SHORT_BINUNICODE
                case 0x8d -> pushNew(utf8(u64())); // BINUNICODE8
                case 'C' -> pushNew(bytes(u8())); // SHORT_BINBYTES
                case 'B' -> pushNew(bytes(u32())); // BINBYTES
                case 'J' -> pushNew((long) i32()); // BININT
                case 'K' -> pushNew((long) u8()); // BININT1
                case 'M' -> pushNew((long) u16()); // BININT2
                case 0x8a -> pushNew(long1()); // LONG1
                case 'G' -> pushNew(f64be()); // BINFLOAT
                case 0x88 -> push(Boolean.TRUE); // NEWTRUE
                case 0x89 -> push(Boolean.FALSE); // NEWFALSE
                case 'N' -> push(null); // NONE
                case 't' -> pushNew(popMark()); // TUPLE
                case 0x85 -> pushNew(tuple(1)); // TUPLE1
                case 0x86 -> pushNew(tuple(2)); // TUPLE2
                case 0x87 -> pushNew(tuple(3)); // TUPLE3
                case 'l' -> pushNew(popMark()); // LIST
                case 'd' -> { // DICT
                    List<Object> items = popMark();
                    Map<Object, Object> m = new LinkedHashMap<>();
                    putAll(m, items);
                    pushNew(m);
                }
                case 's' -> { // SETITEM
                    Object v = pop();
                    Object k = pop();
                    countItems(1);
                    dict(peek(), "SETITEM").put(key(k), v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    putAll(dict(peek(), "SETITEMS"), items);
                }
                case 'a' -> { // APPEND
                    Object v = pop();
                    countItems(1);
                    list(peek(), "APPEND").add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    countItems(items.size());
                    list(peek(), "APPENDS").addAll(items);
                }
                case 'q' -> memoPut(u8()); // BINPUT
                case 'r' -> memoPut(u32()); // LONG_BINPUT
                case 0x94 -> memoPut(memo.size()); // MEMOIZE (the next index: CPython memoizes in order)
                case 'h' -> push(memoGet(u8())); // BINGET
                case 'j' -> push(memoGet(u32())); // LONG_BINGET
                case 'c' -> { // GLOBAL
                    String module = line();
                    String name = line();
                    pushNew(global(module, name));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error("STACK_GLOBAL needs two strings");
                    }
                    pushNew(global(m, n));
                }
                case 'R' -> { // REDUCE
                    Object args = pop();
                    Object callable = pop();
                    pushNew(reduce(callable, args));
                }
                case 'Q' -> pushNew(persistentLoad(pop())); // BINPERSID
                case 'b' -> { // BUILD
                    Object state = pop();
                    Object target = peek();
                    if (!orderedDicts.contains(target)) {
                        throw error("BUILD on " + describe(target) + " is not allowed (only OrderedDict state is accepted)");
                    }
                    if (state != null && !(state instanceof Map)) {
                        throw error("BUILD of an OrderedDict with a " + describe(state) + " state is not allowed");
                    }
                    // the state holds attributes such as a state dict's _metadata: not needed, ignored
                }
                default -> throw error(String.format("pickle opcode 0x%02x ('%s') at byte %d is not supported by this restricted reader",
                        op, op >= 32 && op < 127 ? String.valueOf((char) op) : "?", at));
            }
        }
    }

    private Object global(String module, String name) {
        String full = module + "." + name;
        if (!ALLOWED_GLOBALS.contains(full)) {
            throw error("pickle refers to global '" + full + "', which is not allowed: only tensors and plain values are read "
                    + "(allowed globals: " + ALLOWED_GLOBALS + ")");
        }
        return new Global(full);
    }

    private Object reduce(Object callable, Object argsObj) {
        if (!(callable instanceof Global g)) {
            throw error("REDUCE applied to " + describe(callable) + ", not to an allowed global");
        }
        if (!(argsObj instanceof List<?> args)) {
            throw error("REDUCE of " + g.name() + " with non-tuple arguments");
        }
        switch (g.name()) {
            case "collections.OrderedDict" -> {
                Map<Object, Object> m = new LinkedHashMap<>();
                if (args.size() == 1 && args.get(0) instanceof List<?> pairs) {
                    for (Object p : pairs) {
                        if (!(p instanceof List<?> kv) || kv.size() != 2) {
                            throw error("OrderedDict() argument is not a list of pairs");
                        }
                        m.put(key(kv.get(0)), kv.get(1));
                    }
                } else if (!args.isEmpty()) {
                    throw error("OrderedDict() with " + args.size() + " arguments is not supported");
                }
                orderedDicts.add(m);
                return m;
            }
            case "torch._utils._rebuild_tensor_v2" -> {
                if (args.size() < 4 || args.size() > 7) {
                    throw error("_rebuild_tensor_v2 with " + args.size() + " arguments");
                }
                if (!(args.get(0) instanceof StorageRef storage)) {
                    throw error("_rebuild_tensor_v2: first argument is " + describe(args.get(0)) + ", not a storage");
                }
                long offset = integer(args.get(1), "_rebuild_tensor_v2 storage offset");
                long[] shape = longs(args.get(2), "_rebuild_tensor_v2 size");
                long[] strides = longs(args.get(3), "_rebuild_tensor_v2 stride");
                if (shape.length != strides.length) {
                    throw error("_rebuild_tensor_v2: size " + java.util.Arrays.toString(shape) + " and stride "
                            + java.util.Arrays.toString(strides) + " differ in rank");
                }
                return tensors.tensor(storage, offset, shape, strides);
            }
            case "torch._utils._rebuild_parameter" -> {
                if (args.isEmpty() || args.size() > 3) {
                    throw error("_rebuild_parameter with " + args.size() + " arguments");
                }
                return args.get(0);
            }
            default -> throw error("global '" + g.name() + "' cannot be called");
        }
    }

    private Object persistentLoad(Object pid) {
        if (!(pid instanceof List<?> t) || t.size() != 5 || !"storage".equals(t.get(0))) {
            throw error("unsupported persistent id " + describe(pid) + " (expected ('storage', type, key, location, numel))");
        }
        if (!(t.get(1) instanceof Global g) || !STORAGE_TYPES.containsKey(g.name())) {
            throw error("persistent id names " + describe(t.get(1)) + ", not a storage type");
        }
        if (!(t.get(2) instanceof String key) || !(t.get(3) instanceof String location)) {
            throw error("persistent id with a non-string key or location");
        }
        if (key.isEmpty() || key.length() > 64 || !key.matches("[A-Za-z0-9_.-]+") || key.contains("..")) {
            throw error("storage key '" + key + "' is not a plain name");
        }
        long numel = integer(t.get(4), "storage size");
        if (numel < 0) {
            throw error("storage '" + key + "' has negative size " + numel);
        }
        return new StorageRef(key, STORAGE_TYPES.get(g.name()), numel, location);
    }

    // ---- containers

    private void putAll(Map<Object, Object> m, List<Object> items) {
        if (items.size() % 2 != 0) {
            throw error("odd number of items for a dict");
        }
        countItems(items.size() / 2);
        for (int i = 0; i < items.size(); i += 2) {
            m.put(key(items.get(i)), items.get(i + 1));
        }
    }

    private Object key(Object k) {
        if (k == null || k instanceof String || k instanceof Long || k instanceof Boolean || k instanceof Double) {
            return k;
        }
        if (k instanceof List<?> l) {
            // tuples are hashable in Python: use an immutable copy, once it is known to be small
            // and shallow (hashing a shared or self-containing tuple would take exponential time
            // or overflow the stack)
            checkKey(l, 1, new int[] {0});
            return Collections.unmodifiableList(new ArrayList<>(l));
        }
        throw error("dict key of type " + describe(k) + " is not supported");
    }

    private void checkKey(List<?> l, int depth, int[] count) {
        if (depth > MAX_KEY_DEPTH) {
            throw error("a tuple used as a dict key is nested deeper than " + MAX_KEY_DEPTH);
        }
        for (Object o : l) {
            if (++count[0] > MAX_KEY_ITEMS) {
                throw error("a tuple used as a dict key holds more than " + MAX_KEY_ITEMS + " values");
            }
            if (o instanceof List<?> inner) {
                checkKey(inner, depth + 1, count);
            } else if (!(o == null || o instanceof String || o instanceof Long || o instanceof Boolean || o instanceof Double)) {
                throw error("a tuple used as a dict key holds " + describe(o) + "; only strings, numbers, booleans and None are "
                        + "supported there");
            }
        }
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o, String op) {
        if (o instanceof Map<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw error(op + " on " + describe(o) + ", not a dict");
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, String op) {
        if (o instanceof List<?> l) {
            return (List<Object>) l;
        }
        throw error(op + " on " + describe(o) + ", not a list");
    }

    private List<Object> tuple(int n) {
        if (stack.size() - topMark() < n) {
            throw error("stack underflow building a tuple");
        }
        List<Object> out = new ArrayList<>(n);
        for (int i = stack.size() - n; i < stack.size(); i++) {
            out.add(stack.get(i));
        }
        for (int i = 0; i < n; i++) {
            pop();
        }
        return out;
    }

    private long integer(Object o, String what) {
        if (o instanceof Long l) {
            return l;
        }
        throw error(what + " is " + describe(o) + ", not an integer");
    }

    private long[] longs(Object o, String what) {
        if (!(o instanceof List<?> l)) {
            throw error(what + " is " + describe(o) + ", not a tuple");
        }
        if (l.size() > 16) {
            throw error(what + " has rank " + l.size() + " (at most 16)");
        }
        long[] out = new long[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = integer(l.get(i), what);
        }
        return out;
    }

    // ---- stack and memo

    private int topMark() {
        return marks.isEmpty() ? 0 : marks.get(marks.size() - 1) + 1;
    }

    private void push(Object o) {
        if (stack.size() >= limits.maxStack()) {
            throw error("more than " + limits.maxStack() + " values on the stack at byte " + (pos - 1));
        }
        stack.add(o);
    }

    /** Pushes a value the pickle just created, counting it against the object budget. */
    private void pushNew(Object o) {
        if (++objects > limits.maxObjects()) {
            throw error("creates more than " + limits.maxObjects() + " objects (at byte " + (pos - 1) + ")");
        }
        push(o);
    }

    private void countItems(long n) {
        items += n;
        if (items > limits.maxItems()) {
            throw error("puts more than " + limits.maxItems() + " items into lists, tuples and dicts (at byte " + (pos - 1) + ")");
        }
    }

    private Object pop() {
        if (stack.size() <= topMark()) {
            throw error("stack underflow at byte " + (pos - 1) + ": malformed pickle");
        }
        return stack.remove(stack.size() - 1);
    }

    private Object peek() {
        if (stack.size() <= topMark()) {
            throw error("stack underflow at byte " + (pos - 1) + ": malformed pickle");
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) {
            throw error("no MARK on the stack at byte " + (pos - 1) + ": malformed pickle");
        }
        int m = marks.remove(marks.size() - 1);
        List<Object> popped = new ArrayList<>(stack.subList(m + 1, stack.size()));
        stack.subList(m, stack.size()).clear();
        countItems(popped.size());
        return popped;
    }

    private void memoPut(long index) {
        if (index >= limits.maxMemo()) {
            throw error("memo index " + index + " is beyond the limit of " + limits.maxMemo() + " memo entries");
        }
        Object v = peek();
        int i = (int) index;
        while (memo.size() <= i) {
            memo.add(UNSET);
        }
        memo.set(i, v);
    }

    private Object memoGet(long index) {
        Object v = index < memo.size() ? memo.get((int) index) : UNSET;
        if (v == UNSET) {
            throw error("memo entry " + index + " is read before it is written: malformed pickle");
        }
        return v;
    }

    // ---- primitive reads, all bounds-checked

    private void need(long n) {
        if (n < 0 || n > data.length - pos) {
            throw error("pickle needs " + n + " more bytes at byte " + pos + " but has " + (data.length - pos) + ": truncated");
        }
    }

    private void skip(long n) {
        need(n);
        pos += (int) n;
    }

    private int u8() {
        need(1);
        return data[pos++] & 0xff;
    }

    private int u16() {
        need(2);
        int v = (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8;
        pos += 2;
        return v;
    }

    private int i32() {
        need(4);
        int v = (data[pos] & 0xff) | (data[pos + 1] & 0xff) << 8 | (data[pos + 2] & 0xff) << 16 | (data[pos + 3] & 0xff) << 24;
        pos += 4;
        return v;
    }

    private long u32() {
        return i32() & 0xffffffffL;
    }

    private long u64() {
        long lo = u32();
        long hi = u32();
        if (hi != 0) {
            throw error("8-byte length over 4 GB at byte " + pos);
        }
        return lo;
    }

    private long long1() {
        int n = u8();
        if (n > 8) {
            throw error("integer of " + n + " bytes does not fit in 64 bits");
        }
        need(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (data[pos + i] & 0xff);
        }
        if (n > 0 && n < 8 && (data[pos + n - 1] & 0x80) != 0) {
            v -= 1L << (8 * n); // sign-extend
        }
        pos += n;
        return v;
    }

    private double f64be() {
        need(8);
        long bits = 0;
        for (int i = 0; i < 8; i++) {
            bits = (bits << 8) | (data[pos + i] & 0xff);
        }
        pos += 8;
        return Double.longBitsToDouble(bits);
    }

    private String utf8(long n) {
        if (n > limits.maxStringBytes()) {
            throw error("string of " + n + " bytes at byte " + pos + " exceeds the limit of " + limits.maxStringBytes());
        }
        need(n);
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(data, pos, (int) n)).toString();
            pos += (int) n;
            return s;
        } catch (CharacterCodingException e) {
            throw error("string at byte " + pos + " is not valid UTF-8");
        }
    }

    private byte[] bytes(long n) {
        if (n > limits.maxStringBytes()) {
            throw error("bytes of length " + n + " exceed the limit of " + limits.maxStringBytes());
        }
        need(n);
        byte[] out = java.util.Arrays.copyOfRange(data, pos, pos + (int) n);
        pos += (int) n;
        return out;
    }

    /** A newline-terminated ASCII line (GLOBAL's module and name), at most 256 characters. */
    private String line() {
        int start = pos;
        while (pos < data.length && data[pos] != '\n') {
            int c = data[pos] & 0xff;
            if (c < 32 || c > 126 || pos - start > 256) {
                throw error("malformed GLOBAL name at byte " + start);
            }
            pos++;
        }
        if (pos >= data.length) {
            throw error("GLOBAL name at byte " + start + " is not terminated: truncated");
        }
        String s = new String(data, start, pos - start, StandardCharsets.US_ASCII);
        pos++;
        return s;
    }

    // ---- result checks

    /** Refuses cyclic results and nesting deeper than the limit, so that callers may recurse safely. */
    private void checkNesting(Object root) {
        Set<Object> done = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<Object> path = Collections.newSetFromMap(new IdentityHashMap<>());
        walk(root, 0, done, path);
    }

    private void walk(Object o, int depth, Set<Object> done, Set<Object> path) {
        if (!(o instanceof Map) && !(o instanceof List)) {
            return;
        }
        if (done.contains(o)) {
            return;
        }
        if (depth > limits.maxNesting()) {
            throw error("values nested deeper than " + limits.maxNesting());
        }
        if (!path.add(o)) {
            throw error("the pickle holds a container that contains itself");
        }
        if (o instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                walk(e.getKey(), depth + 1, done, path);
                walk(e.getValue(), depth + 1, done, path);
            }
        } else {
            for (Object v : (List<?>) o) {
                walk(v, depth + 1, done, path);
            }
        }
        path.remove(o);
        done.add(o);
    }

    private static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o == MARK) {
            return "a MARK";
        }
        if (o instanceof Global g) {
            return "global " + g.name();
        }
        if (o instanceof Map) {
            return "a dict";
        }
        if (o instanceof List) {
            return "a list/tuple";
        }
        return "a " + o.getClass().getSimpleName();
    }
}
