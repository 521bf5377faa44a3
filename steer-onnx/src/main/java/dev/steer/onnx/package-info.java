/**
 * The ONNX Runtime backend of steer: Stable Diffusion exports in the Optimum layout run through
 * DJL's OnnxRuntime engine, implementing the {@code steer-core} contracts without LibTorch on the
 * classpath. This module is a placeholder in the build until the backend lands; its test guards the
 * classpath rule.
 */
package dev.steer.onnx;
