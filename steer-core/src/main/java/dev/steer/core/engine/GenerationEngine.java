package dev.steer.core.engine;

import dev.steer.core.attention.AttentionProbe;
import dev.steer.core.attention.CrossAttentionLayer;
import dev.steer.core.generation.Cancellation;
import dev.steer.core.generation.GenerationCancelledException;
import dev.steer.core.generation.GenerationRequest;
import dev.steer.core.generation.GenerationResult;
import dev.steer.core.generation.InitialNoise;
import dev.steer.core.generation.ModelDefaults;
import dev.steer.core.generation.ProgressListener;
import dev.steer.core.generation.Sampler;
import dev.steer.core.generation.StageTimings;
import dev.steer.core.generation.StepProgress;
import dev.steer.core.image.PngImages;
import dev.steer.core.relation.RelationClassifier;
import dev.steer.core.relation.SpatialRelation;
import dev.steer.core.relation.TokenBinding;
import dev.steer.core.scheduler.Schedule;
import dev.steer.core.scheduler.Scheduler;
import dev.steer.core.scheduler.Schedulers;
import dev.steer.core.steering.SteeringRun;
import dev.steer.core.steering.SteeringStepReport;
import dev.steer.core.tokenizer.TokenizedPrompt;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The one generation loop of steer, for every backend and model family: prompt -> conditioning ->
 * seeded initial noise -> per step (optional steering refinement, the denoiser's prediction with
 * classifier-free guidance, the scheduler step, listeners) -> decode -> result with metadata. It
 * also runs the steering session ({@link SteeringRun}), the heatmap pictures (steered beside
 * vanilla, the vanilla run reusing the encoded prompt) and cancellation. What is backend specific
 * comes from a {@link DiffusionBackend}.
 *
 * <p>Each generation (or {@link #generateAll} call) runs in one {@link GenerationScope}, closed when
 * it ends, fails or is cancelled, so native memory does not grow across generations. Before every
 * denoiser call the engine checks the request's {@link Cancellation} and the thread's interrupt
 * status. Not thread-safe: use one engine per thread. Engines on different threads may run at the
 * same time, steering included; a backend whose gradient machinery is process-wide serialises its
 * gradient sections itself (LibTorch: {@code dev.steer.pytorch.nn.GradientSection}), so results
 * equal those of running the same requests one after the other.
 *
 * @param <E> the backend's encoded-prompt type
 */
public final class GenerationEngine<E> implements Sampler {
    private final DiffusionBackend<E> backend;
    private final ModelInfo info;

    /**
     * @param backend the loaded model; the engine owns it and closes it in {@link #close()}
     * @throws IllegalArgumentException when the backend's relation classifier does not fit its probe
     *     (see {@link #checkClassifier})
     */
    public GenerationEngine(DiffusionBackend<E> backend) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.info = backend.info();
        if (info.relationClassifier() != null) {
            checkClassifier(info.relationClassifier(), info.probeLayers(), info.description());
        }
    }

    /** The backend. */
    public DiffusionBackend<E> backend() {
        return backend;
    }

    /**
     * Refuses a relation classifier that cannot read what this model's probe produces: another number
     * of maps per word (cross-attention layers x heads), another map side, or fewer than two spatial
     * relations among its classes (the published ones add a class "is" for unrelated words).
     *
     * @throws IllegalArgumentException naming both numbers
     */
    public static void checkClassifier(RelationClassifier classifier, List<CrossAttentionLayer> probeLayers, String model) {
        int maps = AttentionProbe.mapsPerWord(probeLayers);
        String name = classifier.source() == null ? "the relation classifier" : "the relation classifier " + classifier.source();
        if (classifier.mapsPerWord() != maps) {
            throw new IllegalArgumentException(name + " reads " + classifier.mapsPerWord()
                    + " maps per word but the probe of " + model + " produces " + maps + " (" + probeLayers.size()
                    + " cross-attention layers x their heads): the classifier was trained for another model");
        }
        if (classifier.mapSide() != AttentionProbe.MAP_SIZE) {
            throw new IllegalArgumentException(name + " reads " + classifier.mapSide() + "x" + classifier.mapSide()
                    + " maps but the probe of " + model + " produces " + AttentionProbe.MAP_SIZE + "x" + AttentionProbe.MAP_SIZE);
        }
        long relations = classifier.classNames().stream().filter(GenerationEngine::isSpatialRelation).count();
        if (relations < 2) {
            throw new IllegalArgumentException(name + " has classes " + classifier.classNames() + " holding " + relations
                    + " spatial relation(s); steering needs at least two");
        }
    }

    private static boolean isSpatialRelation(String name) {
        try {
            SpatialRelation.parse(name);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public ModelDefaults defaults() {
        return info.defaults();
    }

    @Override
    public String modelDescription() {
        return info.description();
    }

    @Override
    public GenerationResult generate(GenerationRequest request) {
        return generateAll(List.of(Objects.requireNonNull(request, "request"))).get(0);
    }

    @Override
    public List<GenerationResult> generateAll(List<GenerationRequest> requests) {
        if (requests.isEmpty()) {
            throw new IllegalArgumentException("give at least one request");
        }
        List<Plan> plans = new ArrayList<>(requests.size());
        for (GenerationRequest r : requests) {
            plans.add(plan(Objects.requireNonNull(r, "request")));
        }
        List<GenerationResult> results = new ArrayList<>(requests.size());
        try (GenerationScope<E> scope = backend.openScope()) {
            Prompts prompts = new Prompts(scope);
            for (int i = 0; i < plans.size(); i++) {
                results.add(generate(scope, prompts, plans.get(i), i, plans.size()));
            }
        }
        return results;
    }

    /** A request with its size and schedule resolved and checked before any work. */
    private record Plan(GenerationRequest request, int width, int height, Scheduler scheduler) {
        int latentHeight(int cell) {
            return height / cell;
        }

        int latentWidth(int cell) {
            return width / cell;
        }
    }

    private Plan plan(GenerationRequest request) {
        LatentGeometry g = info.geometry();
        int width = request.width() == 0 ? g.defaultImageSize() : request.width();
        int height = request.height() == 0 ? g.defaultImageSize() : request.height();
        if (width % g.sizeMultiple() != 0 || height % g.sizeMultiple() != 0) {
            throw new IllegalArgumentException("width and height must be multiples of " + g.sizeMultiple() + " for this model, got "
                    + width + "x" + height);
        }
        if (request.steering() != null && info.relationClassifier() == null) {
            throw new IllegalStateException("steering needs a relation classifier: load one with the pipeline builder's "
                    + "optRelationClassifier(path)");
        }
        if (request.steering() != null && request.steering().config().noiseCandidates() > 1
                && request.steering().config().selectionStep() >= request.steps()) {
            throw new IllegalArgumentException("noise candidates are compared at step " + request.steering().config().selectionStep()
                    + ", which a " + request.steps() + "-step generation does not reach");
        }
        Scheduler folder = info.scheduler();
        if (request.scheduler() != null && request.scheduler().hasAlphasCumprod() != folder.type().hasAlphasCumprod()) {
            throw new IllegalArgumentException("scheduler " + request.scheduler().diffusersClassName() + " cannot drive "
                    + info.description() + ", trained for " + folder.type().diffusersClassName()
                    + (folder.type().hasAlphasCumprod() ? " (a noise-prediction schedule)" : " (flow matching)"));
        }
        Scheduler sched = request.scheduler() == null ? folder : Schedulers.create(request.scheduler(), folder.config());
        return new Plan(request, width, height, sched);
    }

    /** Encodes each distinct prompt once per scope; the tokenization is kept for steering's word binding. */
    private final class Prompts {
        private final GenerationScope<E> scope;
        private final Map<String, Encoded<E>> cache = new HashMap<>();

        Prompts(GenerationScope<E> scope) {
            this.scope = scope;
        }

        Encoded<E> get(String prompt) {
            Encoded<E> e = cache.get(prompt);
            if (e == null) {
                TokenizedPrompt tokens = backend.tokenize(prompt);
                e = new Encoded<>(tokens, scope.encode(tokens));
                cache.put(prompt, e);
            }
            return e;
        }
    }

    private record Encoded<E>(TokenizedPrompt tokens, E embedding) {
    }

    private GenerationResult generate(GenerationScope<E> scope, Prompts prompts, Plan plan, int image, int images) {
        GenerationRequest request = plan.request();
        LatentGeometry g = info.geometry();
        int lh = plan.latentHeight(g.pixelsPerCell());
        int lw = plan.latentWidth(g.pixelsPerCell());
        Schedule schedule = plan.scheduler().schedule(request.steps(), g.sequenceLength(lh, lw));
        long t0 = System.nanoTime();
        Control control = new Control(request.cancellation(), request.progress(), image, images, t0);
        control.check("before encoding the prompt");
        Encoded<E> cond = prompts.get(request.prompt());
        boolean cfg = usesClassifierFreeGuidance(request.guidanceScale());
        E uncond = cfg ? prompts.get(request.negativePrompt()).embedding() : null;
        long t1 = System.nanoTime();
        float[] init = InitialNoise.latents(request.seed(), g.channels() * lh * lw, schedule.initNoiseSigma());
        SteeringRun steering = request.steering() == null ? null
                : new SteeringRun(request.steering(), cond.tokens(), info.relationClassifier());
        PictureRecorder pictures = null;
        if (steering != null && request.steering().picturesDir() != null) {
            pictures = pictureRecorder(scope, steering, schedule, lh, lw, plan);
        }
        Loop<E> loop = new Loop<>(cond.embedding(), uncond, init, lh, lw, schedule, request.guidanceScale(), steering,
                request.seed(), pictures, control, 0, schedule.size());
        if (steering != null && request.steering().config().noiseCandidates() > 1) {
            loop = chooseInitialNoise(scope, plan, loop);
            pictures = (PictureRecorder) loop.observer();
        }
        float[] latents = run(scope, loop);
        long t2 = System.nanoTime();
        control.check("before decoding");
        BufferedImage picture = PngImages.fromChw(scope.decode(latents, lh, lw), plan.height(), plan.width());
        long t3 = System.nanoTime();
        int calls = schedule.size() + (steering == null ? 0 : steering.modelCalls());
        int latentEvaluations = schedule.size() + (steering == null ? 0 : steering.latentEvaluations());
        StageTimings timings = new StageTimings(Duration.ofNanos(t1 - t0), Duration.ofNanos(t2 - t1),
                Duration.ofNanos(steering == null ? 0 : steering.nanos()), Duration.ofNanos(t3 - t2), calls, latentEvaluations);
        Map<String, String> meta = request.metadata(plan.scheduler().type().name(), plan.width(), plan.height(), info.description());
        if (steering != null) {
            meta.putAll(steering.metadata());
            meta.putAll(backend.steeringMetadata());
        }
        if (pictures != null) {
            PictureRecorder vanilla = pictureRecorder(scope, steering, schedule, lh, lw, plan);
            Control quiet = new Control(request.cancellation(), null, image, images, t0);
            Schedule fresh = plan.scheduler().schedule(request.steps(), g.sequenceLength(lh, lw)); // schedules are single-use
            float[] plain = run(scope, new Loop<>(cond.embedding(), uncond, init, lh, lw, fresh, request.guidanceScale(), null,
                    request.seed(), vanilla, quiet, 0, fresh.size()));
            BufferedImage vanillaImage = PngImages.fromChw(scope.decode(plain, lh, lw), plan.height(), plan.width());
            TokenBinding first = steering.firstBinding();
            PictureRecorder.write(request.steering().picturesDir(), first.triplet().subject(), first.triplet().object(), pictures,
                    vanilla, picture, vanillaImage, meta);
            meta.put("steering_pictures", request.steering().picturesDir().toString());
        }
        return new GenerationResult(picture, request, latents, timings, steering == null ? List.of() : steering.reports(), meta);
    }

    /**
     * The candidate initial noises of a steered request, each denoised without steering up to the
     * selection step, and the loop that continues from the one the classifier prefers there. The
     * other candidates' steps count as model calls of steering; the chosen one's steps before the
     * selection step are reported to the progress listener (and recorded for the pictures) as if
     * the generation had started from it.
     */
    private Loop<E> chooseInitialNoise(GenerationScope<E> scope, Plan plan, Loop<E> main) {
        GenerationRequest request = plan.request();
        SteeringRun steering = main.steering();
        int candidates = request.steering().config().noiseCandidates();
        int at = request.steering().config().selectionStep();
        int count = main.init().length;
        List<float[]> latents = new ArrayList<>();
        List<Schedule> schedules = new ArrayList<>();
        List<List<StepProgress>> heard = new ArrayList<>();
        List<StepObserver> observers = new ArrayList<>();
        for (int c = 0; c < candidates; c++) {
            Schedule schedule = c == 0 ? main.schedule() : plan.scheduler().schedule(request.steps(),
                    info.geometry().sequenceLength(main.latentHeight(), main.latentWidth()));
            float[] noise = c == 0 ? main.init()
                    : InitialNoise.latents(InitialNoise.candidateSeed(request.seed(), c), count, schedule.initNoiseSigma());
            List<StepProgress> steps = new ArrayList<>();
            StepObserver observer = main.observer() == null ? null
                    : pictureRecorder(scope, steering, schedule, main.latentHeight(), main.latentWidth(), plan);
            Control quiet = new Control(request.cancellation(), steps::add, main.control().image(), main.control().images(),
                    main.control().start());
            Loop<E> partial = new Loop<>(main.cond(), main.uncond(), noise, main.latentHeight(), main.latentWidth(), schedule,
                    main.guidance(), null, main.seed(), observer, quiet, 0, at);
            latents.add(at == 0 ? noise : run(scope, partial));
            schedules.add(schedule);
            heard.add(steps);
            observers.add(observer);
        }
        SteeringStep step = steeringStep(schedules.get(0), at, main.latentHeight(), main.latentWidth(), main.seed(), main.guidance());
        int chosen = steering.chooseInitialNoise(scope.steeringObjective(main.cond(), step, steering.bindings()), latents,
                () -> main.control().check("while choosing the initial noise"));
        steering.countModelCalls((candidates - 1) * at);
        for (StepProgress p : heard.get(chosen)) {
            main.control().replay(p);
        }
        return main.resumed(latents.get(chosen), schedules.get(chosen), at, observers.get(chosen), main.control(), steering);
    }

    private SteeringStep steeringStep(Schedule schedule, int i, int lh, int lw, long seed, float guidance) {
        int n = schedule.size();
        float inputScale = schedule.scaleModelInput(new float[] {1f}, i)[0];
        return new SteeringStep(i, n, schedule.modelTimesteps()[i], info.relationClassifier().timestepIndexFor(i, n), inputScale,
                info.geometry().channels(), lh, lw, seed, guidance);
    }

    private PictureRecorder pictureRecorder(GenerationScope<E> scope, SteeringRun steering, Schedule schedule, int lh, int lw,
            Plan plan) {
        TokenBinding first = steering.firstBinding();
        return new PictureRecorder(scope::decode, first.subjectPositions(), first.objectPositions(),
                i -> steering.isSteered(i, schedule.size()), lh, lw, plan.height(), plan.width());
    }

    /**
     * The denoising loop alone, for callers that hold encoded prompts in a scope (conformance tests,
     * inversion, dataset building): classifier-free guidance when {@code guidance > 1}, an optional
     * observer and progress listener, no steering.
     *
     * @param cond conditional hidden states [1, T, D]
     * @param uncond unconditional hidden states [1, T, D] (unused when guidance is 1 or less)
     * @param initLatents initial latent already scaled by the schedule's init noise sigma, [C * h * w]
     * @return the final latent
     */
    public float[] denoise(GenerationScope<E> scope, E cond, E uncond, float[] initLatents, int latentHeight, int latentWidth,
            Schedule schedule, float guidance, StepObserver observer, ProgressListener listener) {
        Control control = new Control(null, listener, 0, 1, System.nanoTime());
        return run(scope, new Loop<>(cond, uncond, initLatents, latentHeight, latentWidth, schedule, guidance, null, 0L, observer,
                control, 0, schedule.size()));
    }

    /** Steps {@code from} (inclusive) to {@code to} (exclusive) of a schedule, from the latent {@code init} at step {@code from}. */
    private record Loop<E>(E cond, E uncond, float[] init, int latentHeight, int latentWidth, Schedule schedule, float guidance,
            SteeringRun steering, long seed, StepObserver observer, Control control, int from, int to) {

        /** The same loop from another step and latent, with another schedule (one already taken to that step), observer and control. */
        Loop<E> resumed(float[] latent, Schedule at, int step, StepObserver watcher, Control checks, SteeringRun steer) {
            return new Loop<>(cond, uncond, latent, latentHeight, latentWidth, at, guidance, steer, seed, watcher, checks, step, to);
        }
    }

    /** Whether a request runs the [uncond, cond] batch: only classifier-free models, at a scale above 1. */
    private boolean usesClassifierFreeGuidance(float guidance) {
        return info.guidanceMode() == GuidanceMode.CLASSIFIER_FREE && guidance > 1f;
    }

    private float[] run(GenerationScope<E> scope, Loop<E> loop) {
        boolean cfg = usesClassifierFreeGuidance(loop.guidance());
        if (cfg && loop.uncond() == null) {
            throw new IllegalArgumentException("guidance " + loop.guidance() + " needs the unconditional embedding");
        }
        int channels = info.geometry().channels();
        int lh = loop.latentHeight();
        int lw = loop.latentWidth();
        int per = channels * lh * lw;
        if (loop.init().length != per) {
            throw new IllegalArgumentException("initial latent has " + loop.init().length + " values, expected " + channels + "x" + lh
                    + "x" + lw);
        }
        Schedule schedule = loop.schedule();
        E context = cfg ? scope.pair(loop.uncond(), loop.cond()) : loop.cond();
        float[] latents = loop.init().clone();
        int[] timesteps = schedule.timesteps();
        float[] modelTimesteps = schedule.modelTimesteps();
        int n = timesteps.length;
        Control control = loop.control();
        SteeringRun steering = loop.steering();
        for (int i = loop.from(); i < loop.to(); i++) {
            int step = i;
            control.check("at step " + i + " of " + n);
            SteeringStepReport report = null;
            if (steering != null && steering.isSteered(i, n)) {
                SteeringStep at = steeringStep(schedule, i, lh, lw, loop.seed(), loop.guidance());
                report = steering.refine(scope.steeringObjective(loop.cond(), at, steering.bindings()), i, n, latents,
                        () -> control.check("while steering step " + step + " of " + n));
            }
            float[] modelInput = schedule.scaleModelInput(latents, i);
            float[] x = modelInput;
            if (cfg) {
                x = new float[2 * per];
                System.arraycopy(modelInput, 0, x, 0, per);
                System.arraycopy(modelInput, 0, x, per, per);
            }
            List<int[]> words = loop.observer() == null ? null : loop.observer().probeWords(i);
            AttentionProbe<?> probe = words == null ? null : scope.newProbe(words);
            float[] out = scope.predict(context, x, cfg ? 2 : 1, lh, lw, modelTimesteps[i], loop.guidance(), probe, cfg ? 1 : 0);
            float[] guided = cfg ? guide(out, per, loop.guidance()) : out;
            if (probe != null) {
                loop.observer().onStep(i, latents, guided, probe.classifierMaps(), schedule);
            }
            latents = schedule.step(guided, i, latents);
            control.progress(i, n, timesteps[i], latents, report);
        }
        return latents;
    }

    /** Classifier-free guidance on the batch [uncond, cond]: u + g (c - u). */
    private static float[] guide(float[] out, int per, float guidance) {
        float[] guided = new float[per];
        for (int k = 0; k < per; k++) {
            float u = out[k];
            float c = out[per + k];
            guided[k] = u + (c - u) * guidance;
        }
        return guided;
    }

    /** Cancellation checks and progress reports of one image. */
    private record Control(Cancellation cancellation, ProgressListener progress, int image, int images, long start) {
        void check(String where) {
            if (Thread.interrupted()) {
                throw new GenerationCancelledException("generation interrupted " + where);
            }
            if (cancellation != null && cancellation.isCancelled()) {
                throw new GenerationCancelledException("generation cancelled " + where);
            }
        }

        void progress(int step, int steps, int timestep, float[] latents, SteeringStepReport report) {
            if (progress != null) {
                progress.onStep(new StepProgress(image, images, step, steps, timestep, latents, System.nanoTime() - start, report));
            }
        }

        /** Passes on a step heard elsewhere (a noise candidate's steps, once it is chosen). */
        void replay(StepProgress step) {
            if (progress != null) {
                progress.onStep(step);
            }
        }
    }

    /** Closes the backend (model and classifier). */
    @Override
    public void close() {
        backend.close();
    }
}
