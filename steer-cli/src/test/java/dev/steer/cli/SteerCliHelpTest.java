package dev.steer.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** Every subcommand's --help: exit code 0, every option listed, every value option says its default. */
class SteerCliHelpTest {
    static Stream<String> subcommands() {
        return SteerCli.commandLine().getSubcommands().keySet().stream();
    }

    @Test
    void theTopLevelHelpListsEveryCommand() {
        CliRun run = CliRun.of("--help");
        assertEquals(0, run.exitCode(), run.err());
        for (String name : List.of("generate", "steer", "shapebench", "dataset", "train-classifier", "train-shapeworld",
                "train-shapeworld-flux", "render-scenes")) {
            assertTrue(run.out().contains("  " + name + " "), name + " missing from\n" + run.out());
        }
    }

    @ParameterizedTest
    @MethodSource("subcommands")
    void helpListsEveryOptionAndExitsZero(String name) {
        CliRun run = CliRun.of(name, "--help");
        assertEquals(0, run.exitCode(), run.err());
        assertEquals("", run.err());
        CommandLine sub = SteerCli.commandLine().getSubcommands().get(name);
        for (OptionSpec option : sub.getCommandSpec().options()) {
            assertTrue(run.out().contains(option.longestName()), option.longestName() + " missing from " + name + " --help:\n" + run.out());
        }
    }

    @ParameterizedTest
    @MethodSource("subcommands")
    void everyValueOptionShowsItsDefaultOrSaysWhatItIs(String name) {
        CommandLine sub = SteerCli.commandLine().getSubcommands().get(name);
        for (OptionSpec option : sub.getCommandSpec().options()) {
            if (option.usageHelp() || option.versionHelp() || option.required() || option.arity().max() == 0) {
                continue;
            }
            String description = String.join(" ", option.description());
            assertTrue(option.defaultValue() != null || description.contains("Default"),
                    name + " " + option.longestName() + " neither has a default value nor says what happens without it: " + description);
        }
    }

    @Test
    void settingsLeftToTheModelSaySoInsteadOfShowingANumber() {
        String help = CliRun.of("steer", "--help").out().replaceAll("\\s+", " ");
        for (String option : List.of("--steps=N", "--guidance=G", "--size=WxH")) {
            int at = help.indexOf(option + " ");
            assertTrue(at >= 0, option);
            String text = help.substring(at, help.indexOf(" --", at + option.length()));
            assertTrue(text.contains("Default: the model's own"), text);
        }
    }

    @Test
    void theModelDefaultIsTheEmbeddedModelInTheSteerHome() {
        CommandLine cli = SteerCli.commandLine();
        String model = cli.getSubcommands().get("steer").getCommandSpec().findOption("--model").defaultValue();
        assertTrue(model.endsWith("models/shapeworld") && java.nio.file.Files.isDirectory(java.nio.file.Path.of(model)), model);
        assertTrue(Arrays.stream(CliRun.of("--version").out().split("\n")).anyMatch(l -> l.startsWith("steer ")));
    }
}
