package dev.steer.core.internal.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.model.ModelConfigException;
import dev.steer.core.model.ModelFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ShardedCheckpoint}: a transformers/diffusers index resolves to its shards, and an index
 * that names files outside its folder, missing shards, or tensors its shards do not hold is refused
 * with the index and the shard or tensor named.
 */
class ShardedCheckpointTest {
    private static final String A = "model-00001-of-00002.safetensors";
    private static final String B = "model-00002-of-00002.safetensors";

    @TempDir
    Path dir;

    private Path index;

    @BeforeEach
    void writeShards() {
        Map<String, TensorData> first = new LinkedHashMap<>();
        first.put("shared.weight", TensorData.ofFloats(new long[] {2, 2}, new float[] {1, 2, 3, 4}));
        first.put("encoder.block.0.layer.0.layer_norm.weight", TensorData.ofFloats(new long[] {2}, new float[] {1, 1}));
        Map<String, TensorData> second = new LinkedHashMap<>();
        second.put("encoder.final_layer_norm.weight", TensorData.ofFloats(new long[] {2}, new float[] {1, 1}));
        SafetensorsWriter.write(dir.resolve(A), first, null);
        SafetensorsWriter.write(dir.resolve(B), second, null);
        index = dir.resolve("model.safetensors.index.json");
    }

    private void writeIndex(String weightMapEntries) throws IOException {
        Files.writeString(index, "{\"metadata\": {\"total_size\": 32}, \"weight_map\": {" + weightMapEntries + "}}");
    }

    private static final String GOOD = "\"shared.weight\": \"" + A + "\", \"encoder.block.0.layer.0.layer_norm.weight\": \"" + A
            + "\", \"encoder.final_layer_norm.weight\": \"" + B + "\"";

    private ModelConfigException refused() {
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> ShardedCheckpoint.read(index));
        assertTrue(e.getMessage().contains("model.safetensors.index.json"), e.getMessage());
        return e;
    }

    @Test
    void indexResolvesToItsShardsInOrder() throws IOException {
        writeIndex(GOOD);
        ShardedCheckpoint c = ShardedCheckpoint.read(index);
        assertEquals(List.of(dir.resolve(A).toAbsolutePath().normalize(), dir.resolve(B).toAbsolutePath().normalize()), c.shards());
        assertEquals(3, c.weightMap().size());
        assertEquals(c.shards(), ModelFolder.weightFiles(dir, "model", null), "model folders resolve the same shards");
    }

    @Test
    void missingShardIsNamed() throws IOException {
        writeIndex(GOOD);
        Files.delete(dir.resolve(B));
        assertTrue(refused().getMessage().contains("'" + B + "' is missing"));
    }

    @Test
    void shardNamesOutsideTheFolderAreRefused() throws IOException {
        for (String bad : List.of("../" + B, "sub/" + B, dir.resolve(B).toAbsolutePath().toString(), "..", "..\\\\" + B)) {
            writeIndex(GOOD.replace("\"" + B + "\"", "\"" + bad + "\""));
            String m = refused().getMessage();
            assertTrue(m.contains("not a plain file name"), bad + ": " + m);
        }
        writeIndex(GOOD.replace("\"" + B + "\"", "\"model-00002-of-00002.bin\""));
        assertTrue(refused().getMessage().contains("only .safetensors"));
    }

    @Test
    void tensorMappedToAShardThatLacksItNamesBoth() throws IOException {
        writeIndex(GOOD + ", \"encoder.block.1.layer.0.layer_norm.weight\": \"" + B + "\"");
        String m = refused().getMessage();
        assertTrue(m.contains("encoder.block.1.layer.0.layer_norm.weight") && m.contains(B) && m.contains("does not hold it"), m);
    }

    @Test
    void shardHoldingATensorTheIndexPutsElsewhereIsRefused() throws IOException {
        writeIndex(GOOD.replace("\"shared.weight\": \"" + A + "\"", "\"shared.weight\": \"" + B + "\""));
        String m = refused().getMessage();
        assertTrue(m.contains("shared.weight"), m);
    }

    @Test
    void malformedOrOversizedIndexesAreRefused() throws IOException {
        Files.writeString(index, "{\"weight_map\": {\"shared.weight\": ");
        assertTrue(refused().getMessage().contains("not valid JSON"));
        Files.writeString(index, "{\"metadata\": {}}");
        assertTrue(refused().getMessage().contains("no weight_map"));
        writeIndex("\"shared.weight\": 3");
        assertTrue(refused().getMessage().contains("shared.weight"));
        try (var out = Files.newOutputStream(index)) {
            byte[] block = new byte[1 << 20];
            java.util.Arrays.fill(block, (byte) ' ');
            for (int i = 0; i <= ShardedCheckpoint.MAX_INDEX_BYTES >> 20; i++) {
                out.write(block);
            }
        }
        assertTrue(refused().getMessage().contains("limit"));
    }
}
