package dev.steer.core.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.relation.PositionRule;
import dev.steer.core.relation.SpatialRelation;
import java.awt.image.BufferedImage;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RelationSourcesTest {
    @TempDir
    Path dir;

    private Path image(String name, int w, int h) throws Exception {
        Path p = dir.resolve(name);
        Files.createDirectories(p.getParent());
        ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), name.endsWith(".jpg") ? "jpg" : "png", p.toFile());
        return p;
    }

    @Test
    void manifestLinesWithRelationsOrBoxesAndEveryKindOfBadLine() throws Exception {
        image("images/a.png", 100, 80);
        Files.writeString(dir.resolve("images/broken.png"), "not a png");
        Path m = dir.resolve("pairs.jsonl");
        Files.writeString(m, String.join("\n",
                "{\"image\": \"images/a.png\", \"subject\": \"dog\", \"object\": \"cat\", \"relation\": \"left of\"}",
                "",
                "# a comment",
                "{\"image\": \"images/a.png\", \"subject\": \"cup\", \"object\": \"book\", \"subject_box\": [10, 10, 30, 20], \"object_box\": [10, 50, 30, 70]}",
                "{\"image\": \"images/missing.png\", \"subject\": \"dog\", \"object\": \"cat\", \"relation\": \"above\"}",
                "{\"image\": \"images/a.png\", \"subject\": \"dog\", \"object\": \"cat\", \"subject_box\": [0, 0, 10, 10], \"object_box\": [50, 50, 120, 70]}",
                "{\"image\": \"images/a.png\", \"subject\": \"dog\", \"object\": \"cat\", \"relation\": \"behind\"}",
                "{\"image\": \"images/a.png\", \"subject\": \"dog\", \"relation\": \"above\"}",
                "not json at all",
                "{\"image\": \"images/a.png\", \"subject\": \"dog\", \"object\": \"cat\", \"subject_box\": [0, 0, 10, 10], \"object_box\": [50, 50, 60, 60]}",
                "{\"image\": \"images/a.png\", \"subject\": \"dog\", \"object\": \"cat\", \"subject_box\": [0, 0, 10, 10], \"object_box\": [2, 0, 12, 10]}",
                "{\"image\": \"images/broken.png\", \"subject\": \"dog\", \"object\": \"cat\", \"relation\": \"below\"}",
                "{\"image\": \"images/a.png\", \"subject\": \"dog\", \"object\": \"dog\", \"relation\": \"below\"}",
                "{\"image\": \"images/a.png\", \"subject\": \"dog\", \"object\": \"cat\", \"subject_box\": [10, 0, 5, 10], \"object_box\": [2, 0, 12, 10]}",
                "{\"image\": \"images/a.png\", \"subject\": \"dog\", \"object\": \"cat\", \"relation\": \"above\", \"subject_box\": [0, 0, 10, 10]}",
                ""));
        RecordReport report = new RecordReport();
        List<RelationRecord> records = RelationSources.readManifest(m, RecordFilters.DEFAULTS, report);
        assertEquals(2, records.size());
        RelationRecord first = records.get(0);
        assertEquals(dir.resolve("images/a.png").toAbsolutePath().normalize(), first.image());
        assertEquals("dog", first.subject());
        assertEquals(SpatialRelation.LEFT_OF, first.relation());
        assertEquals("pairs.jsonl line 1", first.source());
        assertNull(first.subjectBox());
        RelationRecord boxed = records.get(1);
        assertEquals(SpatialRelation.ABOVE, boxed.relation(), "cup box above book box");
        assertEquals(PositionRule.Box.ofCorners(10, 10, 30, 20), boxed.subjectBox());
        assertEquals(13, report.records());
        assertEquals(2, report.kept());
        assertEquals(Map.of(RecordReport.MISSING_IMAGE, 1, RecordReport.BOX_OUTSIDE_IMAGE, 1, RecordReport.UNKNOWN_RELATION, 1,
                RecordReport.MISSING_FIELD, 2, RecordReport.MALFORMED, 1, RecordReport.AMBIGUOUS_BOXES, 1,
                RecordReport.NO_RELATION_FROM_BOXES, 1, RecordReport.UNREADABLE_IMAGE, 1, RecordReport.SAME_NAME, 1,
                RecordReport.BAD_BOX, 1), report.skipped());
        assertEquals(11, report.skippedTotal());
        RecordReport.Skip missing = report.examples().stream().filter(s -> s.reason().equals(RecordReport.MISSING_IMAGE)).findFirst()
                .orElseThrow();
        assertEquals("pairs.jsonl line 5", missing.source());
        assertTrue(missing.detail().endsWith("missing.png"), missing.detail());
        assertTrue(report.summary(3).contains("box outside image: 1"), report.summary(3));
    }

    @Test
    void statedRelationMustAgreeWithBoxesWhenAsked() throws Exception {
        image("a.png", 100, 100);
        Path m = dir.resolve("m.jsonl");
        Files.writeString(m, "{\"image\": \"a.png\", \"subject\": \"dog\", \"object\": \"cat\", \"relation\": \"right of\", "
                + "\"subject_box\": [0, 0, 10, 10], \"object_box\": [60, 0, 70, 10]}\n");
        assertEquals(1, RelationSources.readManifest(m, RecordFilters.DEFAULTS, new RecordReport()).size(), "stated relation wins");
        RecordReport report = new RecordReport();
        assertEquals(0, RelationSources.readManifest(m, RecordFilters.DEFAULTS.withRequireBoxAgreement(true), report).size());
        assertEquals(Map.of(RecordReport.RELATION_CONTRADICTS_BOXES, 1), report.skipped());
    }

    @Test
    void gqaSceneGraphsKeepSpatialRelationsWithTheReferenceFilters() throws Exception {
        Path images = dir.resolve("gqa");
        image("gqa/1.jpg", 200, 100);
        String graphs = """
                {"1": {"width": 200, "height": 100, "objects": {
                   "o1": {"name": "dog", "x": 10, "y": 10, "w": 30, "h": 30, "relations": [
                       {"name": "to the left of", "object": "o2"}, {"name": "wearing", "object": "o4"},
                       {"name": "to the left of", "object": "o3"}, {"name": "above", "object": "o9"}]},
                   "o2": {"name": "cat", "x": 120, "y": 10, "w": 30, "h": 30, "relations": [
                       {"name": "to the right of", "object": "o1"}]},
                   "o3": {"name": "tree", "x": 150, "y": 0, "w": 20, "h": 50, "relations": []},
                   "o5": {"name": "tree", "x": 170, "y": 0, "w": 20, "h": 50, "relations": []},
                   "o4": {"name": "collar", "x": 20, "y": 30, "w": 5, "h": 5, "relations": [
                       {"name": "below", "object": "o2"}, {"name": "above", "object": "o2"}]},
                   "o6": {"name": "ball", "x": 190, "y": 90, "w": 20, "h": 20, "relations": [
                       {"name": "to the right of", "object": "o2"}]}
                 }},
                 "2": {"width": 50, "height": 50, "objects": {
                   "a": {"name": "cup", "x": 0, "y": 0, "w": 10, "h": 10, "relations": [{"name": "on top of", "object": "b"}]},
                   "b": {"name": "table", "x": 0, "y": 20, "w": 50, "h": 30, "relations": []}}}
                }""";
        Path json = dir.resolve("scene_graphs.json");
        Files.writeString(json, graphs);
        RecordReport report = new RecordReport();
        List<RelationRecord> records = RelationSources.readGqa(json, images, RecordFilters.DEFAULTS, report);
        assertEquals(1, records.size(), records.toString());
        RelationRecord r = records.get(0);
        assertEquals("dog", r.subject());
        assertEquals("cat", r.object());
        assertEquals(SpatialRelation.LEFT_OF, r.relation());
        assertEquals(images.resolve("1.jpg").normalize(), r.image());
        assertEquals(PositionRule.Box.ofXywh(10, 10, 30, 30), r.subjectBox());
        // dog<-cat (kept), wearing (not a record), dog-tree (class not unique), dog-o9 (dangling), cat->dog (duplicate),
        // collar-cat twice (conflicting), ball (box outside), cup on top of table (missing image 2.jpg)
        assertEquals(8, report.records());
        assertEquals(Map.of(RecordReport.CLASS_NOT_UNIQUE, 1, RecordReport.DANGLING_RELATION, 1, RecordReport.DUPLICATE_PAIR, 1,
                RecordReport.CONFLICTING_RELATIONS, 2, RecordReport.BOX_OUTSIDE_IMAGE, 1, RecordReport.MISSING_IMAGE, 1),
                report.skipped());

        RecordReport lenient = new RecordReport();
        List<RelationRecord> all = RelationSources.readGqa(json, images,
                RecordFilters.DEFAULTS.withOneInstancePerClass(false).withBoxTolerance(20), lenient);
        assertEquals(3, all.size(), all.toString());
        assertEquals("tree", all.get(1).object());
        assertEquals("ball", all.get(2).subject());
    }

    @Test
    void cocoPairsTakeTheirRelationFromTheBoxes() throws Exception {
        Path images = dir.resolve("coco");
        image("coco/000001.jpg", 640, 480);
        String json = """
                {"info": {"year": 2017}, "images": [
                   {"id": 1, "file_name": "000001.jpg", "width": 640, "height": 480},
                   {"id": 2, "file_name": "000002.jpg", "width": 640, "height": 480}],
                 "annotations": [
                   {"id": 10, "image_id": 1, "category_id": 18, "bbox": [20, 200, 100, 80], "iscrowd": 0},
                   {"id": 11, "image_id": 1, "category_id": 17, "bbox": [400, 210, 120, 90], "iscrowd": 0},
                   {"id": 12, "image_id": 1, "category_id": 62, "bbox": [240, 190, 120, 100], "iscrowd": 0},
                   {"id": 13, "image_id": 1, "category_id": 1, "bbox": [300, 10, 20, 20], "iscrowd": 1},
                   {"id": 20, "image_id": 2, "category_id": 18, "bbox": [0, 0, 10, 10], "iscrowd": 0},
                   {"id": 21, "image_id": 2, "category_id": 17, "bbox": [100, 0, 10, 10], "iscrowd": 0}],
                 "categories": [{"id": 1, "name": "person"}, {"id": 17, "name": "cat"}, {"id": 18, "name": "dog"},
                   {"id": 62, "name": "chair"}]}""";
        Path file = dir.resolve("instances.json");
        Files.writeString(file, json);
        RecordReport report = new RecordReport();
        List<RelationRecord> records = RelationSources.readCoco(file, images, RecordFilters.DEFAULTS, report);
        assertEquals(3, records.size(), records.toString());
        assertEquals(List.of("dog to the left of cat", "dog to the left of chair", "cat to the right of chair"),
                records.stream().map(r -> r.subject() + " " + r.relation().canonicalName() + " " + r.object()).toList());
        assertNotNull(records.get(0).subjectBox());
        // 4 annotations -> 6 pairs in image 1 (3 with the crowd), 1 pair in image 2 (missing image)
        assertEquals(7, report.records());
        assertEquals(Map.of(RecordReport.CROWD, 3, RecordReport.MISSING_IMAGE, 1), report.skipped());

        RecordReport small = new RecordReport();
        assertEquals(0, RelationSources.readCoco(file, images, RecordFilters.DEFAULTS.withMinBoxFraction(0.05), small).size());
        assertEquals(3, small.skipped().get(RecordReport.BOX_TOO_SMALL));
    }

    @Test
    void brokenInputFilesThrowNamingTheFile() throws Exception {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "[1, 2");
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> RelationSources.readGqa(bad, dir, RecordFilters.DEFAULTS, new RecordReport()));
        assertTrue(e.getMessage().contains("bad.json"), e.getMessage());
        assertThrows(UncheckedIOException.class, () -> RelationSources.readCoco(bad, dir, RecordFilters.DEFAULTS, new RecordReport()));
        assertThrows(UncheckedIOException.class,
                () -> RelationSources.readManifest(dir.resolve("none.jsonl"), RecordFilters.DEFAULTS, new RecordReport()));
    }
}
