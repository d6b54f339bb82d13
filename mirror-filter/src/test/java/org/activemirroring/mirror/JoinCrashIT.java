package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;
import org.junit.jupiter.api.Test;

/**
 * Joins under kill -9, each mirror a JVM of its own ({@link MirrorMain}) while every running site
 * writes: mirror 1 holds the data (seeded rows plus the writers' tokens), mirror 2 joins it before
 * the test, mirror 3 starts with an empty database without the schema and joins in small chunks
 * ({@code mirror.join.chunk.pages=8}), so its load takes seconds. One test kills the joiner at
 * random moments of its load (once right at the start, once late) and restarts it; the other
 * kills the joiner's donor mid-load, so the join must go on from the other mirror. Each ends with
 * the joined mirror writing too (it writes from when it is ready: before, the filter answers the
 * site's requests with 503), and {@link CrashCluster#stopWritersAndCheck}'s checks: equal
 * digests, every committed write everywhere, each ChangeSet applied once per peer, no echo.
 *
 * <p>When the joiner is "loading" is read from outside, in its own database: {@code
 * mirror.join_state} says loading and {@code mirror.join_table} how many pages of each table are in.
 * The schedule comes from a seeded Random, printed; repeat with {@code -Dcrash.seed=<seed>}.
 * {@code -Djoincrash.kills=N} sets the joiner kills (default 3, 8 with {@code -Dsoak}).
 */
class JoinCrashIT {
    private static final int SITES = 3;
    private static final int JOINER = 2;
    private static final long WRITE_PAUSE_MS = 25;
    private static final String CHUNK_PAGES = "8";
    /** Rows in mirror 1 before mirroring starts: about 1000 pages, over 100 chunks of 8 pages. */
    private static final int SEED_ROWS = 40_000;
    private static final Duration LOADING = Duration.ofSeconds(90);

