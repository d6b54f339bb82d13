/**
 * Key allocation: the sequences feeding mirrored tables are kept interleaved, each mirror handing
 * out only values of its own {@code mirror.node.slot}, so two mirrors never generate the same key.
 * {@link org.activemirroring.sequences.SequenceKeeper} checks and corrects them while the node
 * runs, {@link org.activemirroring.sequences.SequenceAlignment} is the arithmetic of what aligned
 * means, and {@link org.activemirroring.sequences.SequenceCatalog} is what it needs from a
 * database (PostgreSQL's is {@code org.activemirroring.postgres.PostgresSequences}).
 */
package org.activemirroring.sequences;
