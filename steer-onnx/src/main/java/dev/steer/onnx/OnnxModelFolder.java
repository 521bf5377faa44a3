package dev.steer.onnx;

import dev.steer.core.model.ConfigJson;
import dev.steer.core.model.ModelConfigException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Stable Diffusion model folder in the Optimum ONNX layout, as {@code optimum-cli export onnx}
 * writes it: {@code text_encoder/model.onnx}, {@code unet/model.onnx}, {@code vae_decoder/model.onnx},
 * {@code vae_encoder/model.onnx} (each graph possibly with external data files next to it, and
 * optionally a {@code config.json}), {@code tokenizer/} and {@code scheduler/}. Resolves each part
 * and says precisely what is missing.
 */
final class OnnxModelFolder {
    /** The text encoder's folder. */
    public static final String TEXT_ENCODER = "text_encoder";
    /** The UNet's folder. */
    public static final String UNET = "unet";
    /** The VAE decoder's folder. */
    public static final String VAE_DECODER = "vae_decoder";
    /** The VAE encoder's folder. */
    public static final String VAE_ENCODER = "vae_encoder";
    /** The graph file name in each model folder. */
    public static final String GRAPH_FILE = "model.onnx";

    private static final String LAYOUT = "an ONNX model folder has text_encoder/model.onnx, unet/model.onnx, vae_decoder/model.onnx, "
            + "vae_encoder/model.onnx, tokenizer/ and scheduler/ (the layout optimum-cli export onnx writes)";

    private final Path root;

    private OnnxModelFolder(Path root) {
        this.root = root;
    }

    /**
     * Opens a folder.
     *
     * @throws ModelConfigException when it does not exist or is not a directory
     */
    public static OnnxModelFolder open(Path root) {
        if (!Files.exists(root)) {
            throw new ModelConfigException(root, "model folder not found");
        }
        if (!Files.isDirectory(root)) {
            throw new ModelConfigException(root, "is not a folder; point at the folder holding " + LAYOUT.substring(LAYOUT.indexOf("has ") + 4));
        }
        return new OnnxModelFolder(root);
    }

    /** The folder. */
    public Path root() {
        return root;
    }

    /** A component's folder, which must exist. */
    public Path component(String name) {
        Path dir = root.resolve(name);
        if (!Files.isDirectory(dir)) {
            throw new ModelConfigException(root, "missing component folder '" + name + "/' (" + LAYOUT + ")" + diffusersHint());
        }
        return dir;
    }

    /** A component's graph file ({@code <component>/model.onnx}), which must exist. */
    public Path graph(String component) {
        Path f = component(component).resolve(GRAPH_FILE);
        if (!Files.isRegularFile(f)) {
            throw new ModelConfigException(f, "missing ONNX graph (" + LAYOUT + ")" + diffusersHint());
        }
        return f;
    }

    /** The scheduler's config file, which must exist. */
    public Path schedulerConfig() {
        Path f = component("scheduler").resolve("scheduler_config.json");
        if (!Files.isRegularFile(f)) {
            throw new ModelConfigException(f, "missing scheduler config");
        }
        return f;
    }

    /** A component's {@code config.json} (Optimum copies the diffusers config there), or null when absent. */
    public ConfigJson optionalConfig(String component) {
        Path f = root.resolve(component).resolve("config.json");
        return Files.isRegularFile(f) ? ConfigJson.read(f) : null;
    }

    private String diffusersHint() {
        boolean diffusers = Files.isDirectory(root.resolve("vae"))
                || Files.exists(root.resolve("unet").resolve("diffusion_pytorch_model.safetensors"))
                || Files.exists(root.resolve("unet").resolve("diffusion_pytorch_model.fp16.safetensors"));
        return diffusers ? "; this looks like a diffusers PyTorch folder: load it with the steer-pytorch backend, or export it with "
                + "optimum-cli export onnx --model <folder> --no-post-process <out>" : "";
    }

    @Override
    public String toString() {
        return root.toString();
    }
}
