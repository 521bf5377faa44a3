/**
 * Learn-to-Steer's steering, backend-neutral. A {@link dev.steer.core.steering.SteeringRequest} (put in a
 * {@link dev.steer.core.generation.GenerationRequest}) names the relations to enforce, or asks for them
 * to be parsed from the prompt, with a {@link dev.steer.core.steering.SteeringConfig} (the reference
 * settings, or a classifier's recommended ones), a listener and optional heatmap pictures. At the steered
 * steps a {@link dev.steer.core.steering.Steerer} (the reference's
 * {@link dev.steer.core.steering.GradientSteerer}) refines the latent against a backend's
 * {@link dev.steer.core.steering.SteeringObjective}, and reports each step in a
 * {@link dev.steer.core.steering.SteeringStepReport}.
 */
package dev.steer.core.steering;
