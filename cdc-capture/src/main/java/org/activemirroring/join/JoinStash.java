package org.activemirroring.join;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.change.RowVersion;
import org.activemirroring.db.Dialect;
import org.activemirroring.db.TableShape;
import org.activemirroring.schema.MirroredTables;
import org.activemirroring.versions.Conflict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rows a new mirror's own site wrote before the mirror copied the network's data: real sites
 * create their schema and insert seed rows at every start, before the plugin runs. Such rows must
 * neither block the copy (they would collide with the donor's rows under the same keys) nor be
 * dropped silently.
 *
 * <p>The join moves a table's rows into {@code mirror.join_stash} (as JSON) in the transaction that
 * starts loading that table, so the table holds exactly the donor's rows afterwards. Once the
 * mirror captures its own writes, {@link #restore} puts each stashed row back where it does not
 * contradict the network:
 * <ul>
 *   <li>the network holds the same row under its key: nothing to do (the usual seed row);</li>
 *   <li>the network holds no row under its key: it is inserted again, now as this mirror's own
 *       write, so capture sends it to every other mirror;</li>
 *   <li>the network holds another row under its key, or the insert collides with another unique
 *       key or breaks a constraint: the network's row stays and the stashed one goes to the
 *       conflict log ({@link Conflict.Kind#JOIN}), to be restored by hand if it mattered.</li>
 * </ul>
 * Each table is restored in one transaction together with the removal of its stashed rows, so a
 * crash restores every row at most once. Tables are taken parents first (by foreign keys).
 */
public final class JoinStash {
    private static final Logger LOG = LoggerFactory.getLogger(JoinStash.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a restore did. */
    public record Outcome(long same, long restored, long conflicts) {
        public long total() {
            return same + restored + conflicts;
        }

        @Override
        public String toString() {
            return restored + " row(s) this mirror's site wrote before its join were sent to the network, " + same
                    + " matched the network's rows, " + conflicts + " differed and are in the conflict log";
        }
    }

    private final CaptureConfig config;
    private final Dialect dialect;
    private final String node;

    public JoinStash(CaptureConfig config, Dialect dialect, String node) {
        this.config = config;
        this.dialect = dialect;
        this.node = node;
    }

    static void createTable(Statement s) throws SQLException {
        s.execute("CREATE TABLE IF NOT EXISTS mirror.join_stash (id bigserial PRIMARY KEY, tbl text NOT NULL, "
                + "row_json jsonb NOT NULL, stashed_at timestamptz NOT NULL)");
    }

    /**
     * Moves every row of {@code table} into the stash and empties the table, in the caller's
     * transaction (which runs as an apply session, so capture never sees the removal).
     *
     * @return how many rows were moved
     */
    static long stash(Dialect dialect, Connection c, String table) throws SQLException {
        long n;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO mirror.join_stash (tbl, row_json, stashed_at) "
                + "SELECT ?, to_jsonb(t), now() FROM " + dialect.quoteTable(table) + " t")) {
            ps.setString(1, table);
            n = ps.executeUpdate();
        }
        if (n > 0) {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("DELETE FROM " + dialect.quoteTable(table));
            }
        }
        return n;
    }

    /**
     * Moves into the stash what the site wrote into mirrored tables after the join began and
     * before capture started, which capture never saw: rows whose last writing transaction
     * committed in that window without a replication origin (neither the join's load nor the
     * applier, which write under one). Such rows come from the site's own jobs while the mirror
     * joined (its pages answer 503 then), e.g. after a table's load finished. {@link #restore} then
     * puts them back as this mirror's writes. Runs once per join, right after capture started; needs
     * {@code track_commit_timestamp = on} (without it the window cannot be told apart, and the
     * method says so and does nothing).
     *
     * @return rows moved, or -1 when there was nothing to do (no join, done before, or no commit timestamps)
     */
    public long sweepUncaptured() throws SQLException {
        try (Connection c = config.connect()) {
            dialect.prepareSweepSession(c); // the removal is not captured; the put-back is
            c.setAutoCommit(false);
            java.sql.Timestamp from;
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT started_at FROM"
                    + " mirror.join_state WHERE status = 'complete' AND NOT swept FOR UPDATE")) {
                if (!rs.next()) {
                    c.rollback();
                    return -1;
                }
                from = rs.getTimestamp(1);
            }
            if (!dialect.versions().tracksCommitTimestamps(c)) {
                LOG.warn("Mirror {}: track_commit_timestamp is off, so rows its site's own jobs wrote into mirrored tables"
                        + " while it joined (after a table was loaded) cannot be found; they stay on this mirror only."
                        + " Set track_commit_timestamp = on", node);
                markSwept(c);
                c.commit();
                return -1;
            }
            long moved = 0;
            List<String> tables = new ArrayList<>();
            for (MirroredTables.Table t : MirroredTables.of(config).mirrorable(c)) {
                tables.add(t.qualified());
            }
            for (String table : tables) {
                String q = dialect.quoteTable(table);
                String window = "FROM " + q + " t, pg_xact_commit_timestamp_origin(t.xmin) x WHERE x.roident = 0"
                        + " AND x.timestamp >= ? AND x.timestamp < transaction_timestamp()";
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO mirror.join_stash (tbl, row_json, stashed_at)"
                        + " SELECT ?, to_jsonb(t), now() " + window)) {
                    ps.setString(1, table);
                    ps.setTimestamp(2, from);
                    long n = ps.executeUpdate();
                    if (n > 0) {
                        try (PreparedStatement del = c.prepareStatement("DELETE FROM " + q + " t WHERE t.ctid IN (SELECT"
                                + " t.ctid " + window + ")")) {
                            del.setTimestamp(1, from);
                            del.executeUpdate();
                        }
                        moved += n;
                        LOG.info("Mirror {}: its site wrote {} row(s) into {} during the join that capture did not see;"
                                + " they are sent to the network now", node, n, table);
                    }
                }
            }
            markSwept(c);
            c.commit();
            return moved;
        }
    }

    private static void markSwept(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE mirror.join_state SET swept = true");
        }
    }

    /** Stashed rows waiting for {@link #restore}; 0 when there is no stash table. */
    public long pending() throws SQLException {
        try (Connection c = config.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT CASE WHEN to_regclass('mirror.join_stash') IS NULL THEN 0 "
                     + "ELSE (SELECT count(*) FROM mirror.join_stash) END")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * Puts the stashed rows back as described above. Call only while capture runs, so that the
     * rows put back are captured and sent to the other mirrors.
     *
     * @param winnerOrigin named as the winner's origin in the conflict log (the join's donor)
     */
    public Outcome restore(String winnerOrigin) throws SQLException {
        if (pending() == 0) {
            return new Outcome(0, 0, 0);
        }
        long same = 0;
        long restored = 0;
        long conflicts = 0;
        try (Connection c = config.connect()) {
            c.setAutoCommit(false);
            for (String table : parentsFirst(c, stashedTables(c))) {
                long[] r = restoreTable(c, table, winnerOrigin);
                c.commit();
                same += r[0];
                restored += r[1];
                conflicts += r[2];
            }
        }
        Outcome o = new Outcome(same, restored, conflicts);
        LOG.info("Mirror {}: {}", node, o);
        return o;
    }

    private static List<String> stashedTables(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT DISTINCT tbl FROM mirror.join_stash ORDER BY tbl")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        c.rollback();
        return out;
    }

    /** {@code tables} ordered so that a table comes after those its foreign keys point at (cycles: as found). */
    static List<String> parentsFirst(Connection c, List<String> tables) throws SQLException {
        Map<String, Set<String>> parents = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT cn.nspname || '.' || cl.relname, "
                + "pn.nspname || '.' || pl.relname FROM pg_constraint k "
                + "JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = cl.relnamespace "
                + "JOIN pg_class pl ON pl.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = pl.relnamespace "
                + "WHERE k.contype = 'f'"); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                parents.computeIfAbsent(rs.getString(1), k -> new HashSet<>()).add(rs.getString(2));
            }
        }
        c.rollback();
        List<String> out = new ArrayList<>();
        Set<String> left = new LinkedHashSet<>(tables);
        while (!left.isEmpty()) {
            boolean progress = false;
            for (Iterator<String> it = left.iterator(); it.hasNext(); ) {
                String t = it.next();
                Set<String> p = new HashSet<>(parents.getOrDefault(t, Set.of()));
                p.remove(t);
                p.retainAll(left);
                if (p.isEmpty()) {
                    out.add(t);
                    it.remove();
                    progress = true;
                }
            }
            if (!progress) { // a cycle: take the rest as they come; a row whose parent is missing goes to the log
                out.addAll(left);
                break;
            }
        }
        return out;
    }

    /** Returns {same, restored, conflicts}; the caller commits. */
    private long[] restoreTable(Connection c, String table, String winnerOrigin) throws SQLException {
        TableShape shape = dialect.describe(c, table);
        String q = dialect.quoteTable(table);
        List<String> key = shape.primaryKey();
        StringBuilder match = new StringBuilder();
        for (int i = 0; i < key.size(); i++) {
            String col = dialect.quoteName(key.get(i));
            match.append(i == 0 ? "" : " AND ").append("t.").append(col).append(" = p.").append(col);
        }
        String find = "SELECT to_jsonb(t)::text, to_jsonb(t) = ?::jsonb FROM " + q + " t, jsonb_populate_record(NULL::"
                + q + ", ?::jsonb) p WHERE " + match;
        String cols = String.join(", ", shape.columns().keySet().stream().map(dialect::quoteName).toList());
        String insert = "INSERT INTO " + q + " (" + cols + ")" + (shape.alwaysIdentity().isEmpty() ? ""
                : " OVERRIDING SYSTEM VALUE") + " SELECT " + cols + " FROM jsonb_populate_record(NULL::" + q
                + ", ?::jsonb) ON CONFLICT DO NOTHING";
        long same = 0;
        long restored = 0;
        List<Conflict> lost = new ArrayList<>();
        Map<Long, String> rows = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id, row_json::text FROM mirror.join_stash WHERE tbl = ? ORDER BY id")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.put(rs.getLong(1), rs.getString(2));
                }
            }
        }
        Instant now = Instant.now();
        RowVersion mine = new RowVersion(0, node);
        RowVersion network = new RowVersion(0, winnerOrigin);
        try (PreparedStatement findPs = c.prepareStatement(find); PreparedStatement insertPs = c.prepareStatement(insert);
             Statement s = c.createStatement()) {
            for (Map.Entry<Long, String> row : rows.entrySet()) {
                String json = row.getValue();
                findPs.setString(1, json);
                findPs.setString(2, json);
                String existing = null;
                boolean equal = false;
                try (ResultSet rs = findPs.executeQuery()) {
                    if (rs.next()) {
                        existing = rs.getString(1);
                        equal = rs.getBoolean(2);
                    }
                }
                if (existing != null) {
                    if (equal) {
                        same++;
                    } else {
                        lost.add(conflict(now, table, key, json, mine, network, existing));
                    }
                    continue;
                }
                s.execute("SAVEPOINT restore_row");
                try {
                    insertPs.setString(1, json);
                    if (insertPs.executeUpdate() == 1) {
                        restored++;
                    } else {
                        lost.add(conflict(now, table, key, json, mine, network, null));
                    }
                    s.execute("RELEASE SAVEPOINT restore_row");
                } catch (SQLException e) {
                    s.execute("ROLLBACK TO SAVEPOINT restore_row");
                    LOG.warn("Mirror {}: a row of {} its site wrote before the join cannot be put back ({}); it is in"
                            + " mirror.conflict (kind join)", node, table, e.getMessage());
                    lost.add(conflict(now, table, key, json, mine, network, null));
                }
            }
        }
        dialect.versions().log(c, lost);
        try (PreparedStatement del = c.prepareStatement("DELETE FROM mirror.join_stash WHERE id = ANY (?)")) {
            del.setArray(1, c.createArrayOf("bigint", rows.keySet().toArray()));
            del.executeUpdate();
        }
        if (!lost.isEmpty()) {
            LOG.warn("Mirror {}: {} row(s) of {} that its site wrote before the join differ from the network's and went"
                    + " to the conflict log (kind join); the network's rows stay", node, lost.size(), table);
        }
        return new long[] {same, restored, lost.size()};
    }

    private static Conflict conflict(Instant now, String table, List<String> key, String json, RowVersion mine,
                                     RowVersion network, String existing) {
        Map<String, String> k = new LinkedHashMap<>();
        try {
            JsonNode row = JSON.readTree(json);
            for (String col : key) {
                JsonNode v = row.get(col);
                k.put(col, v == null || v.isNull() ? null : v.isTextual() ? v.asText() : v.toString());
            }
        } catch (java.io.IOException e) {
            k.put("?", json);
        }
        return new Conflict(0, now, Conflict.Kind.JOIN, table, k, mine, "c", json, network, existing, 0);
    }
}
