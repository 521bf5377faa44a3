package dev.steer.pytorch.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.relation.PositionRule;
import dev.steer.core.shapeworld.Scene;
import dev.steer.core.shapeworld.SceneObject;
import dev.steer.core.shapeworld.ShapeWorld;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringRequest;
import dev.steer.pytorch.dataset.RelationDatasetBuilder;
import dev.steer.pytorch.pipeline.StableDiffusion;
import dev.steer.pytorch.testing.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole classifier workflow on the tiny model: images the test renders, a dual-inversion
 * dataset, training, the evaluation with its leakage report, and the trained checkpoint steering a
 * generation.
 */
class RelationWorkflowTest {
    @TempDir
    Path tmp;

    @Test
    void rendersBuildsTrainsEvaluatesAndSteersWithTheResult() throws Exception {
        // scenes of two shapes with exact boxes; the dataset derives each relation from the boxes
        ShapeWorld world = new ShapeWorld(64, 14, 24);
        Random rng = new Random(4);
        Path images = Files.createDirectories(tmp.resolve("data/images"));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Scene scene = world.sample(rng, 2);
            SceneObject a = scene.objects().get(0);
            SceneObject b = scene.objects().get(1);
            if (PositionRule.relation(box(a), box(b)).isEmpty()) {
                continue;
            }
            ImageIO.write(ShapeWorld.render(scene), "png", images.resolve(i + ".png").toFile());
            lines.add(String.format("{\"image\": \"images/%d.png\", \"subject\": \"%s\", \"object\": \"%s\", "
                    + "\"subject_box\": [%d, %d, %d, %d], \"object_box\": [%d, %d, %d, %d]}", i, a.kind().noun(),
                    b.kind() == a.kind() ? "shape" : b.kind().noun(), a.x0(), a.y0(), a.x1(), a.y1(), b.x0(), b.y0(), b.x1(), b.y1()));
        }
        Path manifest = tmp.resolve("data/pairs.jsonl");
        Files.write(manifest, lines);

        try (StableDiffusion sd = TinyModels.fixtureTiny(tmp.resolve("tiny"))) {
            Path dataset = tmp.resolve("dataset");
            RelationDatasetBuilder.Summary built = RelationDatasetBuilder.builder().setPipeline(sd).setOutputDir(dataset)
                    .addManifest(manifest).optSteps(10).optFixedPointIterations(1).optPsnrThreshold(0).optProgress(null)
                    .build().run();
            assertTrue(built.triplets() >= 4, "triplets " + built.triplets());

            RelationClassifierTrainer.Result trained = RelationClassifierTrainer
                    .builder(RelationDataset.open(dataset), tmp.resolve("classifier"))
                    .optArchitecture(RelationArchitecture.SMALL).optBatchSize(8).optMaxSteps(20).optLearningRate(1e-3)
                    .optSplit(0.6, 0.2).build().train();
            assertTrue(Files.exists(trained.evaluationJson()) && Files.exists(trained.evaluationChart()));
            String report = Files.readString(trained.evaluationJson());
            assertTrue(report.contains("leakage"), report);

            try (StableDiffusion steered = StableDiffusion.builder().setModelFolder(tmp.resolve("tiny"))
                    .optRelationClassifier(trained.bestCheckpoint()).build()) {
                GenerationResult r = steered.generate(GenerationRequest.builder("a photo of a circle left of a square")
                        .optSteps(4).optSteering(SteeringRequest.fromPrompt().withConfig(SteeringConfig.DEFAULTS.withMaxIterations(2)))
                        .build());
                assertEquals(2, r.steering().size());
                assertTrue(Float.isFinite(r.steering().get(0).lossBefore()));
            }
        }
    }

    private static PositionRule.Box box(SceneObject o) {
        return PositionRule.Box.ofCorners(o.x0(), o.y0(), o.x1(), o.y1());
    }
}
