package dev.steer.core.shapeworld;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.dataset.RecordFilters;
import dev.steer.core.dataset.RecordReport;
import dev.steer.core.dataset.RelationRecord;
import dev.steer.core.dataset.RelationSources;
import dev.steer.core.relation.PositionRule;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RelationScenesTest {
    @TempDir
    Path tmp;

    @Test
    void manifestReadsBackWithEveryStatedRelationAgreeingWithTheBoxesAndTheDetector() throws Exception {
        Path manifest = RelationScenes.write(ShapeWorld.DEFAULT, tmp, 40, 3);
        RecordReport report = new RecordReport();
        List<RelationRecord> records = RelationSources.readManifest(manifest,
                RecordFilters.DEFAULTS.withRequireBoxAgreement(true), report);
        assertEquals(40, records.size(), "every rendered pair is kept");
        for (RelationRecord r : records) {
            assertTrue(PositionRule.satisfies(r.subjectBox(), r.objectBox(), r.relation()), r.toString());
            BufferedImage img = ImageIO.read(r.image().toFile());
            assertEquals(ShapeWorld.DEFAULT.size(), img.getWidth());
            ShapeColor subjectColor = ShapeColor.valueOf(r.subject().split(" ")[0].toUpperCase(java.util.Locale.ROOT));
            double[] found = ShapeDetector.DEFAULT.detect(img, subjectColor).orElseThrow().box();
            assertEquals(r.subjectBox().x0(), found[0], 1, "the detector finds the subject where the manifest says");
        }
    }

    @Test
    void sameSeedWritesTheSameManifest() throws Exception {
        String a = java.nio.file.Files.readString(RelationScenes.write(ShapeWorld.DEFAULT, tmp.resolve("a"), 10, 9));
        String b = java.nio.file.Files.readString(RelationScenes.write(ShapeWorld.DEFAULT, tmp.resolve("b"), 10, 9));
        assertEquals(a, b);
    }
}
