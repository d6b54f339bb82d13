package org.activemirroring.versions;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.db.Dialect;

/**
 * This mirror's own lost writes in its conflict log, as the site's listener reads them: the
 * entries whose losing write this mirror's site made ({@code loser_origin} is this mirror), not
 * yet acknowledged, and acknowledging one once the site has handled it. The acknowledgements are
 * a table beside the log ({@code mirror.lost_write_ack}), committed at once, so they survive a
 * restart. They are kept per scope, the reader that handled them (a web application: several
 * applications sharing one node each hear of every lost write). Each call uses a short-lived
 * connection of its own. Thread-safe.
 */
public final class LostWriteLog {
    /** The most entries one read returns. */
    public static final int MAX_LIMIT = 1000;

    private final CaptureConfig config;
    private final Dialect dialect;
    private final String nodeId;
    private final String scope;

    /**
     * @param nodeId this mirror's id: the origin whose lost writes are read
     * @param scope  who reads and acknowledges them (e.g. a web application's context path)
     */
    public LostWriteLog(CaptureConfig config, Dialect dialect, String nodeId, String scope) {
        this.config = config;
        this.dialect = dialect;
        this.nodeId = nodeId;
        this.scope = scope == null ? "" : scope;
    }

    /**
     * This mirror's lost writes not acknowledged yet, lowest id first; empty while the log does
     * not exist yet (a node that never started).
     *
     * @param limit at most this many, 1..{@link #MAX_LIMIT}
     */
    public List<Conflict> unacknowledged(int limit) throws SQLException {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be 1.." + MAX_LIMIT + ", was " + limit);
        }
        try (Connection c = connect()) {
            return exists(c) ? dialect.versions().unacknowledgedLosses(c, nodeId, scope, limit) : List.of();
        }
    }

    /** Records that the site handled the lost write {@code conflictId}; committed when this returns. */
    public void acknowledge(long conflictId) throws SQLException {
        try (Connection c = connect()) {
            c.setAutoCommit(true);
            dialect.versions().acknowledgeLoss(c, conflictId, scope);
        }
    }

    private static boolean exists(Connection c) throws SQLException {
        try (var st = c.createStatement();
             var rs = st.executeQuery("SELECT to_regclass('mirror.lost_write_ack') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private Connection connect() throws SQLException {
        return config.connect(CaptureConfig.STATUS_TIMEOUTS);
    }
}
