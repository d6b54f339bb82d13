/**
 * What a database must provide to be mirrored, in database-neutral terms, so that the applier
 * ({@link org.activemirroring.apply}) and the join ({@link org.activemirroring.join}) name no
 * database: the {@link org.activemirroring.db.Dialect}
 * (row statements, applied vector, sessions tagged for echo suppression, schema changes replayed in
 * place), the row-version store and conflict log ({@link org.activemirroring.db.VersionStore}),
 * truncate tombstones ({@link org.activemirroring.db.TableTombstones}), the shape of a table as the
 * applier needs it ({@link org.activemirroring.db.TableShape}), a rendered row change
 * ({@link org.activemirroring.db.RowStatement}), what became of columns a row names that the local
 * table lacks ({@link org.activemirroring.db.FormerColumns}); for a join, the script that recreates tables
 * ({@link org.activemirroring.db.SchemaCopy}), the snapshot served in stable chunks and loaded in
 * bulk ({@link org.activemirroring.db.BulkCopy}), and a joiner's own rows moved aside and back
 * ({@link org.activemirroring.db.RowStash}); what capture needs of the database
 * ({@link org.activemirroring.db.CaptureSource}: its Debezium connector's settings, preflight,
 * bookkeeping, publication, heartbeat table, event fields) and what its catalog tells about tables
 * ({@link org.activemirroring.db.Catalog}, asked by {@link org.activemirroring.schema.MirroredTables});
 * the dialect hands out its store, catalog and capture source. Plus what every database shares:
 * the address in a JDBC URL ({@link org.activemirroring.db.DatabaseAddress}), the JSON texts
 * of keys and images ({@link org.activemirroring.db.RowJson}), statements sent in one round trip
 * ({@link org.activemirroring.db.StatementChain}) and the one way to run a JDBC session
 * ({@link org.activemirroring.db.DbSession}). Each database gets its own package implementing it;
 * {@link org.activemirroring.postgres} is the first.
 */
package org.activemirroring.db;
