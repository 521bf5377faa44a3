package dev.steer.pytorch.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.steer.core.attention.AttentionProbe;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.steering.SteeringConfig;
import dev.steer.core.steering.SteeringRequest;
import dev.steer.core.steering.SteeringStepReport;
import dev.steer.core.testing.Conformance;
import dev.steer.pytorch.nn.GradientSection;
import dev.steer.pytorch.testing.TinyModels;
import java.nio.file.Path;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The threading contract of {@link StableDiffusion}: two pipelines, each on its own thread, steer at
 * the same time (their gradient sections take turns in {@link GradientSection}), and produce
 * exactly what they produce one after the other.
 */
class ConcurrentSteeringTest {
    @TempDir
    static Path tmp;

    private static StableDiffusion first;
    private static StableDiffusion second;

    @BeforeAll
    static void load() throws Exception {
        Path folder = TinyModels.fullVocabularyFolder(tmp.resolve("tiny"));
        int maps;
        try (StableDiffusion plain = StableDiffusion.builder().setModelFolder(folder).build()) {
            maps = AttentionProbe.mapsPerWord(plain.unet().crossAttentionLayers());
        }
        Path classifier = Conformance.referenceClassifierFor(tmp.resolve("classifier"), maps);
        first = StableDiffusion.builder().setModelFolder(folder).optRelationClassifier(classifier).build();
        second = StableDiffusion.builder().setModelFolder(folder).optRelationClassifier(classifier).build();
    }

    @AfterAll
    static void close() {
        first.close();
        second.close();
    }

    private static GenerationRequest request(String prompt, long seed, boolean steered) {
        GenerationRequest.Builder b = GenerationRequest.builder(prompt).optSteps(6).optSize(64, 64).optSeed(seed);
        if (steered) {
            b.optSteering(SteeringRequest.fromPrompt().withConfig(SteeringConfig.DEFAULTS.withMaxIterations(3).withStepSize(1e3f)));
        }
        return b.build();
    }

    private record Run(GenerationResult result, long startNanos, long endNanos) {
    }

    private static Run run(StableDiffusion sd, GenerationRequest request) {
        long t0 = System.nanoTime();
        GenerationResult r = sd.generate(request);
        return new Run(r, t0, System.nanoTime());
    }

    /** Runs a on the first pipeline and b on the second, one after the other, then on two threads at once; compares. */
    private static void sequentialThenConcurrent(GenerationRequest a, GenerationRequest b, String what) throws Exception {
        // warm both up (first native calls, allocator), then the sequential reference
        run(first, a);
        run(second, b);
        long s0 = System.nanoTime();
        Run seqA = run(first, a);
        Run seqB = run(second, b);
        long sequentialMs = (System.nanoTime() - s0) / 1_000_000;

        long waitedBefore = GradientSection.waitedMillis();
        long heldBefore = GradientSection.heldMillis();
        CyclicBarrier start = new CyclicBarrier(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        long c0 = System.nanoTime();
        Run conA;
        Run conB;
        try {
            Future<Run> fa = pool.submit(() -> {
                start.await();
                return run(first, a);
            });
            Future<Run> fb = pool.submit(() -> {
                start.await();
                return run(second, b);
            });
            conA = fa.get();
            conB = fb.get();
        } finally {
            pool.shutdown();
        }
        long concurrentMs = (System.nanoTime() - c0) / 1_000_000;
        assertTrue(conA.startNanos() < conB.endNanos() && conB.startNanos() < conA.endNanos(), "the two generations overlapped");
        System.out.printf("two tiny SD pipelines, %s: one after the other %d ms, on two threads %d ms; gradient sections open %d ms, "
                + "threads waited for them %d ms%n", what, sequentialMs, concurrentMs, GradientSection.heldMillis() - heldBefore,
                GradientSection.waitedMillis() - waitedBefore);
        same(seqA.result(), conA.result());
        same(seqB.result(), conB.result());
    }

    @Test
    void twoPipelinesSteerAtOnceWithTheirSequentialResults() throws Exception {
        sequentialThenConcurrent(request("a photo of a dog right of a teddy bear", 3, true),
                request("a red cup above a blue book", 11, true), "steering 3 of 6 steps");
    }

    @Test
    void twoPipelinesGenerateAtOnceWithTheirSequentialResults() throws Exception {
        sequentialThenConcurrent(request("a photo of a dog right of a teddy bear", 3, false),
                request("a red cup above a blue book", 11, false), "vanilla");
    }

    private static void same(GenerationResult expected, GenerationResult actual) {
        assertEquals(expected.steering().size(), actual.steering().size());
        for (int i = 0; i < expected.steering().size(); i++) {
            SteeringStepReport e = expected.steering().get(i);
            SteeringStepReport r = actual.steering().get(i);
            assertEquals(e.iterations(), r.iterations());
            assertEquals(e.lossBefore(), r.lossBefore());
            assertEquals(e.lossAfter(), r.lossAfter());
            assertEquals(null, r.abandoned());
        }
        assertArrayEquals(expected.finalLatents(), actual.finalLatents(), "the same latent, bit for bit");
        int w = expected.image().getWidth();
        int h = expected.image().getHeight();
        assertArrayEquals(expected.image().getRGB(0, 0, w, h, null, 0, w), actual.image().getRGB(0, 0, w, h, null, 0, w));
    }
}
