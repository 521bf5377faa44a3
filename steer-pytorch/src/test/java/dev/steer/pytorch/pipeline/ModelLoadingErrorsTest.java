package dev.steer.pytorch.pipeline;

import dev.steer.pytorch.testing.TinyModels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.steer.core.model.ModelConfigException;
import dev.steer.core.tokenizer.TokenizerFormatException;
import dev.steer.core.weights.WeightsFormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every way a model folder can be broken, loaded through the public builder: the error has the
 * right type and its message names the offending file and says what is wrong with it.
 */
class ModelLoadingErrorsTest {
    private static final String UNET_WEIGHTS = "unet/diffusion_pytorch_model.safetensors";

    @TempDir
    Path tmp;

    private Path model;

    @BeforeEach
    void copyTinyModel() throws IOException {
        model = TinyModels.folder(tmp.resolve("tiny"));
    }

    // ---------------------------------------------------------------------------------- helpers

    private static <E extends RuntimeException> E refused(Class<E> type, Path folder) {
        return assertThrows(type, () -> StableDiffusion.builder().setModelFolder(folder).build().close());
    }

    /** Asserts the message names {@code file} (its full path) and contains every word of the problem. */
    private static void assertNames(RuntimeException e, Path file, String... problem) {
        String msg = e.getMessage();
        System.out.println(e.getClass().getSimpleName() + ": " + msg);
        assertTrue(msg.contains(file.toString()), "message should name " + file + ": " + msg);
        for (String p : problem) {
            assertTrue(msg.toLowerCase(Locale.ROOT).contains(p.toLowerCase(Locale.ROOT)), "message should say '" + p + "': " + msg);
        }
    }

    private static void replaceInFile(Path file, String from, String to) throws IOException {
        String text = Files.readString(file);
        assertTrue(text.contains(from), file + " does not contain " + from);
        Files.writeString(file, text.replace(from, to));
    }

