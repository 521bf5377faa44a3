/**
 * Building a relation dataset on LibTorch: {@link dev.steer.pytorch.dataset.RelationDatasetBuilder} runs
 * Learn-to-Steer's dual inversion over image, subject, relation and object records and writes the
 * attention maps, labels and timesteps in the on-disk format of {@code docs/relation-dataset.md}.
 */
package dev.steer.pytorch.dataset;
