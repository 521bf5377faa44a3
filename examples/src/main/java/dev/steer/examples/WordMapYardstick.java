package dev.steer.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.steer.core.relation.CentroidRelationBaseline;
import dev.steer.core.relation.PositionRule;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.shapeworld.Captions;
import dev.steer.core.shapeworld.Scene;
import dev.steer.core.shapeworld.SceneObject;
import dev.steer.core.shapeworld.ShapeWorld;
import dev.steer.core.tokenizer.TokenizedPrompt;
import dev.steer.pytorch.attention.TorchAttentionProbe;
import dev.steer.pytorch.flux.FluxPrompt;
import dev.steer.pytorch.pipeline.FluxPipeline;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * The centroid yardstick for a FLUX-architecture ShapeWorld model's word maps: do the maps of a
 * caption's subject and object single out their own objects?
 *
 * <pre>
 * WordMapYardstick [--model DIR] [--count N] [--seed S] [--sigmas 0.5,0.7,0.9] [--weights WORK/model.safetensors]
 *                  [--samples N] [--save DIR]
 * </pre>
 * {@code --samples N} also draws the first N ShapeBench prompts (seed 10, which ShapeBench does not
 * score; 32x32, 20 steps, guidance 5) and reports ShapeBench's object and position accuracy on
 * them, a quick look at what the model draws ({@code --save} writes the images).
 * {@code --weights} measures a training checkpoint's weights (the work folder's live
 * {@code model.safetensors} or its {@code ema.safetensors}) in a temporary copy of the model folder:
 * early in a run the exported EMA is still mostly the random initialisation.
 * For {@code --count} rendered two-object scenes with an unambiguous relation, the true relational
 * caption ("a photo of a red circle left of a blue square") is read by the probe steering uses
 * ({@link TorchAttentionProbe#asJointHook}, every block, maps on the 8x8 token grid) while the
 * transformer predicts the velocity at the scene's latent noised along the flow to sigma
 * ({@code (1 - sigma) x0 + sigma noise}). Reported per sigma: the correlation over scenes of the
 * subject map's centre of mass (x) with the true subject's centre x and with the other object's,
 * the same for the object map, and the share of scenes whose relation {@link CentroidRelationBaseline}
 * reads correctly from the two maps (chance 0.25).
 */
public final class WordMapYardstick {
    private static final List<String> RELATIONS = List.of("above", "below", "to the left of", "to the right of");

    private WordMapYardstick() {
    }

    /** Entry point. */
    public static void main(String[] argv) throws Exception {
        Args a = Args.parse(argv, Set.of("--model", "--count", "--seed", "--sigmas", "--weights", "--samples", "--save"));
        Path model = Path.of(a.get("--model", "models/shapeworld-flux"));
        if (a.has("--weights")) {
            Path copy = java.nio.file.Files.createTempDirectory("yardstick");
            try (var walk = java.nio.file.Files.walk(model)) {
                for (Path f : (Iterable<Path>) walk::iterator) {
                    Path to = copy.resolve(model.relativize(f).toString());
                    if (java.nio.file.Files.isDirectory(f)) {
                        java.nio.file.Files.createDirectories(to);
                    } else {
                        java.nio.file.Files.copy(f, to);
                    }
                }
            }
            dev.steer.pytorch.training.FluxShapeWorldTrainer.exportWeights(Path.of(a.get("--weights", "")), copy, java.util.Map.of());
            model = copy;
        }
        int count = a.getInt("--count", 60);
        long seed = a.getLong("--seed", 7);
        double[] sigmas = Arrays.stream(a.get("--sigmas", "0.5,0.7,0.9").split(",")).mapToDouble(Double::parseDouble).toArray();
        try (FluxPipeline flux = FluxPipeline.builder().setModelFolder(model).build()) {
            for (double sigma : sigmas) {
                System.out.println(measure(flux, count, seed, (float) sigma).format(sigma));
            }
            int samples = a.getInt("--samples", 0);
            if (samples > 0) {
                int objects = 0;
                int positions = 0;
                List<dev.steer.core.shapeworld.ShapeBench.Prompt> prompts = dev.steer.core.shapeworld.ShapeBench.standardPrompts();
                for (int i = 0; i < samples; i++) {
                    var p = prompts.get(i % prompts.size());
                    var r = flux.generate(dev.steer.core.generation.GenerationRequest.builder(p.prompt()).optSize(32, 32).optSteps(20)
                            .optGuidanceScale(5f).optSeed(10 + i / prompts.size()).build());
                    var score = dev.steer.core.shapeworld.ShapeBench.score(r.image(), p, dev.steer.core.shapeworld.ShapeDetector.DEFAULT);
                    objects += score.objectsPresent() ? 1 : 0;
                    positions += score.positionCorrect() ? 1 : 0;
                    if (a.has("--save")) {
                        Path dir = Path.of(a.get("--save", "."));
                        java.nio.file.Files.createDirectories(dir);
                        javax.imageio.ImageIO.write(r.image(), "png", dir.resolve(String.format(Locale.ROOT, "%03d.png", i)).toFile());
                    }
                }
                System.out.printf(Locale.ROOT, "%d ShapeBench prompts (seed 10, 20 steps, guidance 5): both objects %.3f, asked relation %.3f%n",
                        samples, (double) objects / samples, (double) positions / samples);
            }
        }
    }

    /** What the yardstick found at one sigma. */
    public record Result(int scenes, double subjectMapVsSubject, double subjectMapVsObject, double objectMapVsObject,
            double objectMapVsSubject, double relationAccuracy) {
        String format(double sigma) {
            return String.format(Locale.ROOT, "sigma %.2f, %d scenes: subject map x vs subject x %.3f, vs object x %.3f; object map x vs"
                    + " object x %.3f, vs subject x %.3f; centroid rule reads the relation %.3f (chance 0.25)", sigma, scenes,
                    subjectMapVsSubject, subjectMapVsObject, objectMapVsObject, objectMapVsSubject, relationAccuracy);
        }
    }

    /** Runs the yardstick on {@code count} seeded scenes at one sigma. */
    public static Result measure(FluxPipeline flux, int count, long seed, float sigma) {
        Random rng = new Random(seed);
        List<double[]> rows = new ArrayList<>(); // subject map x, object map x, subject x, object x
        int correct = 0;
        CentroidRelationBaseline rule = null;
        while (rows.size() < count) {
            Scene scene = ShapeWorld.DEFAULT.sample(rng, 2);
            SceneObject s = scene.objects().get(0);
            SceneObject o = scene.objects().get(1);
            Optional<SpatialRelation> truth = PositionRule.relation(Captions.box(s), Captions.box(o));
            if (truth.isEmpty()) {
                continue;
            }
            String caption = Captions.relationalPrompt(s.color(), s.kind(), truth.get(), o.color(), o.kind());
            TokenizedPrompt tokens = flux.tokenizer().tokenize(caption);
            int[] subject = phrase(tokens, s);
            int[] object = phrase(tokens, o);
            float[] noise = new float[4 * 16 * 16];
            for (int i = 0; i < noise.length; i++) {
                noise[i] = (float) rng.nextGaussian();
            }
            try (NDManager scope = flux.manager().newSubManager()) {
                NDArray x0 = encode(flux, scope, scene);
                NDArray xs = x0.mul(1 - sigma).add(scope.create(noise, x0.getShape()).mul(sigma));
                FluxPrompt prompt = flux.encode(scope, tokens);
                TorchAttentionProbe probe = new TorchAttentionProbe(List.of(subject, object), 8, false);
                flux.denoiser().velocity(xs, prompt, sigma * 1000f, 0f, probe.asJointHook(0));
                float[] maps = probe.classifierMaps();
                int perWord = maps.length / 2 / 64;
                if (rule == null) {
                    rule = new CentroidRelationBaseline(RELATIONS, perWord);
                }
                float[] logits = rule.logits(maps, perWord, new long[] {0});
                int best = 0;
                for (int k = 1; k < logits.length; k++) {
                    if (logits[k] > logits[best]) {
                        best = k;
                    }
                }
                if (SpatialRelation.parse(RELATIONS.get(best)) == truth.get()) {
                    correct++;
                }
                rows.add(new double[] {centroidX(maps, 0, perWord), centroidX(maps, perWord * 64, perWord), (s.x0() + s.x1()) / 2.0,
                        (o.x0() + o.x1()) / 2.0});
            }
        }
        return new Result(rows.size(), corr(rows, 0, 2), corr(rows, 0, 3), corr(rows, 1, 3), corr(rows, 1, 2), (double) correct / rows.size());
    }

    /** The token positions of an object's colour and shape words in the caption. */
    static int[] phrase(TokenizedPrompt tokens, SceneObject obj) {
        List<TokenizedPrompt.Word> words = tokens.words();
        for (int w = 0; w + 1 < words.size(); w++) {
            if (words.get(w).text().equals(obj.color().adjective()) && words.get(w + 1).text().equals(obj.kind().noun())) {
                int[] a = words.get(w).positions();
                int[] b = words.get(w + 1).positions();
                int[] out = Arrays.copyOf(a, a.length + b.length);
                System.arraycopy(b, 0, out, a.length, b.length);
                return out;
            }
        }
        throw new IllegalStateException("'" + obj.phrase() + "' not found in " + tokens.prompt());
    }

    /** The scene's scaled latent [1, 4, 16, 16]. */
    static NDArray encode(FluxPipeline flux, NDManager scope, Scene scene) {
        BufferedImage img = ShapeWorld.render(scene);
        int n = img.getWidth();
        float[] data = new float[3 * n * n];
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                int rgb = img.getRGB(x, y);
                data[y * n + x] = ((rgb >> 16) & 0xff) / 127.5f - 1f;
                data[n * n + y * n + x] = ((rgb >> 8) & 0xff) / 127.5f - 1f;
                data[2 * n * n + y * n + x] = (rgb & 0xff) / 127.5f - 1f;
            }
        }
        float[] mean = flux.vae().encode(scope.create(data, new Shape(1, 3, n, n))).mean().toFloatArray();
        float[] z = flux.vae().config().scaleLatents(mean);
        return scope.create(z, new Shape(1, flux.vae().config().latentChannels(), n / 2, n / 2));
    }

    /** Centre of mass (x, in image pixels of 32) of the mean of {@code count} 8x8 maps from {@code offset}. */
    private static double centroidX(float[] maps, int offset, int count) {
        double sum = 0;
        double sx = 0;
        for (int m = 0; m < count; m++) {
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    double v = Math.max(0, maps[offset + m * 64 + y * 8 + x]);
                    sum += v;
                    sx += v * (x + 0.5) * 4;
                }
            }
        }
        return sum > 0 ? sx / sum : 16;
    }

    private static double corr(List<double[]> rows, int i, int j) {
        double mi = 0;
        double mj = 0;
        for (double[] r : rows) {
            mi += r[i];
            mj += r[j];
        }
        mi /= rows.size();
        mj /= rows.size();
        double sij = 0;
        double sii = 0;
        double sjj = 0;
        for (double[] r : rows) {
            sij += (r[i] - mi) * (r[j] - mj);
            sii += (r[i] - mi) * (r[i] - mi);
            sjj += (r[j] - mj) * (r[j] - mj);
        }
        return sii == 0 || sjj == 0 ? 0 : sij / Math.sqrt(sii * sjj);
    }
}
