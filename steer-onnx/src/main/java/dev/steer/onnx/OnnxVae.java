package dev.steer.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import dev.steer.core.model.ModelConfigException;
import dev.steer.onnx.internal.proto.GraphEdit;
import dev.steer.onnx.internal.proto.OnnxModelProto;
import dev.steer.onnx.internal.proto.OnnxValueInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * A Stable Diffusion autoencoder as two graphs: {@code vae_decoder/model.onnx} (input
 * {@code latent_sample}, output {@code sample}) and {@code vae_encoder/model.onnx} (input
 * {@code sample}, output {@code latent_parameters} = mean and log-variance concatenated on the
 * channel axis). Fixed spatial sizes in the declarations are made symbolic at load time (in
 * memory), so decoders exported at one size decode latents of others when their operators allow.
 * The encoder is loaded on first use. Values are raw: decoding does not divide by the scaling
 * factor, encoding does not multiply. Owns its sessions; close it. Not thread-safe.
 */
public final class OnnxVae implements AutoCloseable {
    private final OnnxSession decoder;
    private final String decoderInput;
    private final String decoderOutput;
    private final Path encoderFile;
    private final SessionSettings settings;
    private final int scaleFactor;
    private OnnxSession encoder;
    private String encoderInput;
    private String encoderOutput;

    private OnnxVae(OnnxSession decoder, String decoderInput, String decoderOutput, Path encoderFile, SessionSettings settings,
            int scaleFactor) {
        this.decoder = decoder;
        this.decoderInput = decoderInput;
        this.decoderOutput = decoderOutput;
        this.encoderFile = encoderFile;
        this.settings = settings;
        this.scaleFactor = scaleFactor;
    }

    /**
     * Loads the decoder; the encoder graph is loaded when {@link #encode} is first called.
     *
     * @param decoderFile {@code vae_decoder/model.onnx}
     * @param encoderFile {@code vae_encoder/model.onnx} (may be absent until encoding is asked for)
     * @throws ModelConfigException naming the file when the decoder is missing or unusable
     */
    public static OnnxVae load(Path decoderFile, Path encoderFile) {
        return load(decoderFile, encoderFile, SessionSettings.DEFAULT, -1);
    }

    static OnnxVae load(Path decoderFile, Path encoderFile, SessionSettings settings, int configuredScale) {
        OnnxModelProto model = OnnxSession.parse(decoderFile, "VAE decoder");
        if (model.inputs().size() != 1 || model.outputs().isEmpty()) {
            throw new ModelConfigException(decoderFile, "a VAE decoder graph has one input (latent_sample) and an output (sample); this one has "
                    + model.inputs().size() + " inputs and " + model.outputs().size() + " outputs");
        }
        OnnxValueInfo in = model.inputs().get(0);
        OnnxValueInfo out = model.outputs().get(0);
        int scale = configuredScale;
        if (scale <= 0) {
            int ups = GraphInspection.countStages(model, "up_blocks", "upsamplers");
            int[] inSize = GraphInspection.fixedSpatialSize(in);
            int[] outSize = GraphInspection.fixedSpatialSize(out);
            if (ups > 0) {
                scale = 1 << ups;
            } else if (inSize != null && outSize != null && inSize[0] > 0) {
                scale = outSize[0] / inSize[0];
            } else {
                scale = 8;
            }
        }
        GraphEdit edit = GraphInspection.relaxSpatialSizes(model, new GraphEdit());
        OnnxSession session = OnnxSession.open(decoderFile, model, edit, settings);
        return new OnnxVae(session, in.name(), out.name(), encoderFile, settings, scale);
    }

    /** Pixels per latent cell (8 for SD). */
    public int scaleFactor() {
        return scaleFactor;
    }

    /**
     * Decodes latents [batch, channels, h, w] to images [batch, 3, h * scale, w * scale] with values in about [-1, 1].
     *
     * @throws OnnxExecutionException if ONNX Runtime fails
     */
    public FloatTensor decode(FloatTensor latents) {
        if (latents.rank() != 4) {
            throw new IllegalArgumentException("latents must be [batch, channels, height, width], got " + Arrays.toString(latents.shape()));
        }
        return run(decoder, decoderInput, decoderOutput, latents);
    }

    /**
     * Encodes images [batch, 3, H, W] (values in [-1, 1]) to the latent distribution's parameters
     * [batch, 2 * channels, H / scale, W / scale]: means first, then log-variances.
     *
     * @throws ModelConfigException naming the file when the encoder graph is missing or unusable
     */
    public FloatTensor encode(FloatTensor images) {
        if (images.rank() != 4) {
            throw new IllegalArgumentException("images must be [batch, 3, height, width], got " + Arrays.toString(images.shape()));
        }
        ensureEncoder();
        return run(encoder, encoderInput, encoderOutput, images);
    }

    private synchronized void ensureEncoder() {
        if (encoder != null) {
            return;
        }
        if (encoderFile == null || !Files.isRegularFile(encoderFile)) {
            throw new ModelConfigException(encoderFile == null ? Path.of("vae_encoder/model.onnx") : encoderFile,
                    "missing VAE encoder graph (needed to encode images; an Optimum export has vae_encoder/model.onnx)");
        }
        OnnxModelProto model = OnnxSession.parse(encoderFile, "VAE encoder");
        if (model.inputs().size() != 1 || model.outputs().isEmpty()) {
            throw new ModelConfigException(encoderFile, "a VAE encoder graph has one input (sample) and an output (latent_parameters)");
        }
        GraphEdit edit = GraphInspection.relaxSpatialSizes(model, new GraphEdit());
        String out = model.outputs().stream().map(OnnxValueInfo::name).filter("latent_parameters"::equals).findFirst()
                .orElse(model.outputs().get(0).name());
        encoder = OnnxSession.open(encoderFile, model, edit, settings);
        encoderInput = model.inputs().get(0).name();
        encoderOutput = out;
    }

    private static FloatTensor run(OnnxSession session, String input, String output, FloatTensor x) {
        try (OnnxTensor in = session.floatInput(input, x.data(), x.shape());
             OrtSession.Result result = session.run(Map.of(input, in), Set.of(output))) {
            return session.output(result, output);
        }
    }

    @Override
    public synchronized void close() {
        try {
            decoder.close();
        } finally {
            if (encoder != null) {
                encoder.close();
                encoder = null;
            }
        }
    }
}
