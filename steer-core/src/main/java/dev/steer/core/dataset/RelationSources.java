package dev.steer.core.dataset;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.steer.core.relation.PositionRule;
import dev.steer.core.relation.SpatialRelation;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Reads relation records from the three input kinds of a relation dataset (see
 * {@code docs/relation-dataset.md}, "Input manifests"):
 *
 * <ul>
 *   <li>{@link #readManifest}: the library's JSON Lines manifest, one record per line, with a stated
 *       relation and/or the two boxes;</li>
 *   <li>{@link #readGqa}: GQA-style scene graphs, keeping relations that map to a
 *       {@link SpatialRelation};</li>
 *   <li>{@link #readCoco}: COCO instance annotations, every pair of annotations of an image, the
 *       relation derived from the boxes by {@link PositionRule}.</li>
 * </ul>
 *
 * <p>Bad records (missing image, box outside the image, unknown relation, filtered pairs...) are
 * counted in the {@link RecordReport} with their source and never stop the read; only an unreadable
 * or syntactically broken input file as a whole throws. Large GQA and COCO files are streamed.
 */
public final class RelationSources {
    private RelationSources() {
    }

    /**
     * Reads a JSON Lines manifest: per line {@code {"image": "...", "subject": "...", "object": "...",
     * "relation": "left of"}} or, instead of (or with) the relation, {@code "subject_box": [x0, y0, x1,
     * y1], "object_box": [...]} in the image's pixels. Image paths are relative to the manifest's
     * folder (or absolute). Blank lines and lines starting with {@code #} are ignored.
     *
     * @throws UncheckedIOException if the manifest itself cannot be read
     */
    public static List<RelationRecord> readManifest(Path manifest, RecordFilters filters, RecordReport report) {
        Path base = manifest.toAbsolutePath().getParent();
        String name = manifest.getFileName().toString();
        List<RelationRecord> out = new ArrayList<>();
        Map<Path, int[]> sizes = new HashMap<>();
        try (BufferedReader in = Files.newBufferedReader(manifest, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                String trimmed = line.strip();
                if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                    continue;
                }
                report.countRecord();
                String source = name + " line " + lineNo;
                JsonObject o;
                try {
                    JsonElement e = JsonParser.parseString(trimmed);
                    if (!e.isJsonObject()) {
                        report.skip(RecordReport.MALFORMED, source, "not a JSON object");
                        continue;
                    }
                    o = e.getAsJsonObject();
                } catch (JsonParseException e) {
                    report.skip(RecordReport.MALFORMED, source, "not JSON: " + e.getMessage());
                    continue;
                }
                RelationRecord r = manifestRecord(o, source, base, sizes, filters, report);
                if (r != null) {
                    out.add(r);
                    report.countKept();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read manifest " + manifest + ": " + e.getMessage(), e);
        }
        return out;
    }

    private static RelationRecord manifestRecord(JsonObject o, String source, Path base, Map<Path, int[]> sizes,
            RecordFilters filters, RecordReport report) {
        String image = string(o, "image");
        String subject = string(o, "subject");
        String object = string(o, "object");
        String relationText = string(o, "relation");
        boolean hasSubjectBox = o.has("subject_box") && !o.get("subject_box").isJsonNull();
        boolean hasObjectBox = o.has("object_box") && !o.get("object_box").isJsonNull();
        for (String[] f : new String[][] {{"image", image}, {"subject", subject}, {"object", object}}) {
            if (f[1] == null || f[1].isBlank()) {
                report.skip(RecordReport.MISSING_FIELD, source, "no \"" + f[0] + "\"");
                return null;
            }
        }
        if (hasSubjectBox != hasObjectBox) {
            report.skip(RecordReport.MISSING_FIELD, source, "give both \"subject_box\" and \"object_box\" or neither");
            return null;
        }
        if (relationText == null && !hasSubjectBox) {
            report.skip(RecordReport.MISSING_FIELD, source, "neither \"relation\" nor \"subject_box\"/\"object_box\"");
            return null;
        }
        SpatialRelation stated = null;
        if (relationText != null) {
            try {
                stated = SpatialRelation.parse(relationText);
            } catch (IllegalArgumentException e) {
                report.skip(RecordReport.UNKNOWN_RELATION, source, e.getMessage());
                return null;
            }
        }
        PositionRule.Box sb = null;
        PositionRule.Box ob = null;
        if (hasSubjectBox) {
            sb = corners(o.get("subject_box"));
            ob = corners(o.get("object_box"));
            if (sb == null || ob == null) {
                report.skip(RecordReport.BAD_BOX, source, "boxes must be [x0, y0, x1, y1] with x1 > x0 and y1 > y0: "
                        + o.get("subject_box") + ", " + o.get("object_box"));
                return null;
            }
        }
        Path file = base.resolve(image).normalize();
        if (!Files.isRegularFile(file)) {
            report.skip(RecordReport.MISSING_IMAGE, source, file.toString());
            return null;
        }
        int[] size = sizes.computeIfAbsent(file, RelationSources::imageSize);
        if (size.length == 0) {
            report.skip(RecordReport.UNREADABLE_IMAGE, source, file.toString());
            return null;
        }
        return checkedRecord(source, file, subject.strip(), stated, object.strip(), sb, ob, size[0], size[1], filters, report);
    }

    /**
     * The checks shared by every source once the image is known to exist: same name, boxes (inside,
     * big enough), relation from the boxes or agreement with them. Returns null after counting a skip.
     */
    private static RelationRecord checkedRecord(String source, Path image, String subject, SpatialRelation stated, String object,
            PositionRule.Box sb, PositionRule.Box ob, double width, double height, RecordFilters filters, RecordReport report) {
        if (!filters.allowSameName() && subject.equalsIgnoreCase(object)) {
            report.skip(RecordReport.SAME_NAME, source, "subject and object are both \"" + subject + "\"");
            return null;
        }
        SpatialRelation relation = stated;
        if (sb != null) {
            for (PositionRule.Box b : List.of(sb, ob)) {
                if (b.width() <= 0 || b.height() <= 0) {
                    report.skip(RecordReport.BAD_BOX, source, "empty box " + b);
                    return null;
                }
                boolean sized = Double.isFinite(width) && Double.isFinite(height);
                if (sized && !b.isInside(width, height, filters.boxTolerance())) {
                    report.skip(RecordReport.BOX_OUTSIDE_IMAGE, source, "box " + b + " outside the " + fmt(width) + "x"
                            + fmt(height) + " image");
                    return null;
                }
                if (sized && b.area() < filters.minBoxFraction() * width * height) {
                    report.skip(RecordReport.BOX_TOO_SMALL, source, "box " + b + " covers less than " + filters.minBoxFraction()
                            + " of the image");
                    return null;
                }
            }
            Set<SpatialRelation> geometric = PositionRule.relations(sb, ob);
            if (stated == null) {
                if (geometric.isEmpty()) {
                    report.skip(RecordReport.NO_RELATION_FROM_BOXES, source, "subject " + sb + ", object " + ob);
                    return null;
                }
                if (geometric.size() > 1) {
                    report.skip(RecordReport.AMBIGUOUS_BOXES, source, "subject " + sb + ", object " + ob + " give " + names(geometric));
                    return null;
                }
                relation = geometric.iterator().next();
            } else if (filters.requireBoxAgreement() && !geometric.contains(stated)) {
                report.skip(RecordReport.RELATION_CONTRADICTS_BOXES, source, "\"" + stated.canonicalName() + "\" but the boxes give "
                        + names(geometric));
                return null;
            }
        }
        return new RelationRecord(source, image, subject, relation, object, sb, ob);
    }

    /**
     * Reads GQA-style scene graphs: {@code {imageId: {width, height, objects: {objId: {name, x, y, w,
     * h, relations: [{name, object}]}}}}}; the image of {@code imageId} is {@code imagesDir/imageId.jpg}.
     * Each relation whose name {@link SpatialRelation#parse} understands is a record (the owning object
     * is the subject); other relations ("wearing", "behind"...) are not records. Each unordered object
     * pair is kept once: a repeat that agrees (the same relation, or the reverse pair with the opposite
     * relation) is a {@link RecordReport#DUPLICATE_PAIR}; pairs given contradicting relations are all
     * skipped as {@link RecordReport#CONFLICTING_RELATIONS}.
     *
     * @throws UncheckedIOException if the file cannot be read or is not a JSON object of images
     */
    public static List<RelationRecord> readGqa(Path sceneGraphs, Path imagesDir, RecordFilters filters, RecordReport report) {
        String name = sceneGraphs.getFileName().toString();
        List<RelationRecord> out = new ArrayList<>();
        try (JsonReader in = new JsonReader(Files.newBufferedReader(sceneGraphs, StandardCharsets.UTF_8))) {
            in.beginObject();
            while (in.hasNext()) {
                String imageId = in.nextName();
                JsonElement graph = JsonParser.parseReader(in);
                gqaImage(name, imageId, graph, imagesDir, filters, report, out);
            }
            in.endObject();
        } catch (IOException | JsonParseException | IllegalStateException e) {
            throw new UncheckedIOException("cannot read GQA scene graphs " + sceneGraphs + ": " + e.getMessage(),
                    e instanceof IOException io ? io : new IOException(e));
        }
        return out;
    }

    private record Candidate(String subjectId, String objectId, SpatialRelation relation, RelationRecord record) {
    }

    private static void gqaImage(String fileName, String imageId, JsonElement graph, Path imagesDir, RecordFilters filters,
            RecordReport report, List<RelationRecord> out) {
        String imageSource = fileName + " image " + imageId;
        if (!graph.isJsonObject() || !graph.getAsJsonObject().has("objects") || !graph.getAsJsonObject().get("objects").isJsonObject()) {
            report.countRecord();
            report.skip(RecordReport.MALFORMED, imageSource, "expected {width, height, objects: {...}}");
            return;
        }
        JsonObject g = graph.getAsJsonObject();
        double width = number(g, "width");
        double height = number(g, "height");
        JsonObject objects = g.getAsJsonObject("objects");
        Map<String, Integer> nameCounts = new HashMap<>();
        for (Map.Entry<String, JsonElement> e : objects.entrySet()) {
            String n = e.getValue().isJsonObject() ? string(e.getValue().getAsJsonObject(), "name") : null;
            if (n != null) {
                nameCounts.merge(n.strip().toLowerCase(Locale.ROOT), 1, Integer::sum);
            }
        }
        Path image = imagesDir.resolve(imageId + ".jpg").normalize();
        Boolean exists = null;
        Map<String, List<Candidate>> pairs = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : objects.entrySet()) {
            if (!e.getValue().isJsonObject()) {
                continue;
            }
            JsonObject subj = e.getValue().getAsJsonObject();
            JsonElement rels = subj.get("relations");
            if (rels == null || !rels.isJsonArray()) {
                continue;
            }
            for (JsonElement re : rels.getAsJsonArray()) {
                if (!re.isJsonObject()) {
                    continue;
                }
                SpatialRelation relation = tryParse(string(re.getAsJsonObject(), "name"));
                if (relation == null) {
                    continue; // not a spatial relation: not a record
                }
                report.countRecord();
                String targetId = string(re.getAsJsonObject(), "object");
                String source = imageSource + " objects " + e.getKey() + "->" + targetId;
                JsonElement target = targetId == null ? null : objects.get(targetId);
                if (target == null || !target.isJsonObject()) {
                    report.skip(RecordReport.DANGLING_RELATION, source, "no object " + targetId);
                    continue;
                }
                JsonObject obj = target.getAsJsonObject();
                String sName = string(subj, "name");
                String oName = string(obj, "name");
                if (sName == null || oName == null || sName.isBlank() || oName.isBlank()) {
                    report.skip(RecordReport.MISSING_FIELD, source, "object without a name");
                    continue;
                }
                sName = sName.strip();
                oName = oName.strip();
                source += " (" + sName + " " + relation.canonicalName() + " " + oName + ")";
                if (!filters.allowSameName() && sName.equalsIgnoreCase(oName)) {
                    report.skip(RecordReport.SAME_NAME, source, "subject and object are both \"" + sName + "\"");
                    continue;
                }
                if (filters.oneInstancePerClass() && (nameCounts.getOrDefault(sName.toLowerCase(Locale.ROOT), 0) > 1
                        || nameCounts.getOrDefault(oName.toLowerCase(Locale.ROOT), 0) > 1)) {
                    report.skip(RecordReport.CLASS_NOT_UNIQUE, source, "\"" + sName + "\" x" + nameCounts.get(sName.toLowerCase(Locale.ROOT))
                            + ", \"" + oName + "\" x" + nameCounts.get(oName.toLowerCase(Locale.ROOT)) + " in the image");
                    continue;
                }
                if (exists == null) {
                    exists = Files.isRegularFile(image);
                }
                if (!exists) {
                    report.skip(RecordReport.MISSING_IMAGE, source, image.toString());
                    continue;
                }
                PositionRule.Box sb = xywh(subj);
                PositionRule.Box ob = xywh(obj);
                if (sb == null || ob == null) {
                    report.skip(RecordReport.BAD_BOX, source, "objects need numeric x, y, w, h >= 0");
                    continue;
                }
                RelationRecord r = checkedRecord(source, image, sName, relation, oName, sb, ob, width, height, filters, report);
                if (r == null) {
                    continue;
                }
                String key = e.getKey().compareTo(targetId) < 0 ? e.getKey() + "\u0000" + targetId : targetId + "\u0000" + e.getKey();
                pairs.computeIfAbsent(key, k -> new ArrayList<>()).add(new Candidate(e.getKey(), targetId, relation, r));
            }
        }
        for (List<Candidate> group : pairs.values()) {
            Candidate first = group.get(0);
            boolean conflict = false;
            for (Candidate c : group) {
                boolean same = c.subjectId().equals(first.subjectId()) && c.relation() == first.relation();
                boolean reversed = c.subjectId().equals(first.objectId()) && c.relation() == first.relation().opposite();
                conflict |= !(same || reversed);
            }
            if (conflict) {
                StringBuilder all = new StringBuilder();
                for (Candidate c : group) {
                    all.append(all.length() == 0 ? "" : "; ").append(c.record().subject()).append(' ')
                            .append(c.relation().canonicalName()).append(' ').append(c.record().object());
                }
                for (Candidate c : group) {
                    report.skip(RecordReport.CONFLICTING_RELATIONS, c.record().source(), all.toString());
                }
                continue;
            }
            out.add(first.record());
            report.countKept();
            for (Candidate c : group.subList(1, group.size())) {
                report.skip(RecordReport.DUPLICATE_PAIR, c.record().source(), "same pair as " + first.record().source());
            }
        }
    }

    private record Annotation(long id, long category, double[] bbox, boolean crowd) {
    }

    private record CocoImage(long id, String file, double width, double height) {
    }

    /**
     * Reads COCO instance annotations ({@code images} with {@code id, file_name, width, height};
     * {@code annotations} with {@code image_id, category_id, bbox [x, y, w, h], iscrowd};
     * {@code categories} with {@code id, name}); images are {@code imagesDir/file_name}. Every pair of
     * an image's annotations (in annotation id order, the first being the subject) is a record; its
     * relation comes from the boxes by {@link PositionRule}, and pairs with no relation or two
     * (diagonal) are skipped.
     *
     * @throws UncheckedIOException if the file cannot be read or is not COCO's layout
     */
    public static List<RelationRecord> readCoco(Path instances, Path imagesDir, RecordFilters filters, RecordReport report) {
        String name = instances.getFileName().toString();
        List<CocoImage> images = new ArrayList<>();
        Map<Long, List<Annotation>> byImage = new HashMap<>();
        Map<Long, String> categories = new HashMap<>();
        try (JsonReader in = new JsonReader(Files.newBufferedReader(instances, StandardCharsets.UTF_8))) {
            in.beginObject();
            while (in.hasNext()) {
                String key = in.nextName();
                if (in.peek() != JsonToken.BEGIN_ARRAY || !Set.of("images", "annotations", "categories").contains(key)) {
                    in.skipValue();
                    continue;
                }
                in.beginArray();
                while (in.hasNext()) {
                    JsonObject o = JsonParser.parseReader(in).getAsJsonObject();
                    switch (key) {
                        case "images" -> images.add(new CocoImage(o.get("id").getAsLong(), string(o, "file_name"), number(o, "width"),
                                number(o, "height")));
                        case "annotations" -> {
                            JsonArray b = o.getAsJsonArray("bbox");
                            double[] bbox = new double[4];
                            for (int i = 0; i < 4; i++) {
                                bbox[i] = b != null && b.size() == 4 ? b.get(i).getAsDouble() : Double.NaN;
                            }
                            boolean crowd = o.has("iscrowd") && o.get("iscrowd").getAsInt() != 0;
                            byImage.computeIfAbsent(o.get("image_id").getAsLong(), k -> new ArrayList<>())
                                    .add(new Annotation(o.get("id").getAsLong(), o.get("category_id").getAsLong(), bbox, crowd));
                        }
                        default -> categories.put(o.get("id").getAsLong(), string(o, "name"));
                    }
                }
                in.endArray();
            }
            in.endObject();
        } catch (IOException | JsonParseException | IllegalStateException | NullPointerException | ClassCastException e) {
            throw new UncheckedIOException("cannot read COCO annotations " + instances + ": " + e,
                    e instanceof IOException io ? io : new IOException(e));
        }
        List<RelationRecord> out = new ArrayList<>();
        for (CocoImage img : images) {
            List<Annotation> anns = byImage.getOrDefault(img.id(), List.of());
            anns.sort((a, b) -> Long.compare(a.id(), b.id()));
            Map<Long, Integer> counts = new HashMap<>();
            for (Annotation a : anns) {
                counts.merge(a.category(), a.crowd() ? 2 : 1, Integer::sum);
            }
            Path image = img.file() == null ? null : imagesDir.resolve(img.file()).normalize();
            Boolean exists = null;
            for (int i = 0; i < anns.size(); i++) {
                for (int j = i + 1; j < anns.size(); j++) {
                    Annotation a = anns.get(i);
                    Annotation b = anns.get(j);
                    report.countRecord();
                    String sName = categories.get(a.category());
                    String oName = categories.get(b.category());
                    String source = name + " image " + img.id() + " annotations " + a.id() + "/" + b.id()
                            + (sName != null && oName != null ? " (" + sName + ", " + oName + ")" : "");
                    if (sName == null || oName == null || image == null) {
                        report.skip(RecordReport.MALFORMED, source, image == null ? "image without file_name" : "unknown category id");
                        continue;
                    }
                    if (filters.skipCrowd() && (a.crowd() || b.crowd())) {
                        report.skip(RecordReport.CROWD, source, "iscrowd annotation");
                        continue;
                    }
                    if (!filters.allowSameName() && sName.equalsIgnoreCase(oName)) {
                        report.skip(RecordReport.SAME_NAME, source, "subject and object are both \"" + sName + "\"");
                        continue;
                    }
                    if (filters.oneInstancePerClass() && (counts.get(a.category()) > 1 || counts.get(b.category()) > 1)) {
                        report.skip(RecordReport.CLASS_NOT_UNIQUE, source, "\"" + sName + "\" x" + counts.get(a.category()) + ", \""
                                + oName + "\" x" + counts.get(b.category()) + " in the image");
                        continue;
                    }
                    if (exists == null) {
                        exists = Files.isRegularFile(image);
                    }
                    if (!exists) {
                        report.skip(RecordReport.MISSING_IMAGE, source, image.toString());
                        continue;
                    }
                    PositionRule.Box sb = xywh(a.bbox());
                    PositionRule.Box ob = xywh(b.bbox());
                    if (sb == null || ob == null) {
                        report.skip(RecordReport.BAD_BOX, source, "bbox must be [x, y, w, h] with w, h >= 0");
                        continue;
                    }
                    RelationRecord r = checkedRecord(source, image, sName, null, oName, sb, ob, img.width(), img.height(), filters, report);
                    if (r != null) {
                        out.add(r);
                        report.countKept();
                    }
                }
            }
        }
        return out;
    }

    /** The (width, height) of an image from its header, or an empty array when it cannot be read. */
    static int[] imageSize(Path file) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                return new int[0];
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                return new int[0];
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                return new int[] {reader.getWidth(0), reader.getHeight(0)};
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            return new int[0];
        }
    }

    private static SpatialRelation tryParse(String phrase) {
        if (phrase == null) {
            return null;
        }
        try {
            return SpatialRelation.parse(phrase);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String string(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull() || !e.isJsonPrimitive()) {
            return null;
        }
        return e.getAsString();
    }

    private static double number(JsonObject o, String key) {
        JsonElement e = o.get(key);
        try {
            return e == null || e.isJsonNull() ? Double.NaN : e.getAsDouble();
        } catch (RuntimeException ex) {
            return Double.NaN;
        }
    }

    private static PositionRule.Box corners(JsonElement e) {
        double[] v = fourNumbers(e);
        if (v == null || !(v[2] > v[0]) || !(v[3] > v[1])) {
            return null;
        }
        return PositionRule.Box.ofCorners(v[0], v[1], v[2], v[3]);
    }

    private static PositionRule.Box xywh(JsonObject o) {
        return xywh(new double[] {number(o, "x"), number(o, "y"), number(o, "w"), number(o, "h")});
    }

    private static PositionRule.Box xywh(double[] v) {
        for (double d : v) {
            if (!Double.isFinite(d)) {
                return null;
            }
        }
        if (v[2] < 0 || v[3] < 0) {
            return null;
        }
        return PositionRule.Box.ofXywh(v[0], v[1], v[2], v[3]);
    }

    private static double[] fourNumbers(JsonElement e) {
        if (e == null || !e.isJsonArray() || e.getAsJsonArray().size() != 4) {
            return null;
        }
        double[] v = new double[4];
        for (int i = 0; i < 4; i++) {
            JsonElement x = e.getAsJsonArray().get(i);
            if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isNumber()) {
                return null;
            }
            v[i] = x.getAsDouble();
            if (!Double.isFinite(v[i])) {
                return null;
            }
        }
        return v;
    }

    private static String names(Set<SpatialRelation> relations) {
        return relations.isEmpty() ? "none" : relations.stream().map(SpatialRelation::canonicalName).toList().toString();
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
