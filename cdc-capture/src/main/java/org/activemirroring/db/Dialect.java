package org.activemirroring.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;

import org.activemirroring.capture.EchoPolicy;
import org.activemirroring.change.RowChange;

/**
 * The SQL one kind of database needs for applying ChangeSets: one small implementation per
 * database instead of {@code if (postgres)} chains in the applier.
 *
 * <p>Every method works on the connection it is given and never commits: transaction boundaries
 * belong to the applier. Implementations are thread-safe (they may cache SQL text, never
 * connection state).
 */
public interface Dialect {

    /** Creates the mirror's bookkeeping schema and tables if absent (the applied vector). */
    void createBookkeeping(Connection c) throws SQLException;

    /**
     * Prepares a fresh connection for applying: triggers off as in native replication, and the
     * session tagged so that capture recognises the applier's writes ({@link EchoPolicy}).
     */
    void prepareApplySession(Connection c) throws SQLException;

    /**
     * Prepares a connection for capture's repairs (see {@link VersionStore}): like an
     * apply session, under a name of its own, since one name serves one session at a time.
     */
    void prepareRepairSession(Connection c) throws SQLException;

    /** The row-version store and conflict log of this database. */
    VersionStore versions();

    /** Whether a row change is a recorded schema change (applied as a statement, not as a row). */
    boolean isSchemaChange(RowChange row);

    /**
     * Runs a schema change another mirror recorded, in the open transaction, in its place among
     * the rows around it; one whose effect is here already is skipped.
     */
    void applySchemaChange(Connection c, RowChange row, String nodeId) throws SQLException;

    /** The name under which this dialect tags the applier's writes in the database log. */
    String applyOriginName();

    /**
     * Reads a local table's columns and identity: its primary key, else a unique index over NOT NULL columns.
     *
     * @param qualifiedTable {@code schema.table}
     * @throws SQLException also when the table does not exist or has neither, saying what to do
     */
    TableShape describe(Connection c, String qualifiedTable) throws SQLException;

    /**
     * The name ({@code schema.table}) a table this mirror renamed has now, for a row change that
     * names it by a name it had before ({@code table}, which no table has now), as the database's
     * own record of its tables' names tells; null when no table here had that name.
     */
    default String renamedTable(Connection c, String table) throws SQLException {
        return null;
    }

    /**
     * What became of {@code names}, columns a row change names that {@code table} lacks: those
     * this mirror renamed or dropped since they had that name (see {@link FormerColumns}), as the
     * database's own record of the table's columns tells. Names it never had stay unknown.
     */
    default FormerColumns formerColumns(Connection c, TableShape table, java.util.Set<String> names)
            throws SQLException {
        return FormerColumns.NONE;
    }

    /**
     * Renders a row change as one statement: an insert that updates the non-key columns of
     * {@code after} when a row with that key exists (columns absent from {@code after} are never
     * written), or a delete by key. The applier executes consecutive statements with the same SQL
     * as one batch, in order.
     *
     * @throws SQLException when the change does not fit the local table (unknown column, other key)
     */
    RowStatement rowStatement(TableShape table, RowChange row) throws SQLException;

    /**
     * Renders an insert or update change as an insert of its {@code after} image that does
     * nothing when a row with that key exists, so that its update count says whether it wrote.
     * Capture restores a row this way where it found none, without overwriting a row that a
     * concurrent local transaction inserts meanwhile.
     *
     * @throws SQLException when the change is a delete or does not fit the local table
     */
    RowStatement insertIfAbsent(TableShape table, RowChange row) throws SQLException;

    /** The applied vector: per origin the highest applied seq. */
    Map<String, Long> readAppliedVector(Connection c) throws SQLException;


    /** Sets the origin's applied seq, counts one more apply, stamps the time. */
    void recordApplied(Connection c, String origin, long seq) throws SQLException;

    /** What this database's catalog tells about tables, for {@link org.activemirroring.schema.MirroredTables}. */
    Catalog catalog();

    /** What capture needs of this database: its Debezium connector, preflight and bookkeeping. */
    CaptureSource captureSource();

    /**
     * A {@code schema.table} name quoted for this database's SQL.
     *
     * @throws IllegalArgumentException when the name is not {@code schema.table}
     */
    String quoteTable(String qualifiedTable);

    /**
     * Prepares a connection whose row removals capture must not publish, while the rows it puts
     * back are published as this mirror's writes (a join's sweep of what the site wrote meanwhile).
     */
    void prepareSweepSession(Connection c) throws SQLException;
}
