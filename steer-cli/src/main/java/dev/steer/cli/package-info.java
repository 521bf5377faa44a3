/**
 * The {@code steer} command (picocli): {@link dev.steer.cli.SteerCli} and one class per subcommand
 * (generation, steering, ShapeBench, dataset building, training, scene rendering), with the option
 * groups they share. Programs, not library API: applications use {@code steer-pytorch} or
 * {@code steer-onnx} directly.
 */
package dev.steer.cli;
