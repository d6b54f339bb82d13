package org.activemirroring.tomcatconf.demo;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.activemirroring.testsupport.PgServer;

/**
 * What one mirror applied from the others, read from its database: the applied vector
 * ({@code mirror.applied}: per origin the last sequence number applied and when) and, for the
 * ChangeSets applied since the last poll, the tables they wrote and their origin clock
 * ({@code mirror.row_version}). One line per ChangeSet, e.g.
 * {@code mirror-2 applied mirror-1#17 (public.item, public.user_session) 12 ms after its commit}.
 * The delay is the apply transaction's start ({@code applied_at}) minus the origin's hybrid clock
 * (milliseconds in its upper bits); all mirrors run on this machine, so both read one clock.
 */
final class AppliedChanges implements AutoCloseable {
    private static final int LOGICAL_BITS = 16;

    private final String mirror;
    private final PgServer database;
    private final Map<String, Long> seen = new HashMap<>();
    private Connection connection;
    private boolean baseline;

    AppliedChanges(String mirror, PgServer database) {
        this.mirror = mirror;
        this.database = database;
    }

    /**
     * The ChangeSets applied since the last call, as lines; the first call only notes where each
     * origin stands. An unreachable database (its mirror stopped) gives no lines.
     */
    List<String> poll() {
        try {
            if (connection == null || connection.isClosed()) {
                connection = database.connect();
            }
            List<String> lines = new ArrayList<>();
            Map<String, long[]> now = new TreeMap<>();
            Map<String, Timestamp> appliedAt = new HashMap<>();
            try (PreparedStatement ps = connection.prepareStatement(
                    "SELECT origin, applied_seq, applied_at FROM mirror.applied");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    now.put(rs.getString(1), new long[] {rs.getLong(2)});
                    appliedAt.put(rs.getString(1), rs.getTimestamp(3));
                }
            }
            for (Map.Entry<String, long[]> e : now.entrySet()) {
                String origin = e.getKey();
                long to = e.getValue()[0];
                Long from = seen.put(origin, to);
                if (baseline && (from == null || to > from)) {
                    lines.addAll(describe(origin, from == null ? 0 : from, to, appliedAt.get(origin)));
                }
            }
            baseline = true;
            return lines;
        } catch (SQLException e) {
            // The mirror's schema is not there yet (it is still joining), or its database stopped.
            closeQuietly();
            return List.of();
        }
    }

    private List<String> describe(String origin, long from, long to, Timestamp appliedAt) throws SQLException {
        Map<Long, TreeSet<String>> tables = new TreeMap<>();
        Map<Long, Long> clocks = new HashMap<>();
        try (PreparedStatement ps = connection.prepareStatement("SELECT origin_seq, tbl, max(clock) FROM mirror.row_version"
                + " WHERE origin = ? AND origin_seq > ? AND origin_seq <= ? GROUP BY origin_seq, tbl")) {
            ps.setString(1, origin);
            ps.setLong(2, from);
            ps.setLong(3, to);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    tables.computeIfAbsent(rs.getLong(1), k -> new TreeSet<>()).add(rs.getString(2));
                    clocks.merge(rs.getLong(1), rs.getLong(3), Math::max);
                }
            }
        }
        List<String> lines = new ArrayList<>();
        // Many ChangeSets at once (a join's catch-up) are one line, not hundreds.
        if (to - from > 20) {
            lines.add(mirror + " applied " + origin + "#" + (from + 1) + ".." + origin + "#" + to + " ("
                    + (to - from) + " changes)");
            return lines;
        }
        for (long seq = from + 1; seq <= to; seq++) {
            StringBuilder line = new StringBuilder(mirror + " applied " + origin + "#" + seq);
            TreeSet<String> written = tables.get(seq);
            if (written != null) {
                line.append(" (").append(String.join(", ", written)).append(')');
            } else {
                line.append(" (no row holds its version: a file change, or rows changed again since)");
            }
            Long clock = clocks.get(seq);
            if (clock != null && appliedAt != null) {
                long ms = appliedAt.getTime() - (clock >>> LOGICAL_BITS);
                line.append(' ').append(Math.max(0, ms)).append(" ms after its commit");
            }
            lines.add(line.toString());
        }
        return lines;
    }

    private void closeQuietly() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ignored) {
            // a connection to a database that went away: nothing left to release
        }
        connection = null;
    }

    @Override
    public void close() {
        closeQuietly();
    }
}
