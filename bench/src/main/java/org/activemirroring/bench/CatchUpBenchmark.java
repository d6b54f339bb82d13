package org.activemirroring.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;

import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;

/**
 * How long a mirror that was down takes to catch up: {@code bench/run catchup [--seconds-down 60]
 * [--rate 200] [--mirrors 3] [--stop clean|kill] [--node-heap 512m]}.
 *
 * <p>Every mirror runs in a JVM of its own ({@link MirrorProcess}), because the restarted mirror's
 * start-up (JVM, Debezium engine, joining the network) is part of what a returning mirror costs.
 * Mirror 1 takes single-row commits at a steady rate for the whole run ({@link SteadyWriter}).
 * Mirror 2 stops (cleanly, or killed), stays down for {@code --seconds-down} while mirror 1 keeps
 * committing, then starts again. Its own PostgreSQL server stays up all along: the clock runs from
 * the spawn of its new JVM until its database holds every row mirror 1 had committed at that
 * moment. A row is one ChangeSet, so missed rows are missed ChangeSets; the applied vector
 * ({@code mirror.applied}) is read to check that.
 *
 * <p>Before that, the same outage is run on PostgreSQL's own logical replication (two servers of
 * its own, the subscription disabled and enabled again) as the reference. The goal (issue 5) is
 * absolute, not relative: caught up within {@link #GOAL_SECONDS} of the spawn after 60 s down at
 * 200 commits/s; it is reported, not asserted.
 */
final class CatchUpBenchmark {
    /** The goal of issue 5: caught up within this many seconds of start after 60 s down at 200/s. */
    static final double GOAL_SECONDS = 5.0;
    private static final long FIRST_ID = 3_000_000_000L;
    private static final long POLL_NANOS = 10_000_000L;
    private static final double SAMPLE_SECONDS = 0.25;
    private static final Pattern MILESTONE = Pattern.compile(
            "keeps \\d+ sequence|joined cluster|Caught up|Fetched missing|Delivered .* from the local journal|applied what it missed|Capture started|is replicating");

    private CatchUpBenchmark() {
    }

    static Map<String, Object> run(int mirrors, int secondsDown, int rate, String stopMode, String nodeHeap)
            throws Exception {
        if (!stopMode.equals("clean") && !stopMode.equals("kill")) {
            throw new IllegalArgumentException("Invalid value '" + stopMode + "' for --stop: use clean or kill");
        }
        try (PostgresServers pgs = BenchMain.startServers(mirrors + 2)) {
            PgServer pub = pgs.servers().get(mirrors);
            PgServer sub = pgs.servers().get(mirrors + 1);
            Map<String, Object> nat = nativeCatchUp(pub, sub, rate, secondsDown);
            List<PgServer> servers = pgs.servers().subList(0, mirrors);
            PgServer target = servers.get(1);
            List<Map<String, String>> settings = BenchMain.mirrorSettings(servers);
            String origin = settings.get(0).get("mirror.node.id");
            // Mirror 2 keeps its replication slot across the restart, as a production mirror does; its
            // second life drops it on the final stop so the run leaves nothing behind.
            Map<String, String> firstLife = new LinkedHashMap<>(settings.get(1));
            firstLife.put("mirror.capture.slot.drop-on-stop", "false");
            Path work = PostgresServers.workDir().resolve("bench-catchup-" + System.nanoTime());
            List<MirrorProcess> procs = new ArrayList<>();
            try {
                for (int i = 0; i < mirrors; i++) {
                    Map<String, String> s = i == 1 ? firstLife : settings.get(i);
                    procs.add(MirrorProcess.start(s, work.resolve(s.get("mirror.node.id")), nodeHeap));
                }
                BenchMain.awaitWarmUp(servers);
                try (SteadyWriter writer = SteadyWriter.start(servers.get(0), rate, FIRST_ID)) {
                    BenchMain.say("Writing " + rate + " commits/s on " + origin + "; 3 s with every mirror up ...");
                    sleepWatching(3.0, writer, procs);

                    MirrorProcess down = procs.get(1);
                    BenchMain.say("Stopping " + down.nodeId() + " (" + stopMode + ") ...");
                    if (stopMode.equals("kill")) {
                        down.kill();
                    } else {
                        down.close();
                    }
                    Progress atStop = Progress.read(target, origin);
                    long lastSeen = Math.max(atStop.maxId(), FIRST_ID - 1);
                    BenchMain.say("  " + down.nodeId() + " is down, its last row " + (lastSeen - FIRST_ID + 1)
                            + ", applied seq of " + origin + " " + atStop.appliedSeq() + "; down for " + secondsDown + " s ...");
                    List<MirrorProcess> up = new ArrayList<>(procs);
                    up.remove(1);
                    sleepWatching(secondsDown, writer, up);

                    long committed = writer.lastCommittedId();
                    long missed = committed - lastSeen;
                    CatchUpWatch watch = CatchUpWatch.start(target, origin, lastSeen, committed);
                    BenchMain.say("Restarting " + down.nodeId() + "; it missed " + missed + " ChangeSets ...");
                    MirrorProcess restarted = MirrorProcess.start(settings.get(1),
                            work.resolve(down.nodeId() + "-restarted"), nodeHeap, restartedJvmOptions());
                    procs.set(1, restarted);
                    long deadline = System.nanoTime() + Math.max(120L, 10L * secondsDown) * 1_000_000_000L;
                    while (!watch.done()) {
                        if (System.nanoTime() > deadline) {
                            throw new IllegalStateException(restarted.nodeId() + " did not catch up: "
                                    + watch.applied() + " of " + missed + " missed ChangeSets applied; see "
                                    + work.resolve(restarted.nodeId() + "-restarted").resolve("stderr.log"));
                        }
                        procs.forEach(MirrorProcess::checkAlive);
                        writer.checkAlive();
                        watch.checkAlive();
                        LockSupport.parkNanos(50_000_000L);
                    }
                    long achievedRows = writer.lastCommittedId() - FIRST_ID + 1;
                    double writerSeconds = writer.secondsWriting();
                    writer.close();
                    Map<String, Object> r = report(origin, mirrors, secondsDown, rate, stopMode, atStop, missed, restarted,
                            watch, target, committed, achievedRows / writerSeconds,
                            work.resolve(restarted.nodeId() + "-restarted").resolve("stderr.log"));
                    r.put("native", nat);
                    BenchMain.say(String.format(Locale.ROOT, "  native logical replication, same outage: caught up %.2f s"
                            + " after ENABLE", (double) nat.get("enable_to_caught_up_s")));
                    r.put("RESULT", r.remove("RESULT")); // stays the last entry
                    return r;
                }
            } finally {
                for (MirrorProcess p : procs) {
                    p.close();
                }
            }
        }
    }

