package org.activemirroring.versions;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.db.Dialect;

/**
 * Reads this mirror's conflict log for the status pages, on a short-lived connection of its own:
 * a page view never waits behind a large apply. Thread-safe.
 */
public final class ConflictLogReader {

    /** The most conflicts one request may ask for. */
    public static final int MAX_LIMIT = 1000;

    private final CaptureConfig config;
    private final Dialect dialect;

    public ConflictLogReader(CaptureConfig config, Dialect dialect) {
        this.config = config;
        this.dialect = dialect;
    }

    /** How many writes the conflict log holds; 0 if it does not exist yet. */
    public long count() throws SQLException {
        try (Connection c = connect()) {
            return exists(c) ? dialect.versions().count(c) : 0;
        }
    }

    /**
     * The newest conflicts, newest first.
     *
     * @param limit    at most this many, 1..{@link #MAX_LIMIT}
     * @param beforeId only those with a smaller id (paging); 0 for the newest
     */
    public List<Conflict> recent(int limit, long beforeId) throws SQLException {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be 1.." + MAX_LIMIT + ", was " + limit);
        }
        try (Connection c = connect()) {
            return exists(c) ? dialect.versions().recent(c, limit, beforeId) : List.of();
        }
    }

    private static boolean exists(Connection c) throws SQLException {
        try (var rs = c.createStatement().executeQuery("SELECT to_regclass('mirror.conflict') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private Connection connect() throws SQLException {
        return config.connect(CaptureConfig.STATUS_TIMEOUTS);
    }
}