    /** Writes a safetensors file: little-endian u64 header length, JSON header, data. */
    static void writeSafetensors(Path file, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, h.length);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(len);
            ch.write(ByteBuffer.wrap(h));
            ch.write(ByteBuffer.wrap(data));
        }
    }

    /** A safetensors file's header (parsed) and data section. */
    private record Parts(JsonObject header, byte[] data) {
    }

    private static Parts readParts(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        long headerLen = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(all, 8, (int) headerLen, StandardCharsets.UTF_8);
        byte[] data = java.util.Arrays.copyOfRange(all, 8 + (int) headerLen, all.length);
        return new Parts(JsonParser.parseString(header).getAsJsonObject(), data);
    }

    /** Rewrites a safetensors file after editing its header (the header length follows the edit). */
    private static void editHeader(Path file, Consumer<JsonObject> edit) throws IOException {
        Parts p = readParts(file);
        edit.accept(p.header());
        writeSafetensors(file, p.header().toString(), p.data());
    }

    private static JsonArray longs(long... v) {
        JsonArray a = new JsonArray();
        for (long x : v) {
            a.add(x);
        }
        return a;
    }

    // ---------------------------------------------------------------------------------- folders

    @Test
    void missingModelFolder() {
        Path nowhere = tmp.resolve("no-such-model");
        assertNames(refused(ModelConfigException.class, nowhere), nowhere, "not found");
    }

    @Test
    void pathIsAFileNotAFolder() throws IOException {
        Path file = Files.writeString(tmp.resolve("model.safetensors"), "x");
        assertNames(refused(ModelConfigException.class, file), file, "not a folder");
    }

    @ParameterizedTest
    @ValueSource(strings = {"unet", "text_encoder", "vae", "tokenizer", "scheduler"})
    void missingComponentFolder(String component) throws IOException {
        Path dir = model.resolve(component);
        try (var files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
        assertNames(refused(ModelConfigException.class, model), model, "missing component folder", "'" + component + "/'");
    }

    @Test
    void missingUNetConfig() throws IOException {
        Path config = model.resolve("unet/config.json");
        Files.delete(config);
        assertNames(refused(ModelConfigException.class, model), config, "missing config");
    }

    @Test
    void missingSchedulerConfig() throws IOException {
        Path config = model.resolve("scheduler/scheduler_config.json");
        Files.delete(config);
        assertNames(refused(ModelConfigException.class, model), config, "missing scheduler config");
    }

    @Test
    void missingTokenizerVocabulary() throws IOException {
        Path vocab = model.resolve("tokenizer/vocab.json");
        Files.delete(vocab);
        assertNames(refused(TokenizerFormatException.class, model), vocab.toAbsolutePath().normalize(), "not found");
    }

    // ---------------------------------------------------------------------------------- configs

    @Test
    void configThatIsNotJson() throws IOException {
        Path config = model.resolve("unet/config.json");
        Files.writeString(config, "{\"in_channels\": 4,, oops");
        assertNames(refused(ModelConfigException.class, model), config, "not valid JSON");
    }

    @Test
    void configThatIsNotAnObject() throws IOException {
        Path config = model.resolve("vae/config.json");
        Files.writeString(config, "[1, 2, 3]");
        assertNames(refused(ModelConfigException.class, model), config, "not a JSON object");
    }

    @Test
    void unetConfigOfAnotherModelClass() throws IOException {
        Path config = model.resolve("unet/config.json");
        replaceInFile(config, "\"UNet2DConditionModel\"", "\"UNet2DModel\"");
        assertNames(refused(ModelConfigException.class, model), config, "unsupported option", "_class_name", "UNet2DModel");
    }

    @Test
    void sdxlUNetConfigIsRefusedNamingTheOption() throws IOException {
        Path config = model.resolve("unet/config.json");
        replaceInFile(config, "\"addition_embed_type\": null", "\"addition_embed_type\": \"text_time\"");
        assertNames(refused(ModelConfigException.class, model), config, "unsupported option", "addition_embed_type", "text_time");
    }

    @Test
    void textEncoderConfigOfAnotherModel() throws IOException {
        Path config = model.resolve("text_encoder/config.json");
        replaceInFile(config, "\"clip_text_model\"", "\"t5\"");
        assertNames(refused(ModelConfigException.class, model), config, "unsupported option", "model_type");
    }

    @Test
    void vaeConfigOfAnotherBlockType() throws IOException {
        Path config = model.resolve("vae/config.json");
        replaceInFile(config, "\"DownEncoderBlock2D\"", "\"AttnDownEncoderBlock2D\"");
        assertNames(refused(ModelConfigException.class, model), config, "unsupported down block type", "AttnDownEncoderBlock2D");
    }

    @Test
    void textEncoderWidthDisagreesWithUNetCrossAttention() throws IOException {
        replaceInFile(model.resolve("text_encoder/config.json"), "\"hidden_size\": 32", "\"hidden_size\": 64");
        ModelConfigException e = refused(ModelConfigException.class, model);
        assertNames(e, model.resolve("unet/config.json"), "cross_attention_dim 32", "hidden_size 64", "does not match");
    }

    // ---------------------------------------------------------------------------------- weight files

    @Test
    void missingWeightsFileListsWhatWasFound() throws IOException {
        Files.delete(model.resolve(UNET_WEIGHTS));
        ModelConfigException e = refused(ModelConfigException.class, model);
        assertNames(e, model.resolve("unet"), "no weights file", "diffusion_pytorch_model.safetensors", "found [config.json]");
    }

    @Test
    void pickledWeightsAreNotLoaded() throws IOException {
        Files.delete(model.resolve(UNET_WEIGHTS));
        Files.write(model.resolve("unet/diffusion_pytorch_model.bin"), new byte[] {(byte) 0x80, 2, 'c'});
        ModelConfigException e = refused(ModelConfigException.class, model);
        assertNames(e, model.resolve("unet"), "no weights file", "diffusion_pytorch_model.bin", "pickled", "not loaded");
    }

    @Test
    void missingTextEncoderWeights() throws IOException {
        Files.delete(model.resolve("text_encoder/model.safetensors"));
        assertNames(refused(ModelConfigException.class, model), model.resolve("text_encoder"), "no weights file", "model.safetensors");
    }

    @Test
    void truncatedWeightsFile() throws IOException {
        Path weights = model.resolve(UNET_WEIGHTS);
        byte[] all = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(all, all.length / 2));
        assertNames(refused(WeightsFormatException.class, model), weights, "outside the data section", "truncated");
    }

    @Test
    void weightsFileShorterThanItsLengthPrefix() throws IOException {
        Path weights = model.resolve("vae/diffusion_pytorch_model.safetensors");
        Files.write(weights, new byte[] {1, 2, 3, 4});
        assertNames(refused(WeightsFormatException.class, model), weights, "too short");
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        Path weights = model.resolve(UNET_WEIGHTS);
        long size = Files.size(weights);
        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, size + 100), 0);
        }
        assertNames(refused(WeightsFormatException.class, model), weights, "header length", "beyond the end of the file");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        Path weights = model.resolve(UNET_WEIGHTS);
        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L), 0);
        }
        assertNames(refused(WeightsFormatException.class, model), weights, "header length", "not a safetensors file");
    }

    @Test
    void dataOffsetsOutsideTheDataEditedInPlace() throws IOException {
        // Rewrites the largest end offset with as many 9s as it has digits: the header keeps its
        // length, so only the offset is wrong.
        Path weights = model.resolve(UNET_WEIGHTS);
        byte[] all = Files.readAllBytes(weights);
        int headerLen = (int) ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(all, 8, headerLen, StandardCharsets.UTF_8);
        long dataSize = all.length - 8L - headerLen;
        String end = "," + dataSize + "]";
        int at = header.indexOf(end);
        assertTrue(at > 0, "no tensor ends at the end of the data");
        String nines = "9".repeat(Long.toString(dataSize).length());
        assertNotEquals(Long.toString(dataSize), nines);
        byte[] edited = (header.substring(0, at) + "," + nines + "]" + header.substring(at + end.length()))
                .getBytes(StandardCharsets.UTF_8);
        assertEquals(headerLen, edited.length);
        System.arraycopy(edited, 0, all, 8, headerLen);
        Files.write(weights, all);
        assertNames(refused(WeightsFormatException.class, model), weights, "data_offsets", "outside the data section");
    }

    @Test
    void dataOffsetsInReverseOrder() throws IOException {
        Path weights = model.resolve(UNET_WEIGHTS);
        editHeader(weights, h -> h.getAsJsonObject("conv_in.bias").add("data_offsets", longs(64, 0)));
        assertNames(refused(WeightsFormatException.class, model), weights, "'conv_in.bias'", "data_offsets [64, 0]");
    }

    @Test
    void unknownDtype() throws IOException {
        Path weights = model.resolve(UNET_WEIGHTS);
        editHeader(weights, h -> h.getAsJsonObject("conv_in.weight").addProperty("dtype", "F8_E4M3"));
        assertNames(refused(WeightsFormatException.class, model), weights, "'conv_in.weight'", "unknown or unsupported dtype",
                "F8_E4M3");
    }

    @Test
    void integerDtypeForAWeight() throws IOException {
        Path weights = model.resolve(UNET_WEIGHTS);
        editHeader(weights, h -> h.getAsJsonObject("conv_in.bias").addProperty("dtype", "I32"));
        assertNames(refused(WeightsFormatException.class, model), weights, "'conv_in.bias'", "dtype I32", "must be F32");
    }

    @Test
    void sizeThatDisagreesWithShapeAndDtype() throws IOException {
        Path weights = model.resolve(UNET_WEIGHTS);
        editHeader(weights, h -> h.getAsJsonObject("conv_in.weight").add("shape", longs(16, 4, 3, 4)));
        assertNames(refused(WeightsFormatException.class, model), weights, "'conv_in.weight'", "bytes of data", "need");
    }

    @Test
    void tensorShapeInTheFileDisagreesWithTheConfig() throws IOException {
        // same element count, so the file itself is consistent: only the config says it is wrong
        Path weights = model.resolve(UNET_WEIGHTS);
        editHeader(weights, h -> h.getAsJsonObject("conv_in.weight").add("shape", longs(16, 4, 9, 1)));
        assertNames(refused(WeightsFormatException.class, model), weights, "'conv_in.weight'", "shape [16, 4, 9, 1]",
                "config implies (16, 4, 3, 3)");
    }

    @Test
    void configWithOtherChannelsThanTheWeights() throws IOException {
        replaceInFile(model.resolve("unet/config.json"), "\"block_out_channels\": [\n    16,\n    32,\n    32\n  ]",
                "\"block_out_channels\": [16, 32, 64]");
        assertNames(refused(WeightsFormatException.class, model), model.resolve(UNET_WEIGHTS), "has shape", "but the config implies");
    }

    @Test
    void configWithOtherCrossAttentionWidthThanTheWeights() throws IOException {
        // text encoder and UNet configs agree with each other (64), but not with the weights (32)
        replaceInFile(model.resolve("unet/config.json"), "\"cross_attention_dim\": 32", "\"cross_attention_dim\": 64");
        replaceInFile(model.resolve("text_encoder/config.json"), "\"hidden_size\": 32", "\"hidden_size\": 64");
        WeightsFormatException e = refused(WeightsFormatException.class, model);
        // the text encoder is loaded first and is the first to disagree
        assertNames(e, model.resolve("text_encoder/model.safetensors"), "has shape", "but the config implies");
    }

    @Test
    void unetCrossAttentionWeightsNarrowerThanTheConfig() throws IOException {
        // only the UNet's config changes width: caught by the config check before any weight is read
        replaceInFile(model.resolve("unet/config.json"), "\"cross_attention_dim\": 32", "\"cross_attention_dim\": 64");
        assertNames(refused(ModelConfigException.class, model), model.resolve("unet/config.json"), "cross_attention_dim 64",
                "does not match");
    }

    @Test
    void tensorTheConfigDoesNotDescribe() throws IOException {
        Path weights = model.resolve(UNET_WEIGHTS);
        Parts p = readParts(weights);
        byte[] data = java.util.Arrays.copyOf(p.data(), p.data().length + 8);
        JsonObject extra = new JsonObject();
        extra.addProperty("dtype", "F32");
        extra.add("shape", longs(2));
        extra.add("data_offsets", longs(p.data().length, p.data().length + 8));
        p.header().add("add_embedding.linear_1.bias", extra);
        writeSafetensors(weights, p.header().toString(), data);
        assertNames(refused(WeightsFormatException.class, model), weights, "1 tensors that the config does not describe",
                "add_embedding.linear_1.bias");
    }

    @Test
    void tensorTheConfigRequiresIsMissing() throws IOException {
        Path weights = model.resolve(UNET_WEIGHTS);
        // a valid file without it: its bytes go too, and the tensors after it move up
        Parts p = readParts(weights);
        JsonArray gone = p.header().getAsJsonObject("conv_out.weight").getAsJsonArray("data_offsets");
        long begin = gone.get(0).getAsLong();
        long end = gone.get(1).getAsLong();
        p.header().remove("conv_out.weight");
        for (Map.Entry<String, JsonElement> e : p.header().entrySet()) {
            if (e.getValue().isJsonObject() && e.getValue().getAsJsonObject().has("data_offsets")) {
                JsonArray o = e.getValue().getAsJsonObject().getAsJsonArray("data_offsets");
                if (o.get(0).getAsLong() >= end) {
                    e.getValue().getAsJsonObject().add("data_offsets", longs(o.get(0).getAsLong() - (end - begin),
                            o.get(1).getAsLong() - (end - begin)));
                }
            }
        }
        byte[] data = new byte[p.data().length - (int) (end - begin)];
        System.arraycopy(p.data(), 0, data, 0, (int) begin);
        System.arraycopy(p.data(), (int) end, data, (int) begin, p.data().length - (int) end);
        writeSafetensors(weights, p.header().toString(), data);
        assertNames(refused(WeightsFormatException.class, model), weights, "missing tensor 'conv_out.weight'");
    }

    @Test
    void headerThatIsNotJson() throws IOException {
        Path weights = model.resolve("vae/diffusion_pytorch_model.safetensors");
        writeSafetensors(weights, "{\"a\": {\"dtype\": \"F32\", ", new byte[16]);
        assertNames(refused(WeightsFormatException.class, model), weights, "header is not valid JSON");
    }

    @Test
    void theIntactFolderLoads() {
        // the fixture every test above breaks one thing of
        StableDiffusion.builder().setModelFolder(model).build().close();
    }
}
