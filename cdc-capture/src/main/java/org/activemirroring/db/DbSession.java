package org.activemirroring.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.activemirroring.change.RowChange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JDBC session on the site database, the way the applier and capture's stamping both run
 * theirs: opened on first use, its setup (bookkeeping tables, session settings) done in
 * autocommit so it persists whatever the first transaction does, then explicit transactions; a
 * broken connection is closed and the next use opens a new one. It also caches the shapes of
 * the tables it writes ({@link TableShape}), forgotten whenever the schema may have changed.
 *
 * <p>Not thread-safe: each owner uses its session from one thread at a time.
 */
public final class DbSession implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DbSession.class);

    /** Opens a new connection. */
    @FunctionalInterface
    public interface Opener {
        Connection open() throws SQLException;
    }

    /** What a fresh connection needs before its first transaction (runs in autocommit). */
    @FunctionalInterface
    public interface Setup {
        void prepare(Connection c) throws SQLException;
    }

    private final String name;
    private final Opener opener;
    private final Setup setup;
    private final Dialect dialect;
    private final Map<String, TableShape> shapes = new HashMap<>();
    /** What {@link #fit} learnt, per table and unknown column names. */
    private final Map<String, FormerColumns> formerColumns = new HashMap<>();
    /** What {@link #fit} learnt of tables renamed here, per old name ("" for none). */
    private final Map<String, String> renamedTables = new HashMap<>();
    private Connection connection;
    private boolean closed;

    /**
     * @param name    what the session is for, in log lines ("applier", "capture versioner")
     * @param opener  opens a connection (e.g. {@code config::connect})
     * @param dialect reads table shapes
     * @param setup   runs once on every new connection, in autocommit
     */
    public DbSession(String name, Opener opener, Dialect dialect, Setup setup) {
        this.name = name;
        this.opener = opener;
        this.dialect = dialect;
        this.setup = setup;
    }

    /** The open connection, or a new one (set up, autocommit off). */
    public Connection get() throws SQLException {
        if (closed) {
            throw new SQLException("the " + name + " is closed");
        }
        if (connection != null) {
            return connection;
        }
        Connection c = opener.open();
        try {
            c.setAutoCommit(true);
            setup.prepare(c);
            c.setAutoCommit(false);
        } catch (SQLException e) {
            try {
                c.close();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        connection = c;
        return c;
    }

    /** The open connection, or null if none is open. */
    public Connection current() {
        return connection;
    }

    /** The shape of a local table, read once per schema (see {@link #forgetShapes}). */
    public TableShape shape(Connection c, String table) throws SQLException {
        TableShape s = shapes.get(table);
        if (s == null) {
            s = dialect.describe(c, table);
            shapes.put(table, s);
        }
        return s;
    }

    /** Tables and columns may have changed (a schema change, a failed attempt): read them again. */
    public void forgetShapes() {
        shapes.clear();
        formerColumns.clear();
        renamedTables.clear();
    }

    /**
     * The row as the local table takes it: a row of a table this mirror renamed since the row was
     * written elsewhere goes to the table under its name here ({@link Dialect#renamedTable}); a
     * column this mirror renamed or dropped since then goes under its new name or is left out
     * ({@link FormerColumns}). The row itself when it fits, or when its table cannot be read
     * (what then fails, fails where it did). What the database tells is kept per table and
     * column names until {@link #forgetShapes}.
     */
    public RowChange fit(Connection c, RowChange row) throws SQLException {
        if (dialect.isSchemaChange(row)) {
            return row;
        }
        TableShape t;
        try {
            t = shape(c, row.table());
        } catch (SQLException e) {
            String now = "42P01".equals(e.getSQLState()) ? renamed(c, row.table()) : null;
            if (now == null) {
                return row;
            }
            row = row.inTable(now);
            try {
                t = shape(c, now);
            } catch (SQLException gone) {
                return row;
            }
        }
        if (row.op() == RowChange.Op.TRUNCATE) {
            return row;
        }
        Set<String> unknown = FormerColumns.unknownColumns(t, row);
        if (unknown.isEmpty()) {
            return row;
        }
        String k = row.table() + '\0' + String.join("\0", unknown);
        FormerColumns former = formerColumns.get(k);
        if (former == null) {
            former = dialect.formerColumns(c, t, unknown);
            formerColumns.put(k, former);
            if (!former.isEmpty()) {
                LOG.info("Rows of {} name columns this mirror has renamed or dropped since they were written"
                        + " ({}): values go under the columns' names here, those of dropped ones are left out",
                        row.table(), former);
            }
        }
        return former.fit(t, row);
    }

    /** The name the table once named {@code table} has now (see {@link Dialect#renamedTable}), or null. */
    private String renamed(Connection c, String table) throws SQLException {
        String now = renamedTables.get(table);
        if (now == null) {
            now = dialect.renamedTable(c, table);
            now = now == null || now.equals(table) ? "" : now;
            renamedTables.put(table, now);
            if (!now.isEmpty()) {
                LOG.info("Rows of {} were written before this mirror renamed that table: they go to {}", table, now);
            }
        }
        return now.isEmpty() ? null : now;
    }

    /** {@link #fit} for each row, in order; the same list when every row fits. */
    public List<RowChange> fit(Connection c, List<RowChange> rows) throws SQLException {
        List<RowChange> out = null;
        for (int i = 0; i < rows.size(); i++) {
            RowChange fitted = fit(c, rows.get(i));
            if (fitted != rows.get(i) && out == null) {
                out = new ArrayList<>(rows.subList(0, i));
            }
            if (out != null) {
                out.add(fitted);
            }
        }
        return out == null ? rows : out;
    }

    /** Rolls the open transaction back; a failure (the connection is probably broken) is only logged. */
    public void rollbackQuietly() {
        if (connection != null) {
            try {
                connection.rollback();
            } catch (SQLException e) {
                LOG.debug("Rollback of the {} failed (connection probably broken): {}", name, e.toString());
            }
        }
    }

    /** Whether a connection is open and no longer answers (the next use should open a new one). */
    public boolean isBroken() {
        if (connection == null) {
            return false;
        }
        try {
            return !connection.isValid(2);
        } catch (SQLException e) {
            return true;
        }
    }

    /** Closes the connection; the next {@link #get} opens a new one. */
    public void disconnect() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                LOG.debug("Closing the {}'s connection failed: {}", name, e.toString());
            }
            connection = null;
        }
    }

    /** Closes the connection; later {@link #get} calls fail. Idempotent. */
    @Override
    public void close() {
        closed = true;
        disconnect();
    }
}
