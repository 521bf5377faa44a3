/**
 * The ONNX Runtime backend of steer: Stable Diffusion exports in the Optimum layout run through
 * ONNX Runtime (the session API that DJL's OnnxRuntime engine brings), implementing the
 * {@code steer-core} contracts without LibTorch on the classpath. All arithmetic outside the
 * graphs (guidance, schedulers, conversions) is done on Java arrays.
 *
 * <p>{@link dev.steer.onnx.OnnxStableDiffusion} is the pipeline; {@link dev.steer.onnx.OnnxTextEncoder},
 * {@link dev.steer.onnx.OnnxUNet} and {@link dev.steer.onnx.OnnxVae} are its parts. The UNet graph is
 * rewritten in memory at load time, with the minimal protobuf reader and writer of
 * an internal package ({@code dev.steer.onnx.internal.proto}), so its cross-attention probabilities become extra outputs.
 *
 * <p>Learn-to-Steer: {@link dev.steer.onnx.OnnxRelationClassifier} runs the published relation
 * classifier as an ONNX graph generated in Java from its checkpoint, and
 * {@link dev.steer.onnx.steering} steers with gradients estimated from forward passes.
 */
package dev.steer.onnx;
