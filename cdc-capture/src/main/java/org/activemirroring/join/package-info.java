/**
 * Joining a mirror: the donor serves a consistent snapshot of the schema and rows
 * ({@link org.activemirroring.join.JoinSource}), the joiner loads it into its database
 * ({@link org.activemirroring.join.JoinSink}), both speaking the messages of
 * {@link org.activemirroring.join.JoinWire}. Rows a joiner's own site wrote before its join are
 * moved aside during the copy and put back where they do not contradict the network by
 * {@link org.activemirroring.join.JoinStash}.
 *
 * <p>The protocol, the join's progress records and how it resumes after a crash live here; what
 * the database does for it is asked of {@link org.activemirroring.db.SchemaCopy} (the script that
 * creates the tables on a joiner without them) and {@link org.activemirroring.db.BulkCopy} (the
 * snapshot, its chunks, rows and row versions out and in) and {@link org.activemirroring.db.RowStash}
 * (a joiner's own rows kept aside and put back), handed in by the composition root.
 * No class here names a PostgreSQL type.
 */
package org.activemirroring.join;
