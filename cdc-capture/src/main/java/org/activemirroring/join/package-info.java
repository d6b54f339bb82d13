/**
 * Joining a mirror: the donor serves a consistent snapshot of the schema and rows
 * ({@link org.activemirroring.join.JoinSource}), the joiner loads it into its database
 * ({@link org.activemirroring.join.JoinSink}), both speaking the messages of
 * {@link org.activemirroring.join.JoinWire}. Rows a joiner's own site wrote before its join are
 * moved aside during the copy and put back where they do not contradict the network by
 * {@link org.activemirroring.join.JoinStash}.
 */
package org.activemirroring.join;
