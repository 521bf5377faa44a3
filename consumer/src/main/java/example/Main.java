package example;

import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.model.EmbeddedModels;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringRequest;
import dev.steer.pytorch.pipeline.StableDiffusion;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** The README's steering snippet on the embedded ShapeWorld model from its artifact: Main OUT.png */
public final class Main {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        Files.deleteIfExists(out);
        try (StableDiffusion sd = StableDiffusion.builder()
                .setEmbeddedModel(EmbeddedModels.SHAPEWORLD)   // model and classifier from the classpath
                .build()) {
            Path classifier = EmbeddedModels.folder(EmbeddedModels.SHAPEWORLD).resolve("classifier");
            GenerationResult r = sd.generate(GenerationRequest.builder("a photo of a purple square above a red circle")
                    .optSteps(20)
                    .optGuidanceScale(5f)
                    .optSteering(SteeringRequest.fromPrompt()
                            .withConfig(SteeringConfig.recommendedFor(classifier))
                            .withListener(step -> System.out.printf("step %d: loss %.4f -> %.4f%n",
                                    step.stepIndex(), step.lossBefore(), step.lossAfter())))
                    .build());
            r.save(out);
            System.out.println("steering: " + r.metadata().get("steering_summary"));
        }
        if (!Files.isRegularFile(out) || ImageIO.read(out.toFile()) == null) {
            throw new IllegalStateException("no PNG written at " + out);
        }
        System.out.println("wrote " + out.toAbsolutePath() + " (" + Files.size(out) + " bytes)");
    }
}
