/**
 * JMH benchmarks of steering's per-step cost, generation and the FLUX.1 transformer, each reporting
 * ratios against a baseline measured in the same run; {@link dev.steer.bench.BenchmarkChecks} holds
 * the leak and gradient checks they share.
 */
package dev.steer.bench;
