/**
 * Which tables are mirrored and how SQL statement text is handled:
 * {@link org.activemirroring.schema.MirroredTables} is the one place that decides which tables
 * are mirrored (capture, preflight, join, stash and key allocation all ask it), from the
 * configuration and the facts the database's {@link org.activemirroring.db.Catalog} reports;
 * {@link org.activemirroring.schema.HeldOutTables} keeps those held out at run time; and
 * {@link org.activemirroring.schema.SqlStatements} splits SQL scripts into statements and tells
 * schema changes from other statements.
 */
package org.activemirroring.schema;
