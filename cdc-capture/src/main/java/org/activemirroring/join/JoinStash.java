package org.activemirroring.join;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
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
import org.activemirroring.db.RowStash;
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
 * <p>The join moves a table's rows into the database's {@link RowStash} (as JSON) in the
 * transaction that starts loading that table, so the table holds exactly the donor's rows
 * afterwards. Once the mirror captures its own writes, {@link #restore} puts each stashed row back
 * where it does not contradict the network:
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
    private final RowStash stash;
    private final String node;

    public JoinStash(CaptureConfig config, Dialect dialect, RowStash stash, String node) {
        this.config = config;
        this.dialect = dialect;
        this.stash = stash;
        this.node = node;
    }

    /**
     * Moves into the stash what the site wrote into mirrored tables after the join began and
     * before capture started, which capture never saw: rows whose last writing transaction
     * committed in that window outside the mirror's own sessions (neither the join's load nor the
     * applier; see {@link RowStash#stashSiteWritesSince}). Such rows come from the site's own jobs while the mirror
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
                LOG.warn("track_commit_timestamp is off, so rows its site's own jobs wrote into mirrored tables"
                        + " while it joined (after a table was loaded) cannot be found; they stay on this mirror only."
                        + " Set track_commit_timestamp = on");
                markSwept(c);
                c.commit();
                return -1;
            }
            long moved = 0;
            List<String> tables = new ArrayList<>();
            for (MirroredTables.Table t : MirroredTables.of(config, dialect.catalog()).mirrorable(c)) {
                tables.add(t.qualified());
            }
            for (String table : tables) {
                long n = stash.stashSiteWritesSince(c, table, from);
                if (n > 0) {
                    moved += n;
                    LOG.info("The site wrote {} row(s) into {} during the join that capture did not see;"
                            + " they are sent to the network now", n, table);
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
        try (Connection c = config.connect()) {
            return stash.pending(c);
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
        LOG.info("{}", o);
        return o;
    }

    private List<String> stashedTables(Connection c) throws SQLException {
        List<String> out = stash.tables(c);
        c.rollback();
        return out;
    }

    /** {@code tables} ordered so that a table comes after those its foreign keys point at (cycles: as found). */
    private List<String> parentsFirst(Connection c, List<String> tables) throws SQLException {
        Map<String, Set<String>> parents = stash.foreignKeyParents(c);
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
        List<String> key = shape.primaryKey();
        long same = 0;
        long restored = 0;
        List<Conflict> lost = new ArrayList<>();
        List<RowStash.Stashed> rows = stash.rows(c, table);
        Instant now = Instant.now();
        RowVersion mine = new RowVersion(0, node);
        RowVersion network = new RowVersion(0, winnerOrigin);
        try (RowStash.Restorer restorer = stash.restorer(c, shape)) {
            for (RowStash.Stashed row : rows) {
                String json = row.json();
                RowStash.Found existing = restorer.find(json);
                if (existing != null) {
                    if (existing.equal()) {
                        same++;
                    } else {
                        lost.add(conflict(now, table, key, json, mine, network, existing.json()));
                    }
                    continue;
                }
                try {
                    if (restorer.insert(json)) {
                        restored++;
                    } else {
                        lost.add(conflict(now, table, key, json, mine, network, null));
                    }
                } catch (SQLException e) {
                    LOG.warn("A row of {} its site wrote before the join cannot be put back ({}); it is in"
                            + " mirror.conflict (kind join)", table, e.getMessage());
                    lost.add(conflict(now, table, key, json, mine, network, null));
                }
            }
        }
        dialect.versions().log(c, lost);
        stash.forget(c, rows.stream().map(RowStash.Stashed::id).toList());
        if (!lost.isEmpty()) {
            LOG.warn("{} row(s) of {} that its site wrote before the join differ from the network's and went"
                    + " to the conflict log (kind join); the network's rows stay", lost.size(), table);
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
