package dev.steer.core.internal.weights;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.steer.core.model.ModelConfigException;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import dev.steer.core.weights.WeightsFormatException;

/**
 * A sharded safetensors checkpoint as transformers and diffusers write it: an index
 * ({@code model.safetensors.index.json}, {@code diffusion_pytorch_model.safetensors.index.json},
 * or a variant's {@code ...safetensors.index.fp16.json}) whose {@code weight_map} names, for every
 * tensor, the shard file that holds it ({@code "model-00001-of-00002.safetensors"}).
 *
 * <p>Reading is bounded and strict, because the index decides which files are opened: the index is
 * at most {@link #MAX_INDEX_BYTES}; every shard name must be a plain {@code .safetensors} file name
 * in the index's own folder (no separator, no {@code ..}, not absolute); every shard must exist;
 * and every shard's header must hold exactly the tensors the index maps to it (a tensor mapped to a
 * shard that lacks it, or a shard holding a tensor the index puts elsewhere, is an error naming both).
 * Only the shards' headers are read here; the tensors are read when a model loads them.
 *
 * <p>Errors are {@link ModelConfigException}s (the index is part of a model folder) whose message
 * starts with the index file.
 */
public final class ShardedCheckpoint {
    /** Index files larger than this are refused (real ones are tens to hundreds of KB). */
    public static final long MAX_INDEX_BYTES = 16L << 20;

    private final Path index;
    private final List<Path> shards;
    private final Map<String, Path> weightMap;

    private ShardedCheckpoint(Path index, List<Path> shards, Map<String, Path> weightMap) {
        this.index = index;
        this.shards = List.copyOf(shards);
        this.weightMap = Collections.unmodifiableMap(weightMap);
    }

    /**
     * Reads and checks an index file and the headers of the shards it names.
     *
     * @throws ModelConfigException naming the index file (and the shard or tensor concerned) when
     *     the index is missing, too large, not valid JSON, has no {@code weight_map}, names a shard
     *     outside its folder or one that does not exist, or disagrees with a shard's contents
     */
    public static ShardedCheckpoint read(Path indexFile) {
        Path index = indexFile.toAbsolutePath().normalize();
        Path dir = index.getParent();
        JsonObject weightMapJson = parseWeightMap(index);
        Map<String, Path> weightMap = new LinkedHashMap<>();
        Map<Path, List<String>> byShard = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : weightMapJson.entrySet()) {
            JsonElement v = e.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                throw new ModelConfigException(index, "weight_map entry '" + e.getKey() + "' should be a shard file name, found " + v);
            }
            String name = v.getAsString();
            Path shard = dir.resolve(checkShardName(index, e.getKey(), name));
            weightMap.put(e.getKey(), shard);
            byShard.computeIfAbsent(shard, s -> new ArrayList<>()).add(e.getKey());
        }
        for (Map.Entry<Path, List<String>> e : byShard.entrySet()) {
            checkShard(index, e.getKey(), e.getValue(), weightMap);
        }
        return new ShardedCheckpoint(index, new ArrayList<>(byShard.keySet()), weightMap);
    }

    /** The index file (absolute). */
    public Path indexFile() {
        return index;
    }

    /** The shard files, in the order the index first names them. */
    public List<Path> shards() {
        return shards;
    }

    /** Tensor name to the shard that holds it, in index order. */
    public Map<String, Path> weightMap() {
        return weightMap;
    }

    private static String checkShardName(Path index, String tensor, String name) {
        boolean plain = !name.isEmpty() && name.indexOf('/') < 0 && name.indexOf('\\') < 0 && name.indexOf('\0') < 0
                && !name.equals(".") && !name.equals("..") && !name.contains(":");
        if (!plain || Path.of(name).isAbsolute()) {
            throw new ModelConfigException(index, "tensor '" + tensor + "' is mapped to shard '" + name
                    + "', which is not a plain file name in the index's folder (no folders, '..' or absolute paths)");
        }
        if (!name.endsWith(".safetensors")) {
            throw new ModelConfigException(index, "tensor '" + tensor + "' is mapped to shard '" + name
                    + "'; only .safetensors shards are read");
        }
        return name;
    }

    private static void checkShard(Path index, Path shard, List<String> tensors, Map<String, Path> weightMap) {
        if (!Files.isRegularFile(shard)) {
            throw new ModelConfigException(index, "shard '" + shard.getFileName() + "' is missing (the index maps "
                    + tensors.size() + " tensors to it, e.g. '" + tensors.get(0) + "')");
        }
        try (SafetensorsFile st = SafetensorsFile.open(shard)) {
            for (String t : tensors) {
                if (!st.contains(t)) {
                    throw new ModelConfigException(index, "maps tensor '" + t + "' to shard '" + shard.getFileName()
                            + "', which does not hold it");
                }
            }
            for (String t : st.tensors().keySet()) {
                Path owner = weightMap.get(t);
                if (!shard.equals(owner)) {
                    throw new ModelConfigException(index, "shard '" + shard.getFileName() + "' holds tensor '" + t + "' that the index "
                            + (owner == null ? "does not list" : "maps to shard '" + owner.getFileName() + "'"));
                }
            }
        } catch (WeightsFormatException e) {
            throw new ModelConfigException(index, "shard '" + shard.getFileName() + "' is not a valid safetensors file: "
                    + e.getMessage());
        }
    }

    private static JsonObject parseWeightMap(Path index) {
        String text = readBounded(index);
        JsonElement root;
        try {
            JsonReader reader = new JsonReader(new StringReader(text));
            reader.setStrictness(Strictness.STRICT);
            root = JsonParser.parseReader(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new ModelConfigException(index, "is not valid JSON: trailing content after the top-level object");
            }
        } catch (JsonParseException | IOException | IllegalStateException e) {
            throw new ModelConfigException(index, "is not valid JSON: " + e.getMessage());
        }
        if (!root.isJsonObject()) {
            throw new ModelConfigException(index, "is not a JSON object: not a sharded checkpoint index");
        }
        JsonElement map = root.getAsJsonObject().get("weight_map");
        if (map == null || !map.isJsonObject()) {
            throw new ModelConfigException(index, "sharded index has no weight_map object");
        }
        if (map.getAsJsonObject().size() == 0) {
            throw new ModelConfigException(index, "sharded index has an empty weight_map");
        }
        return map.getAsJsonObject();
    }

    private static String readBounded(Path index) {
        if (!Files.isRegularFile(index)) {
            throw new ModelConfigException(index, "sharded index file not found");
        }
        byte[] bytes;
        try {
            long size = Files.size(index);
            if (size > MAX_INDEX_BYTES) {
                throw new ModelConfigException(index, "is " + size + " bytes, over the " + MAX_INDEX_BYTES
                        + "-byte limit for a sharded index");
            }
            bytes = Files.readAllBytes(index);
        } catch (IOException e) {
            throw new ModelConfigException(index, "cannot read: " + e.getMessage());
        }
        if (bytes.length > MAX_INDEX_BYTES) {
            throw new ModelConfigException(index, "is over the " + MAX_INDEX_BYTES + "-byte limit for a sharded index");
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ModelConfigException(index, "is not valid UTF-8");
        }
    }
}
