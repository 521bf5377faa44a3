package dev.steer.pytorch.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.steer.core.image.PngImages;
import dev.steer.core.relation.RelationClassifier;
import dev.steer.pytorch.relation.PublishedRelationClassifier;
import dev.steer.pytorch.relation.TorchRelationClassifier;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * How well a relation classifier reads relations on a set of samples, and how much it leaks.
 *
 * <p>Reports accuracy overall, per true relation, per step index, and per prompt type (positive:
 * the prompt states the true relation; negative: the dual-inversion prompt states a wrong one), the
 * mean cross-entropy, a confusion matrix (rows: true relation; columns: predicted), and the
 * <b>leakage</b>: accuracy on positive-prompt samples minus accuracy on negative-prompt samples. A
 * classifier that reads the geometry in the maps scores alike on both kinds, so its leakage is near
 * zero; one that reads the trace of the relation word written in the prompt is right when the word
 * is true and wrong when it is not, so its leakage is large and positive (and on negatives it tends
 * to predict the prompt's wrong relation, reported as {@link #negativesFollowingPrompt()}).
 *
 * <p>Written as JSON ({@link #toJson}) and as a PNG chart ({@link #chart}).
 */
public final class RelationEvaluation {
    private final List<String> relations;
    private final int samples;
    private final int correct;
    private final double loss;
    private final Map<String, Group> perRelation;
    private final Map<Integer, Group> perStep;
    private final Group positive;
    private final Group negative;
    private final int negativesFollowingPrompt;
    private final long[][] confusion;

    /**
     * Accuracy of some samples.
     *
     * @param samples how many
     * @param correct how many were classified right
     */
    public record Group(int samples, int correct) {
        /** {@code correct / samples}, NaN when there are no samples. */
        public double accuracy() {
            return samples == 0 ? Double.NaN : (double) correct / samples;
        }
    }

    private RelationEvaluation(List<String> relations, int samples, int correct, double loss, Map<String, Group> perRelation,
            Map<Integer, Group> perStep, Group positive, Group negative, int negativesFollowingPrompt, long[][] confusion) {
        this.relations = List.copyOf(relations);
        this.samples = samples;
        this.correct = correct;
        this.loss = loss;
        this.perRelation = Collections.unmodifiableMap(perRelation);
        this.perStep = Collections.unmodifiableMap(perStep);
        this.positive = positive;
        this.negative = negative;
        this.negativesFollowingPrompt = negativesFollowingPrompt;
        this.confusion = confusion;
    }

    /**
     * Evaluates {@code classifier} on {@code subset} with dropout off (the classifier's training
     * flag is restored afterwards) and gradient recording off. Intermediates live in sub-managers
     * of {@code manager}, closed per batch.
     */
    public static RelationEvaluation evaluate(PublishedRelationClassifier classifier, RelationDataset.Subset subset, int batchSize,
            NDManager manager) {
        boolean wasTraining = classifier.isTraining();
        classifier.setTraining(false);
        try {
            return evaluate((RelationClassifier) classifier, subset, batchSize, manager);
        } finally {
            classifier.setTraining(wasTraining);
        }
    }

    /** Evaluates any relation classifier (in whatever mode it is) on {@code subset}; see the other overload. */
    public static RelationEvaluation evaluate(RelationClassifier classifier, RelationDataset.Subset subset, int batchSize,
            NDManager manager) {
        RelationDataset data = subset.dataset();
        if (!classifier.classNames().equals(data.relations())) {
            throw new IllegalArgumentException("the classifier's classes " + classifier.classNames() + " differ from the dataset's "
                    + data.relations());
        }
        int n = subset.size();
        int c = data.relations().size();
        float[] logits = new float[n * c];
        int at = 0;
        boolean gradMode = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            for (RelationDataset.Batch batch : subset.batchesInOrder(batchSize)) {
                try (NDManager scope = manager.newSubManager()) {
                    NDArray maps = RelationClassifierTrainer.aligned(batch.mapsArray(scope));
                    float[] values;
                    if (classifier instanceof TorchRelationClassifier torch) {
                        values = torch.logits(maps, batch.timestepArray(scope)).toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
                                .toFloatArray();
                    } else {
                        values = classifier.logits(maps.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray(),
                                (int) maps.getShape().get(2), batch.timestepArray(scope).toLongArray());
                    }
                    System.arraycopy(values, 0, logits, at * c, values.length);
                    at += batch.size();
                }
            }
        } finally {
            JniUtils.setGradMode(gradMode);
        }
        int[] idx = subset.indices();
        long[] labels = new long[n];
        long[] prompts = new long[n];
        long[] steps = new long[n];
        boolean[] pos = new boolean[n];
        for (int i = 0; i < n; i++) {
            labels[i] = data.label(idx[i]);
            prompts[i] = data.promptRelation(idx[i]);
            steps[i] = data.timestep(idx[i]);
            pos[i] = data.positive(idx[i]);
        }
        return of(data.relations(), logits, labels, prompts, steps, pos);
    }

    /**
     * An evaluation from raw outputs.
     *
     * @param relations class names
     * @param logits row-major {@code [n, classes]}
     * @param labels true relations
     * @param promptRelations relations written in the prompts
     * @param steps timestep indices
     * @param positive whether each prompt states the true relation
     */
    public static RelationEvaluation of(List<String> relations, float[] logits, long[] labels, long[] promptRelations, long[] steps,
            boolean[] positive) {
        int n = labels.length;
        int c = relations.size();
        if (logits.length != n * c || promptRelations.length != n || steps.length != n || positive.length != n) {
            throw new IllegalArgumentException("inconsistent lengths: " + logits.length + " logits for " + n + " samples x " + c + " classes");
        }
        long[][] confusion = new long[c][c];
        int[] relN = new int[c];
        int[] relOk = new int[c];
        TreeMap<Integer, int[]> stepCounts = new TreeMap<>();
        int[] posCounts = new int[2];
        int[] negCounts = new int[2];
        int follow = 0;
        int correct = 0;
        double lossSum = 0;
        for (int i = 0; i < n; i++) {
            int best = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < c; k++) {
                if (logits[i * c + k] > max) {
                    max = logits[i * c + k];
                    best = k;
                }
            }
            double sum = 0;
            for (int k = 0; k < c; k++) {
                sum += StrictMath.exp(logits[i * c + k] - max);
            }
            int label = (int) labels[i];
            lossSum += StrictMath.log(sum) - (logits[i * c + label] - max);
            boolean ok = best == label;
            confusion[label][best]++;
            relN[label]++;
            relOk[label] += ok ? 1 : 0;
            int[] sc = stepCounts.computeIfAbsent((int) steps[i], s -> new int[2]);
            sc[0]++;
            sc[1] += ok ? 1 : 0;
            int[] pc = positive[i] ? posCounts : negCounts;
            pc[0]++;
            pc[1] += ok ? 1 : 0;
            if (!positive[i] && best == promptRelations[i]) {
                follow++;
            }
            correct += ok ? 1 : 0;
        }
        Map<String, Group> perRelation = new LinkedHashMap<>();
        for (int k = 0; k < c; k++) {
            perRelation.put(relations.get(k), new Group(relN[k], relOk[k]));
        }
        Map<Integer, Group> perStep = new LinkedHashMap<>();
        stepCounts.forEach((s, v) -> perStep.put(s, new Group(v[0], v[1])));
        return new RelationEvaluation(relations, n, correct, n == 0 ? Double.NaN : lossSum / n, perRelation, perStep,
                new Group(posCounts[0], posCounts[1]), new Group(negCounts[0], negCounts[1]), follow, confusion);
    }

    // ---- results

    /** Class names, in confusion-matrix order. */
    public List<String> relations() {
        return relations;
    }

    /** Number of samples evaluated. */
    public int samples() {
        return samples;
    }

    /** Overall accuracy (NaN without samples). */
    public double accuracy() {
        return samples == 0 ? Double.NaN : (double) correct / samples;
    }

    /** Mean cross-entropy against the true labels. */
    public double loss() {
        return loss;
    }

    /** Accuracy per true relation, in class order. */
    public Map<String, Group> perRelation() {
        return perRelation;
    }

    /** Accuracy per timestep index, ascending. */
    public Map<Integer, Group> perStep() {
        return perStep;
    }

    /** Accuracy on samples whose prompt states the true relation. */
    public Group positivePrompts() {
        return positive;
    }

    /** Accuracy on the dual-inversion negatives (the prompt states a wrong relation). */
    public Group negativePrompts() {
        return negative;
    }

    /**
     * The leakage: accuracy on positive-prompt samples minus accuracy on negative-prompt samples;
     * NaN when either kind is absent.
     */
    public double leakage() {
        return positive.accuracy() - negative.accuracy();
    }

    /** Fraction of negative-prompt samples classified as the prompt's (wrong) relation: how often the word wins over the geometry. */
    public double negativesFollowingPrompt() {
        return negative.samples() == 0 ? Double.NaN : (double) negativesFollowingPrompt / negative.samples();
    }

    /** Counts by [true relation][predicted relation] (a copy). */
    public long[][] confusionMatrix() {
        long[][] out = new long[confusion.length][];
        for (int i = 0; i < confusion.length; i++) {
            out[i] = confusion[i].clone();
        }
        return out;
    }

    /** The leakage, in words. */
    public String leakageStatement() {
        if (positive.samples() == 0 || negative.samples() == 0) {
            return "Leakage not measurable: the evaluated samples have " + (negative.samples() == 0 ? "no negative-prompt" : "no positive-prompt")
                    + " samples (leakage is the accuracy on positive-prompt samples minus the accuracy on negative-prompt samples).";
        }
        double gap = leakage();
        double chance = 1.0 / relations.size();
        String verdict = Math.max(positive.accuracy(), negative.accuracy()) < chance + 0.15
                ? String.format(Locale.ROOT, "the classifier is near chance level (%.2f) on both kinds of prompt, so it reads neither the "
                        + "geometry nor the word yet", chance)
                : gap < 0.05 ? "little or no leakage: the classifier reads the geometry in the maps, not the relation word"
                : gap < 0.2 ? "some leakage: the classifier partly reads the relation word written in the prompt"
                : "strong leakage: the classifier largely reads the relation word written in the prompt instead of the geometry";
        return String.format(Locale.ROOT, "Leakage %.3f (accuracy on positive-prompt samples minus accuracy on negative-prompt samples):"
                + " %.1f%% right when the prompt states the true relation, %.1f%% when it states a wrong one (on %.1f%% of those it predicted"
                + " the prompt's wrong relation); %s.", gap, 100 * positive.accuracy(), 100 * negative.accuracy(),
                100 * negativesFollowingPrompt(), verdict);
    }

    // ---- JSON

    /** The report as pretty-printed JSON. */
    public String toJson() {
        JsonObject root = new JsonObject();
        root.addProperty("samples", samples);
        root.add("accuracy", num(accuracy()));
        root.add("loss", num(loss));
        JsonArray rel = new JsonArray();
        relations.forEach(rel::add);
        root.add("relations", rel);
        JsonObject pr = new JsonObject();
        perRelation.forEach((k, g) -> pr.add(k, group(g)));
        root.add("per_relation", pr);
        JsonObject ps = new JsonObject();
        perStep.forEach((k, g) -> ps.add(Integer.toString(k), group(g)));
        root.add("per_step", ps);
        JsonObject pt = new JsonObject();
        pt.add("positive", group(positive));
        pt.add("negative", group(negative));
        root.add("per_prompt_type", pt);
        JsonObject leak = new JsonObject();
        leak.add("value", num(leakage()));
        leak.addProperty("definition", "accuracy on positive-prompt samples (the prompt states the true relation) minus accuracy on "
                + "negative-prompt samples (the prompt states a wrong relation; the label is still the true one)");
        leak.add("negatives_predicted_as_prompt_relation", num(negativesFollowingPrompt()));
        leak.addProperty("statement", leakageStatement());
        root.add("leakage", leak);
        JsonObject cm = new JsonObject();
        cm.addProperty("rows", "true relation");
        cm.addProperty("columns", "predicted relation");
        cm.add("labels", rel.deepCopy());
        JsonArray counts = new JsonArray();
        for (long[] row : confusion) {
            JsonArray r = new JsonArray();
            for (long v : row) {
                r.add(v);
            }
            counts.add(r);
        }
        cm.add("counts", counts);
        root.add("confusion_matrix", cm);
        return new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(root) + "\n";
    }

    private static JsonObject group(Group g) {
        JsonObject o = new JsonObject();
        o.addProperty("samples", g.samples());
        o.addProperty("correct", g.correct());
        o.add("accuracy", num(g.accuracy()));
        return o;
    }

    private static JsonElement num(double d) {
        return Double.isFinite(d) ? new JsonPrimitive(d) : JsonNull.INSTANCE;
    }

    /** Writes {@link #toJson} to {@code file}. */
    public void writeJson(Path file) {
        try {
            if (file.toAbsolutePath().getParent() != null) {
                Files.createDirectories(file.toAbsolutePath().getParent());
            }
            Files.writeString(file, toJson(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    // ---- chart

    private static final int W = 1500;
    private static final int H = 980;
    private static final Color BAR = new Color(0x3B6FB6);
    private static final Color POS = new Color(0x2E8B57);
    private static final Color NEG = new Color(0xC0504D);
    private static final Color GRID = new Color(0xDDDDDD);

    /**
     * The report as a picture: bars of accuracy per relation, per step index and per prompt type
     * (with the leakage), and the confusion matrix (cells shaded by the share of their row, with
     * counts). {@code subtitle} (may be null) says what was evaluated.
     */
    public BufferedImage chart(String subtitle) {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, W, H);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 20));
            g.drawString(String.format(Locale.ROOT, "Relation classifier: accuracy %.3f on %d samples, loss %.4f, leakage %s", accuracy(),
                    samples, loss, Double.isNaN(leakage()) ? "n/a" : String.format(Locale.ROOT, "%.3f", leakage())), 20, 32);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            int y = 54;
            if (subtitle != null && !subtitle.isEmpty()) {
                g.drawString(subtitle, 20, y);
                y += 18;
            }
            for (String line : wrap(g.getFontMetrics(), leakageStatement(), W - 40)) {
                g.drawString(line, 20, y);
                y += 17;
            }
            int top = y + 16;
            List<String> relLabels = new ArrayList<>();
            List<Group> relGroups = new ArrayList<>();
            perRelation.forEach((k, v) -> {
                relLabels.add(k);
                relGroups.add(v);
            });
            bars(g, 20, top, 560, 330, "Accuracy per true relation", relLabels, relGroups, List.of());
            List<String> stepLabels = new ArrayList<>();
            List<Group> stepGroups = new ArrayList<>();
            perStep.forEach((k, v) -> {
                stepLabels.add("step " + k);
                stepGroups.add(v);
            });
            bars(g, 610, top, 520, 330, "Accuracy per step index", stepLabels, stepGroups, List.of());
            bars(g, 1160, top, 320, 330, "Positive vs negative prompts", List.of("positive", "negative"), List.of(positive, negative),
                    List.of(POS, NEG));
            confusionMatrix(g, 20, top + 390, H - (top + 390) - 20);
        } finally {
            g.dispose();
        }
        return img;
    }

    /** Writes {@link #chart} as PNG, with the leakage statement and accuracy as text chunks. */
    public void writeChart(Path file, String subtitle) {
        Map<String, String> text = new LinkedHashMap<>();
        text.put("Title", "relation classifier evaluation");
        text.put("Description", leakageStatement());
        text.put("accuracy", String.format(Locale.ROOT, "%.6f", accuracy()));
        try {
            if (file.toAbsolutePath().getParent() != null) {
                Files.createDirectories(file.toAbsolutePath().getParent());
            }
            PngImages.write(chart(subtitle), text, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private static void bars(Graphics2D g, int x, int y, int w, int h, String title, List<String> labels, List<Group> groups,
            List<Color> colors) {
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, x, y);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        FontMetrics fm = g.getFontMetrics();
        int axisX = x + 36;
        int plotTop = y + 14;
        int plotH = h - 14 - 48;
        int plotW = w - 40;
        for (int t = 0; t <= 4; t++) {
            int ty = plotTop + plotH - plotH * t / 4;
            g.setColor(GRID);
            g.drawLine(axisX, ty, axisX + plotW, ty);
            g.setColor(Color.DARK_GRAY);
            String s = String.format(Locale.ROOT, "%.2f", t / 4.0);
            g.drawString(s, axisX - 4 - fm.stringWidth(s), ty + 4);
        }
        g.setColor(Color.BLACK);
        g.drawLine(axisX, plotTop, axisX, plotTop + plotH);
        g.drawLine(axisX, plotTop + plotH, axisX + plotW, plotTop + plotH);
        int n = Math.max(1, labels.size());
        int slot = plotW / n;
        int barW = Math.max(4, (int) (slot * 0.6));
        for (int i = 0; i < labels.size(); i++) {
            Group gr = groups.get(i);
            int bx = axisX + i * slot + (slot - barW) / 2;
            double acc = gr.accuracy();
            if (!Double.isNaN(acc)) {
                int bh = (int) Math.round(acc * plotH);
                g.setColor(i < colors.size() ? colors.get(i) : BAR);
                g.fillRect(bx, plotTop + plotH - bh, barW, bh);
                g.setColor(Color.BLACK);
                String v = String.format(Locale.ROOT, "%.2f", acc);
                g.drawString(v, bx + (barW - fm.stringWidth(v)) / 2, plotTop + plotH - bh - 3);
            }
            int ly = plotTop + plotH + 14;
            List<String> lines = new ArrayList<>(wrap(fm, labels.get(i), slot - 2));
            lines.add("n=" + gr.samples());
            for (String line : lines) {
                g.drawString(line, axisX + i * slot + (slot - fm.stringWidth(line)) / 2, ly);
                ly += 13;
            }
        }
    }

    private void confusionMatrix(Graphics2D g, int x, int y, int h) {
        int c = relations.size();
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString("Confusion matrix (rows: true relation, columns: predicted; shade: share of the row)", x, y);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        int labelW = 10;
        for (String r : relations) {
            labelW = Math.max(labelW, fm.stringWidth(r) + 12);
        }
        int cell = Math.max(16, Math.min(90, Math.min((h - 50) / Math.max(1, c), (W - 2 * x - labelW) / Math.max(1, c))));
        int gx = x + labelW;
        int gy = y + 34;
        for (int j = 0; j < c; j++) {
            String lab = relations.get(j);
            List<String> lines = wrap(fm, lab, cell - 2);
            int ly = gy - 4 - 13 * (lines.size() - 1);
            for (String line : lines) {
                g.drawString(line, gx + j * cell + (cell - fm.stringWidth(line)) / 2, ly);
                ly += 13;
            }
        }
        for (int i = 0; i < c; i++) {
            long rowSum = 0;
            for (long v : confusion[i]) {
                rowSum += v;
            }
            g.setColor(Color.BLACK);
            g.drawString(relations.get(i), x, gy + i * cell + cell / 2 + 4);
            for (int j = 0; j < c; j++) {
                double share = rowSum == 0 ? 0 : (double) confusion[i][j] / rowSum;
                int shade = (int) Math.round(255 - 200 * share);
                g.setColor(i == j ? new Color(shade, 255 - (255 - shade) / 3, shade) : new Color(255, shade, shade));
                g.fillRect(gx + j * cell, gy + i * cell, cell, cell);
                g.setColor(Color.GRAY);
                g.setStroke(new BasicStroke(1));
                g.drawRect(gx + j * cell, gy + i * cell, cell, cell);
                g.setColor(Color.BLACK);
                String v = Long.toString(confusion[i][j]);
                g.drawString(v, gx + j * cell + (cell - fm.stringWidth(v)) / 2, gy + i * cell + cell / 2 + 4);
            }
        }
    }

    private static List<String> wrap(FontMetrics fm, String text, int width) {
        List<String> out = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            String candidate = line.length() == 0 ? word : line + " " + word;
            if (fm.stringWidth(candidate) > width && line.length() > 0) {
                out.add(line.toString());
                line = new StringBuilder(word);
            } else {
                line = new StringBuilder(candidate);
            }
        }
        if (line.length() > 0) {
            out.add(line.toString());
        }
        return out;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "accuracy %.3f on %d samples (positive prompts %.3f, negative %.3f, leakage %.3f)", accuracy(),
                samples, positive.accuracy(), negative.accuracy(), leakage());
    }
}
