package dev.steer.core.engine;

import dev.steer.core.attention.AttentionProbe;
import dev.steer.core.image.Heatmaps;
import dev.steer.core.image.PngImages;
import dev.steer.core.scheduler.Schedule;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * Records, at chosen denoising steps, the model's current prediction of the final image (decoded
 * x0) and the subject's and object's cross-attention maps (mean over layers and heads of the
 * classifier-input maps, on the conditional branch), and writes them as heatmap pictures: a
 * steered run beside the vanilla run with the same seed.
 */
final class PictureRecorder implements StepObserver {
    private final Decoder decoder;
    private final List<int[]> words;
    private final IntPredicate steps;
    private final int latentHeight;
    private final int latentWidth;
    private final int height;
    private final int width;
    private final List<Frame> frames = new ArrayList<>();

    /** Decodes a latent to [3, H, W] pixel values. */
    @FunctionalInterface
    interface Decoder {
        float[] decode(float[] latents, int latentHeight, int latentWidth);
    }

    /** One recorded step. */
    record Frame(int step, BufferedImage predicted, float[] subjectMap, float[] objectMap) {
    }

    PictureRecorder(Decoder decoder, int[] subject, int[] object, IntPredicate steps, int latentHeight, int latentWidth,
            int height, int width) {
        this.decoder = decoder;
        this.words = List.of(subject, object);
        this.steps = steps;
        this.latentHeight = latentHeight;
        this.latentWidth = latentWidth;
        this.height = height;
        this.width = width;
    }

    @Override
    public List<int[]> probeWords(int step) {
        return steps.test(step) ? words : null;
    }

    @Override
    public void onStep(int step, float[] latents, float[] guidedPrediction, float[] maps, Schedule schedule) {
        float[] x0 = schedule.predictOriginalSample(guidedPrediction, step, latents);
        BufferedImage predicted = PngImages.fromChw(decoder.decode(x0, latentHeight, latentWidth), height, width);
        int side = AttentionProbe.MAP_SIZE;
        int area = side * side;
        int perWord = maps.length / 2;
        int count = perWord / area;
        float[][] mean = new float[2][area];
        for (int w = 0; w < 2; w++) {
            for (int m = 0; m < count; m++) {
                for (int p = 0; p < area; p++) {
                    mean[w][p] += maps[w * perWord + m * area + p] / count;
                }
            }
        }
        frames.add(new Frame(step, predicted, mean[0], mean[1]));
    }

    List<Frame> frames() {
        return frames;
    }

    /**
     * Writes {@code step-NN.png} per recorded step (rows: steered, vanilla; columns: predicted
     * image, subject heatmap, object heatmap) and {@code final.png} (steered beside vanilla).
     */
    static List<Path> write(Path dir, String subject, String object, PictureRecorder steered, PictureRecorder vanilla,
            BufferedImage steeredFinal, BufferedImage vanillaFinal, Map<String, String> metadata) {
        List<Path> written = new ArrayList<>();
        int tile = Math.max(128, steeredFinal.getWidth());
        try {
            for (int i = 0; i < steered.frames.size() && i < vanilla.frames.size(); i++) {
                Frame s = steered.frames.get(i);
                Frame v = vanilla.frames.get(i);
                BufferedImage grid = Heatmaps.grid(
                        List.of("steered, step " + s.step() + ": prediction | " + subject + " | " + object,
                                "vanilla, step " + v.step() + ": prediction | " + subject + " | " + object),
                        List.of(row(s), row(v)), tile);
                Path file = dir.resolve(String.format(Locale.ROOT, "step-%02d.png", s.step()));
                PngImages.write(grid, metadata, file);
                written.add(file);
            }
            BufferedImage both = Heatmaps.grid(List.of("steered | vanilla (same seed)"),
                    List.of(List.of(steeredFinal, vanillaFinal)), tile);
            Path file = dir.resolve("final.png");
            PngImages.write(both, metadata, file);
            written.add(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write steering pictures to " + dir, e);
        }
        return written;
    }

    private static List<BufferedImage> row(Frame f) {
        int side = AttentionProbe.MAP_SIZE;
        return List.of(f.predicted(), Heatmaps.overlay(f.predicted(), f.subjectMap(), side, 0.55f),
                Heatmaps.overlay(f.predicted(), f.objectMap(), side, 0.55f));
    }
}
