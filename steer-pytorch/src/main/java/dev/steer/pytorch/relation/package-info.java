/**
 * The Learn-to-Steer relation classifier on LibTorch:
 * {@link dev.steer.pytorch.relation.PublishedRelationClassifier}, the published architecture with
 * parameters named as its checkpoints, behind {@link dev.steer.pytorch.relation.TorchRelationClassifier},
 * the differentiable {@link dev.steer.core.relation.RelationClassifier} that steering and training use.
 */
package dev.steer.pytorch.relation;
