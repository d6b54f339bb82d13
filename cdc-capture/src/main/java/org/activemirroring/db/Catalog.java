package org.activemirroring.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import org.activemirroring.schema.MirroredTables;

/**
 * What a database's catalog answers about the tables of some schemas (PostgreSQL's is
 * {@code org.activemirroring.postgres.PostgresCatalog}). It reports facts only: which tables are
 * mirrored, kept local or held out is decided by {@link MirroredTables}, which asks here.
 * Implementations are stateless and thread-safe; every method reads through the connection given.
 */
public interface Catalog {

    /**
     * The ordinary and partitioned tables (not partitions) of {@code schemas}, sorted by schema and
     * name.
     */
    List<MirroredTables.Table> tables(Connection c, List<String> schemas) throws SQLException;

    /**
     * The tables of {@code schemas} without a key to find their rows by (no primary key, no unique
     * index over NOT NULL columns), as {@code schema.table}.
     */
    List<String> tablesWithoutKey(Connection c, List<String> schemas) throws SQLException;

    /**
     * The columns of the tables of {@code schemas}, except {@code excluded} ({@code schema.table}),
     * whose values capture cannot carry exactly, each as {@code "schema.table.column has type T (why)"}.
     */
    List<String> unsupportedColumns(Connection c, List<String> schemas, List<String> excluded) throws SQLException;
}
