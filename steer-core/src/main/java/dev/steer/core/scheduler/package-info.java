/**
 * Diffusion samplers as pure math on Java arrays, each matching a diffusers scheduler class and configured
 * from a {@code scheduler_config.json}: DDIM (with its inverse step), Euler, DPM-Solver++ 2M,
 * PNDM/PLMS and flow-matching Euler for FLUX.1. {@link dev.steer.core.scheduler.Schedulers} creates a
 * {@link dev.steer.core.scheduler.Scheduler} from a {@link dev.steer.core.scheduler.SchedulerConfig} and a
 * {@link dev.steer.core.scheduler.SchedulerType}; each generation runs through its own
 * {@link dev.steer.core.scheduler.Schedule}.
 */
package dev.steer.core.scheduler;
