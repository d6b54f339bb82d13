package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;

/**
 * The fixture of the process-level crash tests ({@link CrashRecoveryIT}, {@link JoinCrashIT}):
 * one PostgreSQL server and one mirror JVM ({@link MirrorJvm}) per site, a {@link SiteWriter} per
 * site writing on its own thread, and the end checks once the writers stop. Closing stops all of
 * them, also after a failure.
 *
 * <p>Mirrors and writers start when the test says so ({@link #startWriter}), so a test can start
 * some sites first and let another join later.
 */
final class CrashCluster implements AutoCloseable {
    static final Duration READY = Duration.ofSeconds(120);
    static final Duration CONVERGE = Duration.ofSeconds(120);

    final int sites;
    final PostgresServers pgs;
    final List<PgServer> servers;
    final List<MirrorJvm> jvms = new ArrayList<>();
    /** Per site; null until {@link #startWriter} ran for it. */
    final List<SiteWriter> writers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final long seed;
    private final long writePauseMs;

    private CrashCluster(PostgresServers pgs, int sites, long seed, long writePauseMs) {
        this.pgs = pgs;
        this.servers = pgs.servers();
        this.sites = sites;
        this.seed = seed;
        this.writePauseMs = writePauseMs;
        for (int i = 0; i < sites; i++) {
            writers.add(null);
        }
    }

    /** The fault schedule's seed: from {@code -Dcrash.seed}, else new; printed so a run can be repeated. */
    static long seed(String test) {
        long seed = Long.getLong("crash.seed", System.nanoTime());
        System.out.println(test + ": seed " + seed + " (repeat with -Dcrash.seed=" + seed + ")");
        return seed;
    }

