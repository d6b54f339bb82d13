/**
 * The conflict log as the rest of the node sees it: a write that lost under the conflict rule
 * ({@link org.activemirroring.versions.Conflict}), reading the log for the status pages
 * ({@link org.activemirroring.versions.ConflictLogReader}), and this mirror's own lost writes
 * with the site's acknowledgements ({@link org.activemirroring.versions.LostWriteLog}). The log
 * and the row versions are written by the database's version store (on PostgreSQL,
 * {@link org.activemirroring.postgres.PostgresVersionStore}).
 */
package org.activemirroring.versions;
