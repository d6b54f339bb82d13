/**
 * Everything specific to PostgreSQL, the first implementation of {@link org.activemirroring.db}:
 * its {@link org.activemirroring.db.Dialect}
 * ({@link org.activemirroring.postgres.PostgresDialect}), the row-version store and conflict log
 * ({@link org.activemirroring.postgres.PostgresVersionStore}), the catalog
 * ({@link org.activemirroring.postgres.PostgresCatalog}), schema reading and scripts for a join
 * ({@link org.activemirroring.postgres.PostgresSchemaCopy}), a join's snapshot and its COPY chunks
 * by page range ({@link org.activemirroring.postgres.PostgresBulkCopy}), a joiner's own rows kept
 * aside as jsonb ({@link org.activemirroring.postgres.PostgresRowStash}), sequences, capture's
 * source ({@link org.activemirroring.postgres.PostgresCaptureSource}: the Debezium connector's
 * settings, its connector and converter classes, the preflight, the publication), slot monitoring,
 * schema-change replication by event trigger
 * ({@link org.activemirroring.postgres.DdlReplication}) with the names each column has had
 * ({@link org.activemirroring.postgres.ColumnHistory}) and each table has had
 * ({@link org.activemirroring.postgres.TableHistory}), and truncates
 * ({@link org.activemirroring.postgres.TableTruncation}). A second database gets a package of its
 * own beside this one; no other package should need to grow an {@code if (postgres)}.
 */
package org.activemirroring.postgres;
