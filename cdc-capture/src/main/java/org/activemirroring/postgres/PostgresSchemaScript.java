package org.activemirroring.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import org.activemirroring.sequences.SequenceKeeper;

/**
 * The DDL that recreates mirrored tables on an empty site database, read from a donor mirror's
 * catalogs: what a new mirror runs when it joins without the site's schema. Split in two phases
 * as pg_dump splits it, because rows are bulk-loaded (COPY) in between and loading into bare
 * tables, then building keys and indexes once, is much faster than maintaining them row by row:
 * <ul>
 *   <li>{@link #beforeData}: schemas, the extensions whose types the columns use
 *       ({@code CREATE EXTENSION IF NOT EXISTS}), the enum, composite and domain types they use, the sequences
 *       their defaults call or that they own, and the tables with every column (type, collation,
 *       NOT NULL, DEFAULT, identity, generated expression), with no constraint or index;</li>
 *   <li>{@link #afterData}: primary key, unique, check and exclusion constraints; the other
 *       indexes (partial and expression ones included); foreign keys, each added {@code NOT VALID}
 *       and then validated by a statement of its own, so a caller can run the validation under a
 *       savepoint and decide what a violation means; replica identity when not the default; row
 *       level security flags; sequence ownership.</li>
 * </ul>
 *
 * <p>Only tables, their types, sequences, constraints and indexes are copied. Views, functions,
 * triggers, row level security policies, comments, owners and privileges are not: the site's
 * own migrations must create them (a default, check or index calling a site function needs that
 * function to exist on the target first). Sequence positions are not copied either: when the new
 * mirror's {@link SequenceKeeper} starts, it moves each sequence above the keys the loaded rows use.
 * A foreign key to a table outside the copied list is kept; that table must exist on the target.
 * A row level security flag is copied without policies, so the table stays closed to everyone but
 * its owner until the migrations add them (failing closed, not open).
 *
 * <p>Refused, with every reason in one {@link SQLException}: tables that do not exist,
 * partitioned tables, partitions and inheritance (not supported yet), views and other non-table
 * relations, typed tables, columns of range or user-defined base types (other than an
 * extension's), of a table's row type, or of a user-defined collation. Those tables must be created by the site's migrations, or excluded from mirroring.
 *
 * <p>Statements are idempotent where PostgreSQL makes it practical ({@code IF NOT EXISTS}, an
 * existing type is kept), so running {@code beforeData} again after a partial run succeeds; an
 * existing object is not checked against the donor's. Every name is quoted and every statement is
 * read and run with {@code search_path} pinned to {@code pg_catalog}, so the catalog functions
 * qualify each type, sequence and table by its schema, as pg_dump does, and the statements mean
 * the same on the target whatever its own search path. Immutable; lists are never null.
 *
 * @param beforeData statements to run before loading the rows, in order
 * @param afterData  statements to run after loading the rows, in order
 */
public record PostgresSchemaScript(List<String> beforeData, List<String> afterData) {

    public PostgresSchemaScript {
        beforeData = List.copyOf(beforeData);
        afterData = List.copyOf(afterData);
    }

    /**
     * Reads the DDL of {@code tables} from the donor's catalogs, in the caller's transaction (a
     * REPEATABLE READ snapshot transaction gives DDL consistent with the rows copied in it).
     * Writes nothing; sets {@code search_path} for the duration and puts it back.
     *
     * @param tables qualified {@code schema.table} names, unquoted identifiers joined by '.';
     *               tables are created in this order
     * @throws SQLException on a database error, or listing every table that cannot be copied
     */
    public static PostgresSchemaScript read(Connection donor, List<String> tables) throws SQLException {
        return withCatalogSearchPath(donor, () -> new PostgresSchemaReader(donor).read(tables));
    }

    /**
     * Runs {@code statements} (a script's {@code beforeData} or {@code afterData}) on the target in
     * order, in the caller's transaction (with auto-commit on, each statement commits on its own).
     * A failing statement is named in the exception, which keeps PostgreSQL's SQLState, so a
     * caller running a foreign key's VALIDATE under a savepoint can tell a violation (23503).
     */
    public static void run(Connection target, List<String> statements) throws SQLException {
        withCatalogSearchPath(target, () -> {
            try (Statement st = target.createStatement()) {
                for (String sql : statements) {
                    try {
                        st.execute(sql);
                    } catch (SQLException e) {
                        throw new SQLException("Schema statement failed: " + e.getMessage() + "; statement: " + sql,
                                e.getSQLState(), e);
                    }
                }
            }
            return null;
        });
    }

    private interface SqlWork<T> {
        T run() throws SQLException;
    }

    /**
     * Runs {@code work} with {@code search_path} pinned to {@code pg_catalog} (transaction-local
     * inside a transaction), then restores it. After an error inside a transaction the restore
     * cannot run, but the rollback the caller must do undoes the setting anyway.
     */
    private static <T> T withCatalogSearchPath(Connection c, SqlWork<T> work) throws SQLException {
        boolean local = !c.getAutoCommit();
        String saved = setSearchPath(c, "pg_catalog, pg_temp", local);
        T result;
        try {
            result = work.run();
        } catch (SQLException | RuntimeException e) {
            try {
                setSearchPath(c, saved, local);
            } catch (SQLException restore) {
                e.addSuppressed(restore);
            }
            throw e;
        }
        setSearchPath(c, saved, local);
        return result;
    }

    /** Sets the search path, returning the previous one. */
    static String setSearchPath(Connection c, String value, boolean local) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT current_setting('search_path'), set_config('search_path', ?, ?)")) {
            ps.setString(1, value);
            ps.setBoolean(2, local);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
