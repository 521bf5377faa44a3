/**
 * Training on LibTorch: the embedded ShapeWorld models from scratch
 * ({@link dev.steer.pytorch.training.ShapeWorldTrainer} for the Stable Diffusion architecture,
 * {@link dev.steer.pytorch.training.FluxShapeWorldTrainer} for FLUX.1's), and relation classifiers on a
 * {@link dev.steer.pytorch.training.RelationDataset} ({@link dev.steer.pytorch.training.RelationClassifierTrainer},
 * evaluated by {@link dev.steer.pytorch.training.RelationEvaluation}).
 */
package dev.steer.pytorch.training;
