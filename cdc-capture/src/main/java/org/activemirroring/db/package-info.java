/**
 * What a database must provide to be mirrored, in database-neutral terms: the
 * {@link org.activemirroring.db.Dialect} (row statements, applied vector, sessions tagged for echo
 * suppression, row versions), the shape of a table as the applier needs it
 * ({@link org.activemirroring.db.TableShape}) and a rendered row change
 * ({@link org.activemirroring.db.RowStatement}). Each database gets its own package implementing
 * it; {@link org.activemirroring.postgres} is the first.
 */
package org.activemirroring.db;
