package dev.steer.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What every subcommand shares: where its results go. */
abstract class BaseCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    /** Standard output (the command line's, so that tests can capture it). */
    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    /** Seconds since {@code t0} (from {@link System#nanoTime}). */
    static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }
}
