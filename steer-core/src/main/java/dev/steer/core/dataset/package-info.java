/**
 * The input side of a relation dataset (the training data of a relation classifier, see
 * {@code docs/relation-dataset.md}): {@link dev.steer.core.dataset.RelationSources} reads image, subject,
 * relation and object records from the library's JSON Lines manifest and from scene-graph style
 * sources, {@link dev.steer.core.dataset.RecordFilters} chooses which records are kept, and
 * {@link dev.steer.core.dataset.RecordReport} says what was skipped and why. The dataset itself is built
 * by a backend (the LibTorch backend's {@code dev.steer.pytorch.dataset}).
 */
package dev.steer.core.dataset;
