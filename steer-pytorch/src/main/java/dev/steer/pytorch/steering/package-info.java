/**
 * The steering loss with its exact gradient on LibTorch:
 * {@link dev.steer.pytorch.steering.TorchSteeringObjective} runs a model family's
 * {@link dev.steer.pytorch.steering.ProbedDenoiser} on the conditional prompt with an attention probe,
 * classifies the two words' maps and back-propagates the cross-entropy to the latent.
 */
package dev.steer.pytorch.steering;
