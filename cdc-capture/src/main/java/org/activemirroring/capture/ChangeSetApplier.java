package org.activemirroring.capture;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.activemirroring.transport.DeliveryHandler;
import org.activemirroring.transport.Envelope;
import org.activemirroring.transport.EpochMicros;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies other mirrors' ChangeSets to this mirror's database, each as one local transaction that
 * also advances the applied vector ({@code mirror.applied}), so a change takes effect at most once
 * even when the transport delivers it again.
 *
 * <p>Uses one JDBC connection, opened on first use and again after it broke. A failure rolls back
 * and is thrown as {@link ApplyException}, which makes the transport offer the same envelope
 * again; nothing is skipped. The transport calls {@link #deliver} from one thread; the methods
 * are synchronized anyway so that {@link #appliedVector()} can be called from another.
 */
public final class ChangeSetApplier implements DeliveryHandler, AutoCloseable {
    /** Rows per JDBC batch: large enough to amortise round trips, small enough to bound driver memory. */
    private static final int MAX_BATCH = 1000;

    private volatile ApplyObserver observer = ApplyObserver.NONE;
    private static final Logger LOG = LoggerFactory.getLogger(ChangeSetApplier.class);

    private final CaptureConfig config;
    private final Dialect dialect;
    private final ChangeSetCodec codec = new ChangeSetCodec();
    private final Map<String, TableShape> shapes = new HashMap<>();
    private final Set<String> loggedIgnoredTypes = ConcurrentHashMap.newKeySet();

    private Connection connection;
    private boolean closed;
    private long applied;
    private long duplicates;
    private long ignored;
    private long failures;

    /**
     * Creates an applier; it connects on first use.
     *
     * @param config  database URL and credentials
     * @param dialect the SQL of that database
     */
    public ChangeSetApplier(CaptureConfig config, Dialect dialect) {
        this.config = config;
        this.dialect = dialect;
    }

    /**
     * Per origin, the highest seq applied here (origins never applied are absent): where the
     * transport resumes delivery.
     */
    public synchronized Map<String, Long> appliedVector() throws ApplyException {
        try {
            Connection c = connection();
            try {
                Map<String, Long> v = dialect.readAppliedVector(c);
                c.commit();
                return v;
            } catch (SQLException e) {
                rollbackQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            throw failure("Cannot read the applied vector from mirror.applied", e);
        }
    }

    @Override
    public synchronized void deliver(Envelope envelope) throws ApplyException {
        if (!ChangeSet.PAYLOAD_TYPE.equals(envelope.payloadType())) {
            ignored++;
            if (loggedIgnoredTypes.add(envelope.payloadType())) {
                LOG.info("Applier ignores envelopes of payload type '{}' (first: {}); they are not ChangeSets",
                        envelope.payloadType(), envelope);
            }
            return;
        }
        ChangeSet cs;
        try {
            cs = codec.decode(envelope);
        } catch (ChangeSetFormatException e) {
            failures++;
            throw new ApplyException("Cannot apply " + envelope + ": " + e.getMessage()
                    + "; the origin runs an incompatible version or the journal is damaged", false, e);
        }
        Connection c;
        try {
            c = connection();
        } catch (SQLException e) {
            throw failure("Cannot connect to apply " + envelope, e);
        }
        try {
            long appliedSeq = dialect.lockAppliedSeq(c, cs.origin());
            if (appliedSeq >= cs.seq()) {
                c.rollback();
                duplicates++;
                return;
            }
            applyRows(c, cs.rows());
            dialect.recordApplied(c, cs.origin(), cs.seq());
            c.commit();
            applied++;
            observer.applied(cs, EpochMicros.now());
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(c);
            // The table may have changed under us (DDL); read shapes again on the next attempt.
            shapes.clear();
            throw failure("Cannot apply " + envelope + " (tx " + cs.sourceTxId() + ", " + cs.rows().size()
                    + " rows)", e);
        }
    }

    /**
     * Executes the rows in order; consecutive rows with the same statement (same table, operation
     * and columns: the common case of a bulk insert or update) go to the database as one JDBC
     * batch, which saves a network round trip per row.
     */
    private void applyRows(Connection c, List<RowChange> rows) throws SQLException {
        PreparedStatement batch = null;
        String batchSql = null;
        // Keys in the current batch: the driver sends a batch of upserts as one multi-row INSERT,
        // and PostgreSQL refuses ON CONFLICT DO UPDATE touching the same row twice in one
        // statement; a repeated key (insert, then update in one transaction) starts a new batch.
        Set<Map<String, String>> batchKeys = new HashSet<>();
        try {
            for (RowChange row : rows) {
                RowStatement st = dialect.rowStatement(shape(c, row.table()), row);
                if (!st.sql().equals(batchSql) || batchKeys.size() >= MAX_BATCH || batchKeys.contains(row.key())) {
                    if (batch != null) {
                        batch.executeBatch();
                        batch.close();
                    }
                    batch = c.prepareStatement(st.sql());
                    batchSql = st.sql();
                    batchKeys.clear();
                }
                st.bind(batch);
                batch.addBatch();
                batchKeys.add(row.key());
            }
            if (batch != null) {
                batch.executeBatch();
            }
        } finally {
            if (batch != null) {
                batch.close();
            }
        }
    }

    /** Replaces the observer of applied ChangeSets (null: none). */
    public void observe(ApplyObserver o) {
        observer = o == null ? ApplyObserver.NONE : o;
    }

    /** Counters since construction. */
    public synchronized ApplierStats stats() {
        return new ApplierStats(applied, duplicates, ignored, failures);
    }

    /** Closes the connection; later calls fail. Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        closeConnection();
    }

    private TableShape shape(Connection c, String table) throws SQLException {
        TableShape s = shapes.get(table);
        if (s == null) {
            s = dialect.describe(c, table);
            shapes.put(table, s);
        }
        return s;
    }

    private Connection connection() throws SQLException {
        if (closed) {
            throw new SQLException("the applier is closed");
        }
        if (connection != null) {
            return connection;
        }
        Properties props = new Properties();
        props.setProperty("user", config.dbUser());
        props.setProperty("password", config.dbPassword());
        // A batch of same-shape upserts goes to the server as multi-row INSERTs: one statement per
        // up to 128 rows for the server to parse and run instead of one per row.
        props.setProperty("reWriteBatchedInserts", "true");
        Connection c = DriverManager.getConnection(config.dbUrl(), props);
        try {
            // Bookkeeping and session setup run in autocommit: they must persist even if the first
            // ChangeSet is rolled back.
            c.setAutoCommit(true);
            dialect.createBookkeeping(c);
            dialect.prepareApplySession(c);
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

    private ApplyException failure(String what, Exception e) {
        failures++;
        boolean retriable = isRetriable(e);
        if (e instanceof SQLException && isConnectionBroken()) {
            closeConnection();
        }
        return new ApplyException(what + ": " + e.getMessage(), retriable, e);
    }

    /**
     * Sorts a failure: connection problems (SQLState class 08), server shutdown (57P), lock and
     * serialization conflicts (40xxx, 55P03), an origin still in use (55006) and insufficient
     * resources (53) can pass; bad data,
     * missing tables or keys cannot.
     */
    static boolean isRetriable(Exception e) {
        if (e instanceof NoPrimaryKeyException) {
            return false;
        }
        if (e instanceof SQLException sql) {
            String state = sql.getSQLState();
            if (state == null) {
                return true; // pgjdbc I/O problems often come without a state
            }
            return state.startsWith("08") || state.startsWith("57P") || state.startsWith("40")
                    || state.startsWith("53") || state.equals("55P03")
                    // 55006: the replication origin is still held by our previous, dying session.
                    || state.equals("55006");
        }
        return false;
    }

    private boolean isConnectionBroken() {
        if (connection == null) {
            return false;
        }
        try {
            return !connection.isValid(2);
        } catch (SQLException e) {
            return true;
        }
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                LOG.debug("Closing the applier connection failed: {}", e.toString());
            }
            connection = null;
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            LOG.debug("Rollback failed (connection probably broken): {}", e.toString());
        }
    }
}
