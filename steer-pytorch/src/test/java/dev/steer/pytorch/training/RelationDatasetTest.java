package dev.steer.pytorch.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading the documented dataset format, splitting by triplet, seeded batches, and format errors. */
class RelationDatasetTest {
    @TempDir
    Path tmp;

    private RelationDataset small() throws IOException {
        // 30 triplets x 3 steps x (positive, negative) = 180 samples in shards of 50 (the last one partial)
        return RelationDataset.open(SyntheticRelationData.write(tmp.resolve("data"),
                SyntheticRelationData.Spec.leaky(30, 5).withPerShard(50)));
    }

    @Test
    void readsManifestShardsAndSamples() throws IOException {
        RelationDataset ds = small();
        assertEquals(180, ds.size());
        assertEquals(4, ds.mapsPerWord());
        assertEquals(16, ds.mapSize());
        assertEquals(SyntheticRelationData.RELATIONS, ds.relations());
        assertEquals(List.of(5, 25, 49), ds.stepIndices());
        assertEquals("synthetic blobs (test)", ds.model());
        assertEquals(30, ds.tripletIds().length);
        assertEquals(90, ds.all().positiveCount());
        for (int i = 0; i < ds.size(); i++) {
            assertEquals(ds.positive(i), ds.label(i) == ds.promptRelation(i), "sample " + i);
            assertEquals(ds.triplet(i) % 4, ds.label(i));
        }
        // every map sums to 1, across shard boundaries
        RelationDataset.Batch b = ds.batch(new int[] {0, 49, 50, 179});
        assertArrayEquals(new long[] {4, 2, 4, 16, 16}, b.shape());
        for (int m = 0; m < 4 * 2 * 4; m++) {
            double sum = 0;
            for (int i = 0; i < 256; i++) {
                sum += b.maps()[m * 256 + i];
            }
            assertEquals(1.0, sum, 1e-4, "map " + m);
        }
        assertEquals(ds.label(179), b.labels()[3]);
        assertEquals(ds.timestep(50), b.timesteps()[2]);
        assertTrue(ds.toString().contains("180 samples (90 positive, 90 negative) of 30 triplets"), ds.toString());
    }

    @Test
    void splitsByTripletReproducibly() throws IOException {
        RelationDataset ds = small();
        RelationDataset.Split s = ds.split(11, 0.8, 0.1);
        assertEquals(ds.size(), s.train().size() + s.validation().size() + s.test().size());
        assertEquals(24, s.train().tripletCount());
        assertEquals(3, s.validation().tripletCount());
        assertEquals(3, s.test().tripletCount());
        Set<Long> train = triplets(ds, s.train());
        Set<Long> val = triplets(ds, s.validation());
        Set<Long> test = triplets(ds, s.test());
        assertTrue(disjoint(train, val) && disjoint(train, test) && disjoint(val, test), "a triplet in two parts");
        // every sample of a triplet lands in the same part
        assertEquals(s.train().size(), train.size() * 6);
        RelationDataset.Split again = ds.split(11, 0.8, 0.1);
        assertArrayEquals(s.test().indices(), again.test().indices());
        assertNotEquals(test, triplets(ds, ds.split(12, 0.8, 0.1).test()), "another seed, another split");
        // a tiny dataset still gets one triplet in each part
        RelationDataset.Split tiny = RelationDataset.open(SyntheticRelationData.write(tmp.resolve("tiny"),
                SyntheticRelationData.Spec.geometric(3, 1))).split(0, 0.8, 0.1);
        assertEquals(List.of(1, 1, 1), List.of(tiny.train().tripletCount(), tiny.validation().tripletCount(), tiny.test().tripletCount()));
        assertThrows(IllegalArgumentException.class, () -> ds.split(0, 0.9, 0.2));
    }

