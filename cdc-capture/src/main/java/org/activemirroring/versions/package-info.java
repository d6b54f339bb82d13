/**
 * The conflict log as the rest of the node sees it: a write that lost under the conflict rule
 * ({@link org.activemirroring.versions.Conflict}) and reading the log for the status pages
 * ({@link org.activemirroring.versions.ConflictLogReader}). The log and the row versions are
 * written by the database's version store (on PostgreSQL,
 * {@link org.activemirroring.postgres.PostgresVersionStore}).
 */
package org.activemirroring.versions;
