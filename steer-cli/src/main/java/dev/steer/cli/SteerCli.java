package dev.steer.cli;

import dev.steer.core.generation.GenerationCancelledException;
import dev.steer.core.model.ModelConfigException;
import dev.steer.core.weights.WeightsFormatException;
import dev.steer.onnx.OnnxExecutionException;
import dev.steer.onnx.ProtoFormatException;
import dev.steer.pytorch.training.RelationDatasetException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;

/**
 * The {@code steer} command: one program for generation, steering, ShapeBench, dataset building and
 * training. {@code bin/steer} runs it from the runnable jar ({@code steer-cli/target/steer.jar}).
 *
 * <p>Exit codes: 0 success; 2 a wrong option or input (one line on standard error naming it, and
 * where to find the help); 1 a failure while running (one line; {@code --stacktrace} prints the
 * stack trace).
 */
@Command(name = "steer", scope = ScopeType.INHERIT, // the subcommands inherit these attributes: help, version, defaults shown
        mixinStandardHelpOptions = true, versionProvider = SteerCli.Version.class, showDefaultValues = true, sortOptions = false,
        usageHelpAutoWidth = true,
        description = {"Learn-to-Steer spatial control for text-to-image diffusion models.",
                "Relative paths are relative to the current directory; the embedded model and the other repository files the "
                        + "defaults name are found in the steer home (-Dsteer.home, which bin/steer sets, else the repository "
                        + "holding steer.jar or the current directory)."},
        subcommands = {GenerateCommand.class, SteerCommand.class, ShapeBenchCommand.class, DatasetCommand.class,
                TrainClassifierCommand.class, TrainShapeWorldCommand.class, TrainShapeWorldFluxCommand.class, RenderScenesCommand.class})
public final class SteerCli implements Runnable {
    /** Exit code of a wrong option or input. */
    public static final int USAGE_ERROR = CommandLine.ExitCode.USAGE;
    /** Exit code of a failure while running. */
    public static final int RUN_ERROR = CommandLine.ExitCode.SOFTWARE;

    /** Read from the parse result by the exception handler; here so that every command accepts it. */
    @Option(names = "--stacktrace", scope = ScopeType.INHERIT, description = "Print the stack trace of an error (for reporting bugs).")
    boolean stacktrace;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * Entry point: runs the command and exits with its code. It runs in a thread with a 16 MB stack,
     * so that {@code java -jar} needs no {@code -Xss}: the programs always ran with {@code -Xss4m}
     * (LibTorch's autograd crashed in a default-sized thread).
     */
    public static void main(String[] args) throws InterruptedException {
        // DJL must never download anything: LibTorch comes from the native jar inside steer.jar
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        AtomicInteger code = new AtomicInteger(RUN_ERROR);
        Thread worker = new Thread(null, () -> code.set(execute(args)), "steer", 16L << 20);
        worker.setUncaughtExceptionHandler((thread, error) -> {   // an Error (out of memory...): one line too
            System.err.println("steer: " + error + (error instanceof OutOfMemoryError ? " (give the JVM more memory, e.g. "
                    + "STEER_JAVA_OPTS=-Xmx16g)" : ""));
            if (java.util.List.of(args).contains("--stacktrace")) {
                error.printStackTrace();
            }
        });
        worker.start();
        worker.join();
        System.exit(code.get());
    }

    /** Runs {@code args} and returns the exit code, printing to standard output and error. */
    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    /** A configured command line: one-line errors, exit code 2 for wrong input, {@code --stacktrace}. */
    public static CommandLine commandLine() {
        SteerHome.init();
        CommandLine cli = new CommandLine(new SteerCli());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.setParameterExceptionHandler(SteerCli::handleParameterException);
        cli.setExecutionExceptionHandler(SteerCli::handleExecutionException);
        return cli;
    }

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "name a command: " + String.join(", ", spec.subcommands().keySet()));
    }

    private static int handleParameterException(ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println(oneLine(cmd.getCommandSpec().qualifiedName() + ": " + e.getMessage()) + " (see '"
                + cmd.getCommandSpec().qualifiedName() + " --help')");
        err.flush();
        return USAGE_ERROR;
    }

    private static int handleExecutionException(Exception e, CommandLine cmd, ParseResult parsed) {
        PrintWriter err = cmd.getErr();
        String name = cmd.getCommandSpec().qualifiedName();
        boolean usage = isUsageError(e);
        if (wantsStackTrace(parsed)) {
            e.printStackTrace(err);
        }
        String message = e.getMessage() == null || e.getMessage().isBlank() ? null : e.getMessage();
        // a file system exception's message is only the path; an unexpected exception's class says what happened
        boolean plain = isExpected(e) && message != null && !(e instanceof FileSystemException);
        String text = plain ? message : e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
        String hint = usage ? " (see '" + name + " --help')" : isExpected(e) ? "" : " (--stacktrace prints where)";
        err.println(oneLine(name + ": " + text) + hint);
        err.flush();
        return usage ? USAGE_ERROR : RUN_ERROR;
    }

    /** Wrong input the user can correct: a value, a file that is not what it should be. */
    static boolean isUsageError(Throwable e) {
        return e instanceof IllegalArgumentException || e instanceof ModelConfigException || e instanceof WeightsFormatException
                || e instanceof RelationDatasetException || e instanceof ProtoFormatException
                || e instanceof java.nio.file.NoSuchFileException
                || e instanceof UncheckedIOException u && u.getCause() instanceof java.nio.file.NoSuchFileException;
    }

    private static boolean isExpected(Throwable e) {
        return isUsageError(e) || e instanceof IllegalStateException || e instanceof IOException || e instanceof UncheckedIOException
                || e instanceof GenerationCancelledException || e instanceof OnnxExecutionException;
    }

    private static boolean wantsStackTrace(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--stacktrace")) {
                return true;
            }
        }
        return false;
    }

    private static String oneLine(String s) {
        return s.strip().replaceAll("\\s*\\R\\s*", " ");
    }

    /** The version from the build. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = SteerCli.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"steer " + p.getProperty("version", "(unknown version)"),
                    "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
        }
    }
}