    @Test
    void batchesAreSeededShufflesCoveringTheSubset() throws IOException {
        RelationDataset ds = small();
        RelationDataset.Subset train = ds.split(1, 0.8, 0.1).train();
        List<int[]> a = train.batchIndices(64, 42);
        List<int[]> b = train.batchIndices(64, 42);
        List<int[]> c = train.batchIndices(64, 43);
        assertEquals(3, a.size());
        assertEquals(144 - 128, a.get(2).length);
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i), b.get(i));
        }
        assertFalse(Arrays.equals(a.get(0), c.get(0)), "another seed, another order");
        int[] all = a.stream().flatMapToInt(Arrays::stream).sorted().toArray();
        assertArrayEquals(train.indices(), all);
        assertFalse(Arrays.equals(train.indices(), a.stream().flatMapToInt(Arrays::stream).toArray()), "shuffled");
        int n = 0;
        for (RelationDataset.Batch batch : train.batchesInOrder(50)) {
            n += batch.size();
        }
        assertEquals(train.size(), n);
    }

    @Test
    void dropsNegatives() throws IOException {
        RelationDataset ds = small();
        RelationDataset.Subset pos = ds.all().withoutNegatives();
        assertEquals(90, pos.size());
        for (int i : pos.indices()) {
            assertTrue(ds.positive(i));
        }
        assertEquals(30, pos.tripletCount());
    }

    @Test
    void reportsFormatErrorsNamingTheFile() throws IOException {
        Path dir = SyntheticRelationData.write(tmp.resolve("bad"), SyntheticRelationData.Spec.geometric(4, 1));
        Path manifest = dir.resolve("manifest.json");
        String good = Files.readString(manifest);

        Files.writeString(manifest, good.replace("\"steer-relation-dataset\"", "\"something-else\""));
        assertMessage(dir, "manifest.json", "'format' is 'something-else'");
        Files.writeString(manifest, good.replace("\"maps_per_word\": 4", "\"maps_per_word\": 5"));
        assertMessage(dir, "shard-00000.safetensors", "tensor 'maps' has shape [24, 2, 4, 16, 16], expected [24, 2, 5, 16, 16]");
        Files.writeString(manifest, good.replace("\"samples\": 24", "\"samples\": 25"));
        assertMessage(dir, "shard-00000.safetensors", "expected [25");
        Files.writeString(manifest, good.replace("\"shard-00000.safetensors\"", "\"shard-00009.safetensors\""));
        assertMessage(dir, "shard-00009.safetensors", "missing");
        Files.writeString(manifest, good.replace("\"maps_per_word\": 4,", ""));
        assertMessage(dir, "manifest.json", "missing required key 'maps_per_word'");
        Files.writeString(manifest, "{not json");
        assertMessage(dir, "manifest.json", "not valid JSON");
        assertMessage(tmp.resolve("nowhere"), "manifest.json", "not a relation dataset folder");

        // a label outside the relations, and a missing tensor
        Files.writeString(manifest, good);
        Map<String, SyntheticRelationData.Tensor> t = new LinkedHashMap<>();
        t.put("maps", SyntheticRelationData.Tensor.f32(new float[24 * 2 * 4 * 256], 24, 2, 4, 16, 16));
        long[] labels = new long[24];
        labels[3] = 7;
        for (String name : List.of("timestep", "label", "prompt_relation", "triplet")) {
            t.put(name, SyntheticRelationData.Tensor.i64(name.equals("label") ? labels : new long[24], 24));
        }
        SyntheticRelationData.writeSafetensors(dir.resolve("shard-00000.safetensors"), t);
        assertMessage(dir, "shard-00000.safetensors", "no tensor 'positive'");
        t.put("positive", SyntheticRelationData.Tensor.u8(new long[24], 24));
        SyntheticRelationData.writeSafetensors(dir.resolve("shard-00000.safetensors"), t);
        assertMessage(dir, "shard-00000.safetensors", "'label' of sample 3 is 7, outside the 4 relations");
    }

    private static void assertMessage(Path dir, String file, String fragment) {
        RelationDatasetException e = assertThrows(RelationDatasetException.class, () -> RelationDataset.open(dir));
        assertTrue(e.getMessage().contains(file) && e.getMessage().contains(fragment), e.getMessage());
    }

    private static Set<Long> triplets(RelationDataset ds, RelationDataset.Subset s) {
        Set<Long> out = new HashSet<>();
        for (int i : s.indices()) {
            out.add(ds.triplet(i));
        }
        return out;
    }

    private static boolean disjoint(Set<Long> a, Set<Long> b) {
        List<Long> both = new ArrayList<>(a);
        both.retainAll(b);
        return both.isEmpty();
    }
}
