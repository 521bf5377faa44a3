package dev.steer.onnx;

import com.google.gson.JsonObject;
import dev.steer.core.testing.Conformance;
import dev.steer.onnx.internal.proto.ProtoReader;
import dev.steer.onnx.internal.proto.ProtoWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Assembles Optimum-layout ONNX model folders from the conformance fixtures' exports (clip-sd1-tiny,
 * unet-sd1-tiny, vae-tiny), the sched-ddim config and the real CLIP tokenizer, as a user's export
 * would look; and rewrites graphs to keep their weights in external data files.
 */
final class TinyOnnxFolders {
    private TinyOnnxFolders() {
    }

    /** The pipeline-tiny model in the Optimum layout. */
    static Path create(Path root) throws IOException {
        copy(Conformance.dir("clip-sd1-tiny").resolve("onnx/text_encoder/model.onnx"), root.resolve("text_encoder/model.onnx"));
        copy(Conformance.dir("unet-sd1-tiny").resolve("onnx/unet/model.onnx"), root.resolve("unet/model.onnx"));
        copy(Conformance.dir("vae-tiny").resolve("onnx/vae_decoder/model.onnx"), root.resolve("vae_decoder/model.onnx"));
        copy(Conformance.dir("vae-tiny").resolve("onnx/vae_encoder/model.onnx"), root.resolve("vae_encoder/model.onnx"));
        copy(Conformance.dir("sched-ddim").resolve("scheduler_config.json"), root.resolve("scheduler/scheduler_config.json"));
        Path tok = Conformance.dir("clip-tokenizer");
        copy(tok.resolve("vocab.json"), root.resolve("tokenizer/vocab.json"));
        copy(tok.resolve("merges.txt"), root.resolve("tokenizer/merges.txt"));
        return root;
    }

    static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Files.copy(from, to);
    }

    /**
     * Replaces the folder's tokenizer by a byte-level one without merges whose ids all fit the tiny
     * text encoder's 1000-token vocabulary (every character is a token), so real prompts can be
     * generated from.
     */
    static void useTinyVocabulary(Path root) throws IOException {
        JsonObject vocab = new JsonObject();
        int id = 0;
        for (int cp : byteLevelAlphabet()) {
            String c = new String(Character.toChars(cp));
            vocab.addProperty(c, id++);
            vocab.addProperty(c + "</w>", id++);
        }
        vocab.addProperty("<|startoftext|>", id++);
        vocab.addProperty("<|endoftext|>", id);
        Files.writeString(root.resolve("tokenizer/vocab.json"), vocab.toString());
        Files.writeString(root.resolve("tokenizer/merges.txt"), "#version: 0.2\n");
    }

    /** GPT-2's byte-to-unicode alphabet (256 code points). */
    private static List<Integer> byteLevelAlphabet() {
        List<Integer> out = new ArrayList<>();
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
            out.add(printable ? b : 256 + extra++);
        }
        return out;
    }

    /**
     * Writes {@code model} to {@code dir/model.onnx} with every initializer that holds raw data moved
     * to the external file {@code dir/<dataFile>} (as torch.onnx.export and Optimum do for graphs over
     * 2 GB), 64-byte aligned.
     */
    static Path withExternalData(Path model, Path dir, String dataFile) throws IOException {
        Files.createDirectories(dir);
        byte[] bytes = Files.readAllBytes(model);
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        ProtoWriter out = new ProtoWriter();
        long[] offset = {0};
        try (OutputStream data = Files.newOutputStream(dir.resolve(dataFile))) {
            ProtoReader m = new ProtoReader(buf, 0, bytes.length);
            while (m.next()) {
                if (m.number() != 7) {
                    out.copyField(m);
                    continue;
                }
                ProtoWriter graph = new ProtoWriter();
                ProtoReader g = m.message();
                while (g.next()) {
                    if (g.number() != 5) {
                        graph.copyField(g);
                        continue;
                    }
                    ProtoWriter tensor = new ProtoWriter();
                    ProtoReader t = g.message();
                    byte[] raw = null;
                    while (t.next()) {
                        if (t.number() == 9) {
                            raw = t.bytes();
                        } else {
                            tensor.copyField(t);
                        }
                    }
                    if (raw == null) {
                        graph.copyField(g);
                        continue;
                    }
                    long pad = (64 - offset[0] % 64) % 64;
                    data.write(new byte[(int) pad]);
                    offset[0] += pad;
                    data.write(raw);
                    tensor.messageField(13, entry("location", dataFile));
                    tensor.messageField(13, entry("offset", Long.toString(offset[0])));
                    tensor.messageField(13, entry("length", Integer.toString(raw.length)));
                    tensor.varintField(14, 1);
                    offset[0] += raw.length;
                    graph.messageField(5, tensor);
                }
                out.messageField(7, graph);
            }
        }
        Path target = dir.resolve("model.onnx");
        Files.write(target, out.toByteArray());
        return target;
    }

    private static ProtoWriter entry(String key, String value) {
        return new ProtoWriter().stringField(1, key).stringField(2, value);
    }
}
