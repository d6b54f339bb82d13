package org.activemirroring.mirror.edge;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.activemirroring.capture.CaptureConfig;

/**
 * Marks "now" in this mirror's database log, for a write's read-your-writes token: reads the
 * current log position {@code T} (every transaction the site committed before this call lies
 * below it) and, in the same statement, upserts a row of capture's heartbeat table, which is a
 * change above {@code T} that capture is sure to see soon (see
 * {@link org.activemirroring.capture.CapturePosition}: once capture has passed {@code T}, the
 * site's transaction is in the journal). A few connections of the mirror's database user are kept
 * open, each with its own heartbeat row so that concurrent probes never wait on one row's lock.
 * Thread-safe.
 */
final class CommitProbe implements AutoCloseable {
    static final int CONNECTIONS = 4;
    /**
     * The position is read before the row is written: the CTE with the volatile function is
     * evaluated once, when the insert pulls its row from it.
     */
    private static final String SQL = "WITH t AS (SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS lsn)"
            + " INSERT INTO mirror.heartbeat (node, beat_at) SELECT ?, now() FROM t"
            + " ON CONFLICT (node) DO UPDATE SET beat_at = now() RETURNING (SELECT lsn FROM t)";

    private record Pooled(Connection connection, String row) {
    }

    private final CaptureConfig config;
    private final String nodeId;
    private final Semaphore permits = new Semaphore(CONNECTIONS);
    private final ConcurrentLinkedQueue<Pooled> idle = new ConcurrentLinkedQueue<>();
    private final AtomicInteger rows = new AtomicInteger();
    private volatile boolean closed;

    CommitProbe(CaptureConfig config, String nodeId) {
        this.config = config;
        this.nodeId = nodeId;
    }

    /**
     * The log position below which every committed transaction lies, with a heartbeat written above it.
     *
     * @return the position, or -1 when no connection was free within {@code timeoutMs}
     */
    long mark(long timeoutMs) throws SQLException, InterruptedException {
        if (!permits.tryAcquire(timeoutMs, TimeUnit.MILLISECONDS)) {
            return -1;
        }
        Pooled p = null;
        try {
            p = idle.poll();
            if (p == null) {
                Connection c = config.connect(CaptureConfig.STATUS_TIMEOUTS);
                c.setAutoCommit(true);
                p = new Pooled(c, nodeId + "/read-your-writes-" + (rows.getAndIncrement() % CONNECTIONS));
            }
            long lsn;
            try (PreparedStatement ps = p.connection().prepareStatement(SQL)) {
                // A database that hangs must not hold the response much past the bound (whole seconds here).
                ps.setQueryTimeout((int) Math.max(1, (timeoutMs + 999) / 1000));
                ps.setString(1, p.row());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    lsn = rs.getLong(1);
                }
            }
            if (closed) {
                close(p);
            } else {
                idle.add(p);
            }
            p = null;
            return lsn;
        } finally {
            if (p != null) {
                close(p); // it failed: a broken connection is not kept
            }
            permits.release();
        }
    }

    private static void close(Pooled p) {
        try {
            p.connection().close();
        } catch (SQLException ignored) {
            // closing a connection that failed: nothing to do
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Pooled p; (p = idle.poll()) != null; ) {
            close(p);
        }
    }
}
