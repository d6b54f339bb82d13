package org.activemirroring.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * What a join needs from a database to copy the mirrored tables' schema: the donor reads a
 * script for them in its snapshot, the joiner runs it around loading the rows (tables bare
 * before, keys, indexes and foreign keys after, the way a dump is restored), and the joiner
 * schedules the statements after the rows by what each one needs.
 *
 * <p>Statements are opaque text to the join; only the implementation that wrote them classifies
 * them. Tables are named {@code schema.table} (unquoted identifiers joined by '.'). Every method
 * works in the caller's transaction and never commits. Implementations are thread-safe.
 */
public interface SchemaCopy {

    /**
     * The statements that recreate tables on a database that lacks them. Immutable; lists are
     * never null.
     *
     * @param beforeData run before the rows load: the tables with their columns, and what they need
     * @param afterData  run after the rows loaded: constraints, indexes, foreign keys
     */
    record Script(List<String> beforeData, List<String> afterData) {
        public Script {
            beforeData = List.copyOf(beforeData);
            afterData = List.copyOf(afterData);
        }
    }

    /**
     * Reads the script of {@code tables} as the caller's transaction sees them (run in the
     * donor's snapshot, it matches the rows copied from it). Writes nothing. On failure the
     * transaction stays usable: the caller can go on reading in the same snapshot.
     *
     * @param tables created in this order
     * @throws SQLException on a database error, or naming every table that cannot be copied and why
     */
    Script read(Connection donor, List<String> tables) throws SQLException;

    /**
     * Runs statements of a {@link Script} in order. A failing one is named in the exception,
     * which keeps the database's SQLState.
     */
    void run(Connection target, List<String> statements) throws SQLException;

    /** The name under which the statements of a script refer to {@code table}. */
    String scriptName(Connection c, String table) throws SQLException;

    /**
     * Whether {@code statement} builds something (a key, a unique or check constraint, an index)
     * from the rows of the table the script calls {@code scriptName} alone, so it can start as
     * soon as that table is loaded.
     */
    boolean buildsFromItsTable(String statement, String scriptName);

    /**
     * Whether {@code statement} needs nothing built by the statements before it and may run
     * beside others; false makes it a barrier.
     */
    boolean runsBeside(String statement);

    /**
     * Whether {@code statement} only checks rows already loaded against a constraint that is in
     * force already for new writes (a foreign key's validation), so it may run after the mirror is
     * ready.
     */
    boolean isValidation(String statement);

    /** What the failure of a validation ({@link #isValidation}) says. */
    enum ValidationFailure {
        /** The constraint or its table is gone since: nothing is left to check. */
        GONE,
        /** Loaded rows break the constraint: it stays unvalidated, still enforced on new writes. */
        VIOLATED,
        /** Anything else (the database went away, a lock): worth trying again later. */
        OTHER
    }

    /** Sorts the failure of a validation statement. */
    ValidationFailure validationFailure(SQLException e);

    /** Whether {@code table} exists in this database. */
    boolean exists(Connection c, String table) throws SQLException;

    /**
     * Keeps background maintenance off a table the join just created, until
     * {@link #resumeMaintenance}: it would compete for the locks that building keys and indexes
     * takes. Returns false (and does nothing) when the table has no such maintenance or its owner
     * set it explicitly.
     */
    boolean pauseMaintenance(Connection c, String table) throws SQLException;

    /** Gives {@code table} back to background maintenance as configured for the database. */
    void resumeMaintenance(Connection c, String table) throws SQLException;

    /**
     * Prepares a connection that builds keys and indexes after a load: more memory for sorting, and
     * commits that need not wait for the disk (the join redoes a statement whose commit was lost).
     */
    void prepareBuildSession(Connection c) throws SQLException;

    /**
     * Marks the connection's schema changes as this mirror's own: they are not replicated to the
     * other mirrors.
     */
    void keepSchemaChangesLocal(Connection c) throws SQLException;
}