    private static Map<String, Object> report(String origin, int mirrors, int secondsDown, int rate, String stopMode,
                                              Progress atStop, long missed, MirrorProcess restarted,
                                              CatchUpWatch watch, PgServer target, long committed,
                                              double writerRate, Path log) throws SQLException {
        long spawned = restarted.spawnedAtNanos();
        double seconds = (watch.caughtUpAtNanos() - spawned) / 1e9;
        double ready = (restarted.readyAtNanos() - spawned) / 1e9;
        double firstApplied = (watch.firstAppliedAtNanos() - spawned) / 1e9;
        double applySeconds = (watch.caughtUpAtNanos() - watch.firstAppliedAtNanos()) / 1e9;
        // Each commit of the writer is one ChangeSet: the applied vector must have moved by as many.
        Progress atCatchUp = watch.atCatchUp();
        long rowsPresent = countRange(target, FIRST_ID, committed);
        boolean oneToOne = atCatchUp.appliedSeq() - atStop.appliedSeq() == atCatchUp.maxId() - Math.max(atStop.maxId(), FIRST_ID - 1)
                && rowsPresent == committed - FIRST_ID + 1;
        BenchMain.say(String.format(Locale.ROOT, "  spawn -> READY          %.2f s", ready));
        BenchMain.say(String.format(Locale.ROOT, "  spawn -> first applied  %.2f s", firstApplied));
        BenchMain.say(String.format(Locale.ROOT, "  first applied -> caught up %.2f s (%,.0f ChangeSets/s)", applySeconds,
                applySeconds > 0 ? missed / applySeconds : Double.POSITIVE_INFINITY));
        BenchMain.say(String.format(Locale.ROOT, "  READY -> caught up      %.2f s", seconds - ready));
        BenchMain.say(String.format(Locale.ROOT, "  spawn -> caught up      %.2f s (goal %.0f s: %s)", seconds, GOAL_SECONDS,
                seconds <= GOAL_SECONDS ? "met" : "not met"));
        BenchMain.say("  progress (s since spawn: ChangeSets applied): " + watch.samples());
        BenchMain.say(String.format(Locale.ROOT, "  writer held %.1f commits/s; applied seq of %s %d -> %d; one ChangeSet per row: %s",
                writerRate, origin, atStop.appliedSeq(), atCatchUp.appliedSeq(), oneToOne ? "yes" : "NO"));
        List<String> milestones = milestones(log, spawned);
        milestones.forEach(m -> BenchMain.say("  " + m));
        BenchMain.say("  the restarted mirror's log (catch-up at INFO): " + log);

        Map<String, Object> r = new LinkedHashMap<>();
        r.put("kind", "catchup");
        r.put("mirrors", mirrors);
        r.put("rate", rate);
        r.put("writer_rate", writerRate);
        r.put("seconds_down", secondsDown);
        r.put("stop", stopMode);
        r.put("missed", missed);
        r.put("applied_seq_at_stop", atStop.appliedSeq());
        r.put("applied_seq_at_catch_up", atCatchUp.appliedSeq());
        r.put("one_changeset_per_row", oneToOne);
        r.put("spawn_to_ready_s", ready);
        r.put("spawn_to_first_applied_s", firstApplied);
        r.put("first_applied_to_caught_up_s", applySeconds);
        r.put("ready_to_caught_up_s", seconds - ready);
        r.put("spawn_to_caught_up_s", seconds);
        r.put("goal_s", GOAL_SECONDS);
        r.put("progress", watch.samples());
        r.put("restarted_log_milestones", milestones);
        r.put("RESULT", String.format(Locale.ROOT, "RESULT catchup missed=%d seconds=%.2f", missed, seconds));
        return r;
    }