    @Test
    void joinerKilledDuringItsLoadResumesAndEndsIdentical() throws Exception {
        long seed = CrashCluster.seed("JoinCrashIT.joinerKilled");
        Random random = new Random(seed);
        int kills = Integer.getInteger("joincrash.kills", Boolean.getBoolean("soak") ? 8 : 3);
        if (kills < 2) {
            throw new IllegalArgumentException("joincrash.kills must be at least 2 (one at the start, one late)");
        }
        // Kill moments as fractions of the joiner's loaded pages, in order (progress survives a
        // kill, so each kill waits for more): the first right when the join starts (possibly
        // while it still copies the schema), the last late in the load, the others in between.
        List<Double> moments = new ArrayList<>();
        moments.add(0.0);
        for (int k = 1; k < kills - 1; k++) {
            moments.add(0.05 + 0.65 * random.nextDouble());
        }
        // Not later than 0.9: the rest of the load (about 80 pages, 10 chunks) must outlast the
        // detection and the delay, or the kill hits a mirror that already completed its join.
        moments.add(0.8 + 0.1 * random.nextDouble());
        moments.sort(null);

        try (CrashCluster cluster = startTwoMirrorsWithData("jkill", seed)) {
            MirrorJvm joiner = cluster.jvms.get(JOINER);
            PgServer joinerDb = cluster.servers.get(JOINER);
            long pages = tablePages(cluster.servers.get(0));
            joiner.start();
            int killedLoading = 0;
            for (int k = 0; k < kills; k++) {
                double at = moments.get(k);
                Await.until(LOADING, () -> joinProgress(joinerDb, pages) >= at,
                        () -> "joiner not at " + at + " of its load: " + joinDescription(joinerDb, pages) + "; log "
                                + joiner.log() + ":\n" + joiner.tail());
                long delay = k == 0 ? random.nextInt(300) : random.nextInt(60);
                CrashCluster.faultDelay(delay);
                long killedAt = System.currentTimeMillis();
                int exit = joiner.kill();
                assertEquals(MirrorJvm.KILLED_BY_SIGKILL, exit, joiner.nodeId() + " exit value after SIGKILL");
                String state = joinDescription(joinerDb, pages);
                boolean loading = "loading".equals(joinStatus(joinerDb));
                killedLoading += loading ? 1 : 0;
                long down = 200 + random.nextInt(1300);
                System.out.printf("%s kill %d/%d: joiner %s killed %d ms after reaching %.2f of its load (%s), down %d ms%n",
                        Instant.ofEpochMilli(killedAt), k + 1, kills, joiner.nodeId(), delay, at, state, down);
                CrashCluster.faultDelay(down);
                joiner.start();
                cluster.assertWritersRunning();
            }
            long t0 = System.nanoTime();
            joiner.awaitReady(CrashCluster.READY);
            System.out.printf("joiner READY %d ms after its last restart; join sessions %s%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), joinSessions(joinerDb));
            assertEquals(kills, killedLoading, "every kill should hit the load (a mirror in 'loading'); a kill that"
                    + " came after the join completed tests the wrong thing: seed more rows");
            // No donor died: every restart must have resumed the same snapshot of the same donor
            // rather than beginning a new one (which reloads the half-loaded table from zero).
            assertEquals(1, joinSessions(joinerDb).size(), "join sessions of " + joiner.nodeId()
                    + " although its donor never stopped: " + joinSessions(joinerDb) + "; log " + joiner.log());
            writeOnJoinerThenCheck(cluster);
        }
    }

    @Test
    void donorKilledDuringTheJoinTheJoinerGoesOnFromTheOtherMirror() throws Exception {
        long seed = CrashCluster.seed("JoinCrashIT.donorKilled");
        Random random = new Random(seed);
        try (CrashCluster cluster = startTwoMirrorsWithData("jdonor", seed)) {
            MirrorJvm joiner = cluster.jvms.get(JOINER);
            PgServer joinerDb = cluster.servers.get(JOINER);
            long pages = tablePages(cluster.servers.get(0));
            joiner.start();
            double at = 0.1 + 0.6 * random.nextDouble();
            Await.until(LOADING, () -> joinProgress(joinerDb, pages) >= at,
                    () -> "joiner not at " + at + " of its load: " + joinDescription(joinerDb, pages));
            Map<String, String> sessions = joinSessions(joinerDb);
            String donorId = sessions.values().iterator().next();
            assertEquals(1, sessions.size(), "one join session before the donor dies: " + sessions);
            int donor = indexOf(cluster, donorId);
            MirrorJvm donorJvm = cluster.jvms.get(donor);
            long delay = random.nextInt(60);
            CrashCluster.faultDelay(delay);
            int exit = donorJvm.kill();
            assertEquals(MirrorJvm.KILLED_BY_SIGKILL, exit, donorId + " exit value after SIGKILL");
            String state = joinDescription(joinerDb, pages);
            System.out.printf("%s donor %s killed %d ms after the joiner reached %.2f of its load (%s)%n",
                    Instant.now(), donorId, delay, at, state);
            assertEquals("loading", joinStatus(joinerDb), "the donor must die during the load: " + state);

            long t0 = System.nanoTime();
            joiner.awaitReady(CrashCluster.READY);
            Map<String, String> after = joinSessions(joinerDb);
            System.out.printf("joiner READY %d ms after its donor died; join sessions %s%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), after);
            assertFalse(donorJvm.isAlive(), "the donor stays down until the joiner is ready");
            String other = cluster.jvms.get(1 - donor).nodeId(); // mirrors 1 and 2 are the possible donors
            assertTrue(after.containsValue(other), "the join went on from " + other + ": " + after);

            donorJvm.start();
            donorJvm.awaitReady(CrashCluster.READY);
            cluster.assertWritersRunning();
            writeOnJoinerThenCheck(cluster);
        }
    }

    /**
     * Mirror 1 with the schema, {@link #SEED_ROWS} tokens of no site (the writers never touch
     * them) and every site's counters; mirror 2 empty without schema, joining mirror 1 with the
     * default chunk size; both ready and writing. Mirror 3 (empty, no schema) is left to the test.
     */
    private static CrashCluster startTwoMirrorsWithData(String label, long seed) throws Exception {
        CrashCluster c = CrashCluster.create(label, SITES, seed, WRITE_PAUSE_MS, JoinCrashIT::settings);
        try {
            SiteWriter.createSchema(c.servers.get(0), SITES);
            try (Connection conn = c.servers.get(0).connect(); Statement s = conn.createStatement()) {
                s.execute("INSERT INTO tokens (id, site, token, note) SELECT 1000000000 + g, 0, md5(g::text)::uuid,"
                        + " repeat(md5((g * 7)::text), 3) FROM generate_series(1, " + SEED_ROWS + ") g");
            }
            c.jvms.get(0).start();
            c.jvms.get(0).awaitReady(CrashCluster.READY);
            c.startWriter(0);
            c.jvms.get(1).start();
            c.jvms.get(1).awaitReady(CrashCluster.READY);
            c.startWriter(1);
            return c;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    /**
     * Small chunks on the joiner. A faster merge on all: a joiner restarted within about 2 s of
     * its kill finds the others still busy removing its old incarnation, starts alone (GMS
     * join_timeout 1 s) and meets them again only at the next merge, up to 20 s plus the merge
     * itself later by default (33 s in one run), while it cannot find a donor.
     */
    private static Map<String, String> settings(int site) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("mirror.jgroups.merge.min_interval", "1s");
        m.put("mirror.jgroups.merge.max_interval", "3s");
        if (site == JOINER) {
            m.put("mirror.join.chunk.pages", CHUNK_PAGES);
        }
        return m;
    }

    /** The joiner writes too, for a while, then all writers stop and the end checks run. */
    private static void writeOnJoinerThenCheck(CrashCluster cluster) throws Exception {
        cluster.startWriter(JOINER);
        SiteWriter w = cluster.writers.get(JOINER);
        w.burst(30);
        Await.until(Duration.ofSeconds(60), () -> w.committed() >= 60 || w.failure() != null,
                () -> "the joined mirror's writer committed " + w.committed());
        cluster.assertWritersRunning();
        cluster.stopWritersAndCheck();
    }

    private static int indexOf(CrashCluster cluster, String nodeId) {
        for (int i = 0; i < cluster.jvms.size(); i++) {
            if (cluster.jvms.get(i).nodeId().equals(nodeId)) {
                return i;
            }
        }
        throw new AssertionError("no mirror " + nodeId);
    }

    /** Pages of the big table on the mirror that holds it (the donors' copies are about as large). */
    private static long tablePages(PgServer s) throws SQLException {
        return CrashCluster.count(s, "SELECT pg_relation_size('tokens') / current_setting('block_size')::bigint");
    }

    /**
     * How far the joiner's load is: 0 once {@code mirror.join_state} says loading, then the share
     * of {@code pages} its {@code mirror.join_table} records as loaded; -1 before the join starts
     * and after it completed (or when the bookkeeping does not exist yet).
     */
    private static double joinProgress(PgServer joiner, long pages) throws SQLException {
        if (!"loading".equals(joinStatus(joiner))) {
            return -1;
        }
        long loaded = CrashCluster.count(joiner, "SELECT coalesce(sum(next_page), 0) FROM mirror.join_table");
        return (double) loaded / pages;
    }

    /** mirror.join_state's status, or null when there is none (yet). */
    private static String joinStatus(PgServer joiner) {
        try (Connection c = joiner.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT status FROM mirror.join_state")) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            return null; // no bookkeeping yet
        }
    }

    private static String joinDescription(PgServer joiner, long pages) {
        StringBuilder sb = new StringBuilder("status ").append(joinStatus(joiner));
        try (Connection c = joiner.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT tbl, next_page, rows_done, done FROM mirror.join_table ORDER BY tbl")) {
            while (rs.next()) {
                sb.append(", ").append(rs.getString(1)).append(" page ").append(rs.getLong(2)).append('/').append(pages)
                        .append(rs.getBoolean(3) ? " rows done" : "").append(rs.getBoolean(4) ? " done" : "");
            }
        } catch (SQLException e) {
            sb.append(", no join_table");
        }
        return sb.toString();
    }

    /** session -> donor, in the order the joiner began them. */
    private static Map<String, String> joinSessions(PgServer joiner) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        try (Connection c = joiner.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT session, donor FROM mirror.join_session ORDER BY began_at")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getString(2));
            }
        }
        return out;
    }
}
