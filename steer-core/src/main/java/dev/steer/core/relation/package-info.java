/**
 * Spatial relations between the words of a prompt: what they are
 * ({@link dev.steer.core.relation.SpatialRelation}, {@link dev.steer.core.relation.RelationTriplet}), how
 * they are found in a prompt ({@link dev.steer.core.relation.RelationParser}) and bound to token positions
 * ({@link dev.steer.core.relation.TokenBinding}), and how they are read back from attention maps: the
 * Learn-to-Steer {@link dev.steer.core.relation.RelationClassifier} contract, the published classifier's
 * configuration and weights read without a tensor library, GenEval's position rule for boxes and a
 * training-free centroid baseline.
 */
package dev.steer.core.relation;
