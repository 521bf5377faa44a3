/**
 * Learn-to-Steer on ONNX Runtime without a backward pass: the classifier input built in Java from
 * the UNet's cross-attention outputs ({@link dev.steer.onnx.steering.OnnxAttentionProbe}), and the
 * steering loss with a gradient estimated from one batched UNet call on the latent and its
 * antithetic perturbations ({@link dev.steer.onnx.steering.OnnxSteeringObjective},
 * {@link dev.steer.onnx.steering.GradientEstimator}), plugged into the backend-neutral
 * {@link dev.steer.core.steering.GradientSteerer}.
 */
package dev.steer.onnx.steering;
