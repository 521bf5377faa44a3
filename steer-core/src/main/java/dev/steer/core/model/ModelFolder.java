package dev.steer.core.model;

import dev.steer.core.generation.ModelDefaults;
import dev.steer.core.internal.weights.ShardedCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A Stable Diffusion model folder in the diffusers layout, as users download it: {@code unet/},
 * {@code text_encoder/}, {@code tokenizer/}, {@code vae/}, {@code scheduler/}. Resolves each
 * component's config and weight files (plain, {@code .fp16} variant, or sharded with an
 * {@code .index.json}) and says precisely what is missing.
 */
public final class ModelFolder {
    private final Path root;
    private final String variant;

    private ModelFolder(Path root, String variant) {
        this.root = root;
        this.variant = variant;
    }

    /**
     * Opens a model folder.
     *
     * @param root the folder holding {@code unet/}, {@code text_encoder/}...
     * @param variant weight variant to prefer ("fp16"), or null for the plain files (falling back to any variant present)
     * @throws ModelConfigException when the folder does not exist or is not a directory
     */
    public static ModelFolder open(Path root, String variant) {
        if (!Files.exists(root)) {
            throw new ModelConfigException(root, "model folder not found");
        }
        if (!Files.isDirectory(root)) {
            throw new ModelConfigException(root, "is not a folder; point at the folder holding unet/, text_encoder/, vae/, tokenizer/, scheduler/");
        }
        return new ModelFolder(root, variant);
    }

    /** The folder. */
    public Path root() {
        return root;
    }

    /** A component's folder, which must exist. */
    public Path component(String name) {
        Path dir = root.resolve(name);
        if (!Files.isDirectory(dir)) {
            throw new ModelConfigException(root, "missing component folder '" + name + "/' (a diffusers model folder has "
                    + "unet/, text_encoder/, tokenizer/, vae/ and scheduler/)");
        }
        return dir;
    }

    /** A component's {@code config.json}, which must exist. */
    public Path config(String component) {
        Path f = component(component).resolve("config.json");
        if (!Files.isRegularFile(f)) {
            throw new ModelConfigException(f, "missing config file");
        }
        return f;
    }

    /** The file naming a diffusers folder's pipeline class. */
    public static final String MODEL_INDEX = "model_index.json";

    /**
     * The pipeline class {@value #MODEL_INDEX} names ({@code "StableDiffusionPipeline"},
     * {@code "FluxPipeline"}), or null when the folder has no such file.
     *
     * @throws ModelConfigException naming the file when it is not a JSON object with a {@code _class_name}
     */
    public String pipelineClass() {
        Path f = root.resolve(MODEL_INDEX);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        ConfigJson json = ConfigJson.read(f);
        if (!json.has("_class_name")) {
            throw new ModelConfigException(f, "has no _class_name naming the pipeline");
        }
        return json.getString("_class_name", null);
    }

    /** The {@value #MODEL_INDEX} key under which a folder may declare the settings its model is meant to run with. */
    public static final String DEFAULTS_KEY = "_steer_defaults";

    /**
     * The model family's defaults with what the folder declares in {@value #MODEL_INDEX} under
     * {@value #DEFAULTS_KEY} put in their place: {@code {"steps": 20, "guidance_scale": 5.0,
     * "image_size": 32}}, each key optional (for models trained at other sizes or schedules than their
     * family's, such as the embedded ShapeWorld models). {@code family} itself when the folder declares
     * nothing.
     *
     * @throws ModelConfigException naming the file for unknown keys or invalid values
     */
    public ModelDefaults defaults(ModelDefaults family) {
        Path f = root.resolve(MODEL_INDEX);
        if (!Files.isRegularFile(f)) {
            return family;
        }
        ConfigJson declared = ConfigJson.read(f).object(DEFAULTS_KEY);
        if (declared == null) {
            return family;
        }
        declared.refuseUnknownKeys(DEFAULTS_KEY + " key", "steps", "guidance_scale", "image_size");
        try {
            return new ModelDefaults(declared.getInt("steps", family.steps()), declared.getFloat("guidance_scale", family.guidanceScale()),
                    declared.getInt("image_size", family.imageSize()), family.steering());
        } catch (IllegalArgumentException e) {
            throw new ModelConfigException(f, DEFAULTS_KEY + " " + e.getMessage());
        }
    }

    /** The scheduler's config file. */
    public Path schedulerConfig() {
        Path f = component("scheduler").resolve("scheduler_config.json");
        if (!Files.isRegularFile(f)) {
            throw new ModelConfigException(f, "missing scheduler config");
        }
        return f;
    }

    /**
     * The safetensors files holding a component's weights.
     *
     * @param baseName {@code diffusion_pytorch_model} (unet, vae) or {@code model} (text_encoder)
     */
    public List<Path> weights(String component, String baseName) {
        return weightFiles(component(component), baseName, variant);
    }

    /**
     * The safetensors files holding the weights in one component folder ({@code text_encoder_2/},
     * say): {@code <baseName>.safetensors} (or a variant's file), or the shards of a
     * {@code <baseName>.safetensors.index.json} read through {@link ShardedCheckpoint#read}.
     *
     * @param dir the component folder
     * @param baseName {@code diffusion_pytorch_model} (unet, vae, transformer) or {@code model} (text encoders)
     * @param variant weight variant to prefer ("fp16"), or null for the plain files (falling back to any variant present)
     * @throws ModelConfigException naming the folder (or the index) when no usable weights are found
     */
    public static List<Path> weightFiles(Path dir, String baseName, String variant) {
        if (!Files.isDirectory(dir)) {
            throw new ModelConfigException(dir, "component folder not found");
        }
        List<String> candidates = new ArrayList<>();
        if (variant != null) {
            candidates.add(baseName + "." + variant + ".safetensors");
        }
        candidates.add(baseName + ".safetensors");
        if (variant == null) {
            candidates.add(baseName + ".fp16.safetensors");
            candidates.add(baseName + ".bf16.safetensors");
        }
        for (String c : candidates) {
            Path single = dir.resolve(c);
            if (Files.isRegularFile(single)) {
                return List.of(single);
            }
            for (String indexName : indexNames(baseName, c)) {
                Path index = dir.resolve(indexName);
                if (Files.isRegularFile(index)) {
                    return ShardedCheckpoint.read(index).shards();
                }
            }
        }
        String found;
        try (Stream<Path> files = Files.list(dir)) {
            found = files.map(p -> p.getFileName().toString()).sorted().toList().toString();
        } catch (IOException e) {
            found = "(unreadable)";
        }
        String hint = found.contains(".bin") || found.contains(".ckpt")
                ? "; only .safetensors weights are read (pickled .bin files can run code and are not loaded)"
                : "";
        throw new ModelConfigException(dir, "no weights file: expected one of " + candidates + " (or a sharded .index.json); found "
                + found + hint);
    }

    /**
     * Index names of a sharded checkpoint: {@code <base>.safetensors.index.json}, and for a variant
     * the name diffusers and transformers write, {@code <base>.safetensors.index.<variant>.json}
     * (also {@code <base>.<variant>.safetensors.index.json}).
     */
    private static List<String> indexNames(String baseName, String fileName) {
        String plain = baseName + ".safetensors";
        if (fileName.equals(plain)) {
            return List.of(plain + ".index.json");
        }
        String variant = fileName.substring(baseName.length() + 1, fileName.length() - ".safetensors".length());
        return List.of(plain + ".index." + variant + ".json", fileName + ".index.json");
    }

    @Override
    public String toString() {
        return root.toString();
    }
}
