package dev.steer.cli;

import dev.steer.core.shapeworld.RelationScenes;
import dev.steer.core.shapeworld.ShapeWorld;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code steer render-scenes}: two-object ShapeWorld scenes with a relation manifest for {@code steer dataset}. */
@Command(name = "render-scenes", header = "Render ShapeWorld scenes with a relation manifest for 'steer dataset'.",
        description = "Renders two-object ShapeWorld scenes (PNG) with a relation manifest, OUT/pairs.jsonl, for 'steer dataset "
                + "--manifest': the real images the embedded model's relation classifier is trained from.")
final class RenderScenesCommand extends BaseCommand {
    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output folder.")
    Path out;

    @Option(names = "--count", paramLabel = "N", defaultValue = "600", description = "How many scenes.")
    int count;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "Seed of the scenes.")
    long seed;

    @Override
    public Integer call() throws IOException {
        Path manifest = RelationScenes.write(ShapeWorld.DEFAULT, out, count, seed);
        out().println("wrote " + manifest.toAbsolutePath());
        return 0;
    }
}
