package dev.steer.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;

/**
 * The steer home: the repository whose files the command's defaults name (the embedded model
 * {@value #EMBEDDED_MODEL}, the tokenizer the ShapeWorld trainer starts from). It is the system
 * property {@value #PROPERTY} when set ({@code bin/steer} sets it to the repository holding the
 * script), else the nearest folder holding {@value #EMBEDDED_MODEL} above the jar or classes folder
 * this class was loaded from, else above the current directory. Option defaults refer to it as
 * {@code ${sys:steer.home:-.}}.
 */
final class SteerHome {
    /** The system property naming the home. */
    static final String PROPERTY = "steer.home";
    /** The embedded model, relative to the home. */
    static final String EMBEDDED_MODEL = "models/shapeworld";
    /** How option defaults name a path in the home. */
    static final String PREFIX = "${sys:" + PROPERTY + ":-.}/";

    private SteerHome() {
    }

    /** Sets {@value #PROPERTY} to the located home unless it is set already or nothing was found. */
    static void init() {
        String set = System.getProperty(PROPERTY);
        if (set == null || set.isBlank()) {
            Path home = locate();
            if (home != null) {
                System.setProperty(PROPERTY, home.toString());
            }
        }
    }

    /** The nearest folder holding the embedded model above this code's location, else above the current directory, or null. */
    static Path locate() {
        Path found = above(codeLocation());
        return found != null ? found : above(Path.of("").toAbsolutePath());
    }

    /** How to say where the embedded model was looked for, for the message when it is missing. */
    static String lookedIn() {
        String set = System.getProperty(PROPERTY);
        return set != null && !set.isBlank() ? "the steer home " + set + " (-D" + PROPERTY + ") has no " + EMBEDDED_MODEL
                : "no " + EMBEDDED_MODEL + " above the jar's folder or the current directory; set -D" + PROPERTY + "=<repository>";
    }

    private static Path above(Path start) {
        for (Path p = start; p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve(EMBEDDED_MODEL))) {
                return p;
            }
        }
        return null;
    }

    private static Path codeLocation() {
        try {
            CodeSource source = SteerHome.class.getProtectionDomain().getCodeSource();
            return source == null ? null : Path.of(source.getLocation().toURI()).toAbsolutePath();
        } catch (URISyntaxException | IllegalArgumentException | SecurityException e) {
            return null;
        }
    }
}
