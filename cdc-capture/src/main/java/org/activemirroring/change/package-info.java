/**
 * The ChangeSet model and its codec: what one mirror's committed transaction looks like as it
 * travels to the others ({@link org.activemirroring.change.ChangeSet},
 * {@link org.activemirroring.change.RowChange}, {@link org.activemirroring.change.RowValues}),
 * the version every row write carries ({@link org.activemirroring.change.RowVersion}, timestamped
 * by the {@link org.activemirroring.change.HybridClock}), and its encoding as an envelope payload
 * ({@link org.activemirroring.change.ChangeSetCodec}). Capture produces these, the applier
 * consumes them; nothing here talks to a database.
 */
package org.activemirroring.change;