    /**
     * The reference, run first on two servers of its own: PostgreSQL's logical replication with the
     * subscription disabled for as long and enabled again (no process to start: its apply worker
     * starts on ENABLE), timed from ENABLE until the subscriber holds every row committed by then.
     */
    private static Map<String, Object> nativeCatchUp(PgServer pub, PgServer sub, int rate, int secondsDown)
            throws Exception {
        NativeReplication.connect(pub, sub, "bench_lag");
        try (SteadyWriter writer = SteadyWriter.start(pub, rate, FIRST_ID)) {
            BenchMain.say("Native logical replication: " + rate + " commits/s, subscription disabled for "
                    + secondsDown + " s ...");
            sleepWatching(3.0, writer, List.of());
            NativeReplication.setEnabled(sub, false);
            long lastSeen = Math.max(Progress.read(sub, null).maxId(), FIRST_ID - 1);
            sleepWatching(secondsDown, writer, List.of());
            long committed = writer.lastCommittedId();
            CatchUpWatch watch = CatchUpWatch.start(sub, null, lastSeen, committed);
            long enabledAt = System.nanoTime();
            NativeReplication.setEnabled(sub, true);
            long deadline = enabledAt + Math.max(120L, 10L * secondsDown) * 1_000_000_000L;
            while (!watch.done()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("native replication did not catch up: " + watch.applied() + " of "
                            + (committed - lastSeen) + " missed rows applied");
                }
                writer.checkAlive();
                watch.checkAlive();
                LockSupport.parkNanos(50_000_000L);
            }
            double seconds = (watch.caughtUpAtNanos() - enabledAt) / 1e9;
            double firstApplied = (watch.firstAppliedAtNanos() - enabledAt) / 1e9;
            long missed = committed - lastSeen;
            BenchMain.say(String.format(Locale.ROOT,
                    "  native missed %d commits; ENABLE -> first applied %.2f s, -> caught up %.2f s (%,.0f commits/s from ENABLE)",
                    missed, firstApplied, seconds, missed / seconds));
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("missed", missed);
            r.put("enable_to_first_applied_s", firstApplied);
            r.put("enable_to_caught_up_s", seconds);
            return r;
        } finally {
            NativeReplication.disconnect(sub);
        }
    }

    /** The restarted mirror logs at INFO with times (catch-up logs each fetch). */
    private static List<String> restartedJvmOptions() {
        return List.of("-Dorg.slf4j.simpleLogger.log.org.activemirroring=info",
                "-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS");
    }

    /** Log lines of the restarted mirror that mark its start-up and catch-up, as seconds since spawn. */
    private static List<String> milestones(Path log, long spawnedAtNanos) {
        LocalTime spawnWall = LocalTime.now().minusNanos(System.nanoTime() - spawnedAtNanos);
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(log)) {
                if (line.length() > 13 && MILESTONE.matcher(line).find()) {
                    double at = Duration.between(spawnWall, LocalTime.parse(line.substring(0, 12))).toMillis() / 1000.0;
                    String what = line.substring(line.indexOf(" - ") + 3);
                    out.add(String.format(Locale.ROOT, "+%.2f s %s", at, what));
                }
            }
        } catch (IOException | RuntimeException e) {
            out.add("(cannot read " + log + ": " + e + ")");
        }
        return out;
    }

    /** Sleeps, failing at once if the writer or a mirror process dies meanwhile. */
    private static void sleepWatching(double seconds, SteadyWriter writer, List<MirrorProcess> procs) {
        long until = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < until) {
            writer.checkAlive();
            procs.forEach(MirrorProcess::checkAlive);
            LockSupport.parkNanos(Math.min(100_000_000L, Math.max(0, until - System.nanoTime())));
        }
    }

    private static long countRange(PgServer server, long from, long to) throws SQLException {
        try (Connection c = server.connect();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM bench_lag WHERE id BETWEEN ? AND ?")) {
            ps.setLong(1, from);
            ps.setLong(2, to);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /**
     * Where a mirror's database is, read in one snapshot: the highest writer row (rows arrive in
     * commit order, so it says how far it got) and the applied seq of the origin.
     */
    record Progress(long maxId, long appliedSeq) {
        static Progress read(PgServer server, String origin) throws SQLException {
            try (Connection c = server.connect()) {
                return read(c, origin);
            }
        }

        static Progress read(Connection c, String origin) throws SQLException {
            // origin null: a server without the mirror schema (the native reference); appliedSeq is 0.
            try (PreparedStatement ps = c.prepareStatement("SELECT (SELECT max(id) FROM bench_lag WHERE id >= ?),"
                    + (origin == null ? " 0" : " (SELECT applied_seq FROM mirror.applied WHERE origin = ?)"))) {
                ps.setLong(1, FIRST_ID);
                if (origin != null) {
                    ps.setString(2, origin);
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return new Progress(rs.getLong(1), rs.getLong(2));
                }
            }
        }
    }

    /**
     * Polls the returning mirror's database every 10 ms on its own thread (the database stays up
     * while the mirror is down) and notes when the first missed row and the last one arrive. It
     * starts just before the mirror's JVM is spawned; its samples are seconds since then.
     */
    static final class CatchUpWatch {
        private final PgServer server;
        private final String origin;
        private final long lastSeen;
        private final long target;
        private final Thread thread;
        private final long startNanos = System.nanoTime();
        private final Map<Double, Long> samples = new LinkedHashMap<>();
        private volatile long applied;
        private volatile long firstAppliedAt;
        private volatile long caughtUpAt;
        private volatile Progress atCatchUp;
        private volatile Exception failure;

        private CatchUpWatch(PgServer server, String origin, long lastSeen, long target) {
            this.server = server;
            this.origin = origin;
            this.lastSeen = lastSeen;
            this.target = target;
            this.thread = new Thread(this::poll, "bench-catchup-watch");
            this.thread.setDaemon(true);
        }

        static CatchUpWatch start(PgServer server, String origin, long lastSeen, long target) {
            CatchUpWatch w = new CatchUpWatch(server, origin, lastSeen, target);
            w.thread.start();
            return w;
        }

        private void poll() {
            try (Connection c = server.connect();
                 PreparedStatement ps = c.prepareStatement("SELECT max(id) FROM bench_lag WHERE id >= ?")) {
                ps.setLong(1, FIRST_ID);
                double nextSample = 0;
                while (true) {
                    long max;
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        max = rs.getLong(1);
                    }
                    long now = System.nanoTime();
                    applied = Math.max(0, Math.min(max, target) - lastSeen);
                    if (applied > 0 && firstAppliedAt == 0) {
                        firstAppliedAt = now;
                    }
                    double t = (now - startNanos) / 1e9;
                    if (t >= nextSample) {
                        synchronized (samples) {
                            samples.put(Math.round(t * 100) / 100.0, applied);
                        }
                        nextSample += SAMPLE_SECONDS;
                    }
                    if (max >= target) {
                        atCatchUp = Progress.read(c, origin);
                        caughtUpAt = now;
                        return;
                    }
                    LockSupport.parkNanos(POLL_NANOS);
                }
            } catch (SQLException | RuntimeException e) {
                failure = e;
            }
        }

        boolean done() {
            return caughtUpAt != 0;
        }

        void checkAlive() {
            if (failure != null) {
                throw new IllegalStateException("watching " + server.name() + " failed: " + failure.getMessage(), failure);
            }
        }

        long applied() {
            return applied;
        }

        long firstAppliedAtNanos() {
            return firstAppliedAt;
        }

        long caughtUpAtNanos() {
            return caughtUpAt;
        }

        Progress atCatchUp() {
            return atCatchUp;
        }

        Map<Double, Long> samples() {
            synchronized (samples) {
                return new LinkedHashMap<>(samples);
            }
        }
    }
}