    /** The fault schedule's random delay before a kill or a restart; not a wait for replication. */
    static void faultDelay(long ms) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ms));
    }

    /**
     * Starts the servers and prepares (does not start) one mirror JVM per site, with the settings
     * of {@link MirrorSettings#forServers} plus {@code extra.apply(site index)}.
     */
    static CrashCluster create(String label, int sites, long seed, long writePauseMs,
                               IntFunction<Map<String, String>> extra) throws Exception {
        CrashCluster c = new CrashCluster(PostgresServers.start(label, sites), sites, seed, writePauseMs);
        try {
            List<Map<String, String>> all = MirrorSettings.forServers(label, c.servers);
            for (int i = 0; i < sites; i++) {
                Map<String, String> settings = new LinkedHashMap<>(all.get(i));
                settings.putAll(extra.apply(i));
                Path dir = Path.of(settings.get("mirror.data.dir")).resolveSibling(settings.get("mirror.node.id") + "-jvm");
                c.jvms.add(new MirrorJvm(settings, dir));
            }
            return c;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    /** Starts site {@code i}'s writer (seeded with the cluster's seed + i) on a thread of its own. */
    void startWriter(int i) {
        if (writers.get(i) != null) {
            throw new IllegalStateException("site " + (i + 1) + " already writes");
        }
        SiteWriter w = new SiteWriter(servers.get(i), i + 1, sites, seed + i, writePauseMs);
        writers.set(i, w);
        Thread t = new Thread(w, "writer-site-" + (i + 1));
        threads.add(t);
        t.start();
    }

    void assertWritersRunning() {
        for (SiteWriter w : writers) {
            if (w != null && w.failure() != null) {
                throw new AssertionError("a site writer failed", w.failure());
            }
        }
    }

    /**
     * Stops the writers (each commits one last transaction), waits until all mirrors converged, and
     * checks: equal digests, every committed write everywhere, each origin's ChangeSets applied
     * exactly once per peer (apply_count == applied_seq == the origin's committed transactions),
     * no echo, row versions consistent with the rows, no conflicts. Every site must have written.
     */
    void stopWritersAndCheck() throws Exception {
        for (int i = 0; i < sites; i++) {
            assertNotNull(writers.get(i), "site " + (i + 1) + " never wrote: the end checks count on every site's writes");
        }
        writers.forEach(SiteWriter::stop);
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(120));
            assertFalse(t.isAlive(), t.getName() + " did not stop");
        }
        for (SiteWriter w : writers) {
            assertNull(w.failure(), () -> "writer failed: " + w.failure());
        }
        long t0 = System.nanoTime();
        // Quiet when every mirror applied as many ChangeSets of each origin as that site
        // committed transactions, and all hold the same rows: then each writer's last
        // transaction, which capture reads after every earlier one, arrived everywhere.
        Await.until(CONVERGE, () -> allApplied() && allDigestsEqual(), this::describe);
        System.out.printf("converged %d ms after the writers stopped; committed %s, in doubt %s, deleted %s%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
                writers.stream().map(SiteWriter::committed).toList(),
                writers.stream().map(SiteWriter::inDoubt).toList(),
                writers.stream().map(SiteWriter::deletedCount).toList());

        for (int m = 0; m < sites; m++) {
            Map<String, long[]> applied = SiteSchema.appliedTable(servers.get(m));
            String self = jvms.get(m).nodeId();
            assertFalse(applied.containsKey(self), self + " applied its own ChangeSets (an echo)");
            for (int o = 0; o < sites; o++) {
                if (o == m) {
                    continue;
                }
                long[] row = applied.get(jvms.get(o).nodeId());
                String where = self + " from " + jvms.get(o).nodeId();
                assertEquals(writers.get(o).committed(), row[0], "applied_seq " + where + " != transactions committed"
                        + " on " + jvms.get(o).nodeId() + "'s site: its journal holds a ChangeSet twice or one too many");
                assertEquals(row[0], row[1], "apply_count " + where + " != applied_seq: a ChangeSet applied twice or skipped");
            }
        }
        for (SiteWriter w : writers) {
            for (PgServer s : servers) {
                List<String> problems = w.missingOn(s);
                assertTrue(problems.isEmpty(), s.name() + ": " + problems);
            }
        }
        for (int m = 0; m < sites; m++) {
            PgServer s = servers.get(m);
            String id = jvms.get(m).nodeId();
            // One query per table: an OR of the two NOT EXISTS turns the anti-joins into a scan of
            // the table per row version (44 s with JoinCrashIT's 40,000 seeded tokens).
            for (String table : List.of("tokens", "counters")) {
                assertEquals(0, count(s, "SELECT count(*) FROM mirror.row_version v WHERE NOT v.deleted AND v.tbl = 'public."
                        + table + "' AND NOT EXISTS (SELECT 1 FROM " + table + " t WHERE v.pk = '[\"' || t.id || '\"]')"),
                        id + ": live row versions of " + table + " without a row");
            }
            assertEquals(0, count(s, "SELECT count(*) FROM mirror.row_version v WHERE v.deleted AND v.tbl = 'public.tokens'"
                    + " AND EXISTS (SELECT 1 FROM tokens t WHERE v.pk = '[\"' || t.id || '\"]')"),
                    id + ": tombstones of rows that exist");
            assertEquals(0, count(s, "SELECT count(*) FROM mirror.conflict"), () -> id
                    + ": conflicts although every site writes only its own keys: " + conflicts(s));
        }
    }

    private boolean allApplied() throws SQLException {
        for (int m = 0; m < sites; m++) {
            Map<String, long[]> applied = SiteSchema.appliedTable(servers.get(m));
            for (int o = 0; o < sites; o++) {
                long[] row = applied.get(jvms.get(o).nodeId());
                if (o != m && (row == null || row[0] < writers.get(o).committed())) {
                    return false;
                }
            }
        }
        return true;
    }

    private boolean allDigestsEqual() throws SQLException {
        String first = digest(servers.get(0));
        for (int m = 1; m < sites; m++) {
            if (!first.equals(digest(servers.get(m)))) {
                return false;
            }
        }
        return true;
    }

    String describe() {
        StringBuilder sb = new StringBuilder("committed per site "
                + writers.stream().map(w -> w == null ? "-" : Long.toString(w.committed())).toList());
        for (int m = 0; m < sites; m++) {
            sb.append("; ").append(jvms.get(m).nodeId()).append(jvms.get(m).isAlive() ? "" : " (NOT RUNNING)");
            try {
                Map<String, long[]> applied = SiteSchema.appliedTable(servers.get(m));
                applied.forEach((o, r) -> sb.append(' ').append(o).append('=').append(r[0]).append('/').append(r[1]));
                sb.append(' ').append(digest(servers.get(m)));
            } catch (SQLException e) {
                sb.append(' ').append(e.getMessage());
            }
            sb.append("; log ").append(jvms.get(m).log());
        }
        return sb.toString();
    }

    /** Row count and md5 over every row of the crash tests' two tables. */
    static String digest(PgServer s) throws SQLException {
        StringBuilder sb = new StringBuilder();
        try (Connection c = s.connect(); Statement st = c.createStatement()) {
            for (String table : List.of("tokens", "counters")) {
                try (ResultSet rs = st.executeQuery("SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY id), ''))"
                        + " FROM " + table + " t")) {
                    rs.next();
                    sb.append(table).append(':').append(rs.getLong(1)).append(':').append(rs.getString(2)).append(' ');
                }
            }
        }
        return sb.toString().strip();
    }

    static long count(PgServer s, String sql) throws SQLException {
        try (Connection c = s.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String conflicts(PgServer s) {
        Map<Long, String> out = new LinkedHashMap<>();
        try (Connection c = s.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, kind || ' ' || tbl || ' ' || row_key || ' loser ' || loser_origin"
                     + " || ' ' || loser_op || ' clock ' || loser_clock || ' seq ' || loser_seq || ' row ' || coalesce(loser_row::text, '-')"
                     + " || ' winner ' || winner_origin || ' clock ' || winner_clock || ' row ' || coalesce(winner_row::text, '-')"
                     + " || ' at ' || detected_at FROM mirror.conflict ORDER BY id LIMIT 20")) {
            while (rs.next()) {
                out.put(rs.getLong(1), rs.getString(2));
            }
        } catch (SQLException e) {
            return e.toString();
        }
        return out.toString();
    }

    /** Stops writers, mirror JVMs (STOP, else SIGKILL) and servers, whatever failed before. */
    @Override
    public void close() {
        writers.stream().filter(w -> w != null).forEach(SiteWriter::stop);
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (MirrorJvm jvm : jvms) {
            try {
                jvm.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        pgs.close();
    }
}
