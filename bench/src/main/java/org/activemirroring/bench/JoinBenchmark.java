package org.activemirroring.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.activemirroring.mirror.MirrorConfig;
import org.activemirroring.mirror.MirrorNode;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;

/**
 * How long a new, empty mirror takes to join an existing site: {@code bench/run join [--mb 1024]
 * [--node-heap 512m]}, beside {@code pg_dump | psql} of the same database in the same run.
 *
 * <p>Three servers of the major version of the machine's {@code pg_dump} ({@code bench/run} puts
 * those embedded binaries on the class path; pg_dump refuses a newer server): A holds the site
 * ({@link JoinSite}, about {@code --mb} MiB of tables, loaded before any mirroring), B and C are
 * empty, without any table. First the reference: {@code pg_dump} of A piped into {@code psql} on
 * C, timed from the spawn of the pipeline until it exits (schema, rows, constraints and indexes).
 * Then ours: mirror 1 on A in a JVM of its own ({@code mirror.join=never}: the existing site), and
 * mirror 2 on B started in this JVM, timed from {@code MirrorNode.start} until the node is ready
 * (joined: schema copied, rows and row versions loaded, constraints and indexes built, replay
 * from the snapshot done and capture running). Mirror 2 runs in this JVM so its join progress can
 * be timed chunk by chunk. Both copies are profiled the same way ({@link ActivitySampler}), and
 * checked: B and C must have A's rows (count and digest per table) and A's constraints and indexes.
 */
final class JoinBenchmark {
    private static final Pattern CHUNK = Pattern.compile("joining from \\S+: table \\d+/\\d+ (\\S+), (pages|row versions)");
    private static final Pattern LOADED_MIB = Pattern.compile("(\\d+) MiB loaded");

    private JoinBenchmark() {
    }

    static Map<String, Object> run(int mb, String nodeHeap) throws Exception {
        if (mb < 1) {
            throw new IllegalArgumentException("Invalid value '" + mb + "' for --mb: give the site's size in MiB, at least 1");
        }
        String pgDump = tool("bench.pg_dump", "pg_dump");
        String psql = tool("bench.psql", "psql");
        try (PostgresServers pgs = PostgresServers.start("join", 3)) {
            PgServer a = pgs.get(0);
            PgServer b = pgs.get(1);
            PgServer c = pgs.get(2);
            String serverVersion = checkMajor(a, pgDump);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("kind", "join");
            r.put("mb", mb);
            r.put("server_version", serverVersion);
            r.put("pg_dump", pgDump + " (" + version(pgDump) + ")");

            BenchMain.say("Loading the site on " + a.name() + ": ~" + mb + " MiB of users, posts, comments ...");
            long t0 = System.nanoTime();
            Map<String, Long> rows = JoinSite.create(a, mb);
            long totalRows = rows.values().stream().mapToLong(Long::longValue).sum();
            long[] sizes = JoinSite.sizes(a);
            BenchMain.say(String.format(Locale.ROOT, "  %s rows (%s) in %.1f s: tables %.1f MiB, indexes %.1f MiB",
                    String.format(Locale.ROOT, "%,d", totalRows), rows, secondsSince(t0), sizes[0] / 1048576.0,
                    sizes[1] / 1048576.0));
            r.put("rows", rows);
            r.put("table_bytes", sizes[0]);
            r.put("index_bytes", sizes[1]);
            Map<String, String> expected = JoinSite.digest(a);
            List<String> expectedSchema = JoinSite.schemaObjects(a);

            // A B B A: the copy that runs second pays for the first one's writes still settling
            // on the disk, even after sync (measured: about 20% either way). Each side runs once
            // early and once late, each into an empty database of its own, and the means compare.
            PgServer bAgain = emptyDatabase(b, "join_again");
            PgServer cAgain = emptyDatabase(c, "join_again");
            settle(a, b, c);
            Map<String, Object> ref = pgDumpIntoPsql(pgDump, psql, a, c);
            checkCopy("pg_dump | psql", c, expected, expectedSchema, ref);
            printRate("pg_dump | psql", (double) ref.get("seconds"), totalRows, sizes[0]);
            settle(a, b, c);
            Map<String, Object> ours = join(a, b, nodeHeap);
            checkCopy("ours", b, expected, expectedSchema, ours);
            printRate("ours", (double) ours.get("seconds"), totalRows, sizes[0]);
            settle(a, b, c);
            Map<String, Object> oursAgain = join(a, bAgain, nodeHeap);
            checkCopy("ours, second run", bAgain, expected, expectedSchema, oursAgain);
            printRate("ours, second run", (double) oursAgain.get("seconds"), totalRows, sizes[0]);
            settle(a, b, c);
            Map<String, Object> refAgain = pgDumpIntoPsql(pgDump, psql, a, cAgain);
            checkCopy("pg_dump | psql, second run", cAgain, expected, expectedSchema, refAgain);
            printRate("pg_dump | psql, second run", (double) refAgain.get("seconds"), totalRows, sizes[0]);
            r.put("pgdump", ref);
            r.put("ours", ours);
            r.put("ours_again", oursAgain);
            r.put("pgdump_again", refAgain);
            double pgdumpS = ((double) ref.get("seconds") + (double) refAgain.get("seconds")) / 2;
            double oursS = ((double) ours.get("seconds") + (double) oursAgain.get("seconds")) / 2;
            BenchMain.say(String.format(Locale.ROOT, "  means of two runs each: ours %.2f s, pg_dump | psql %.2f s", oursS,
                    pgdumpS));

            double ratio = oursS / pgdumpS;
            BenchMain.say(String.format(Locale.ROOT, "  ours / pg_dump|psql = %.2f (goal <= 1.0: %s)", ratio,
                    ratio <= 1.0 ? "met" : "not met"));
            boolean equal = Boolean.TRUE.equals(ref.get("rows_equal")) && Boolean.TRUE.equals(ours.get("rows_equal"))
                    && Boolean.TRUE.equals(refAgain.get("rows_equal")) && Boolean.TRUE.equals(oursAgain.get("rows_equal"));
            if (!equal) {
                throw new IllegalStateException("a copy differs from the site: see the digests above; ours "
                        + ours.get("digest") + ", pg_dump " + ref.get("digest") + ", site " + expected);
            }
            r.put("ratio", ratio);
            r.put("RESULT", String.format(Locale.ROOT, "RESULT join ours_s=%.2f pgdump_s=%.2f ratio=%.2f", oursS, pgdumpS, ratio));
            return r;
        }
    }

    /** The reference: {@code pg_dump a | psql c}, plain format, as one pipeline of two processes. */
    private static Map<String, Object> pgDumpIntoPsql(String pgDump, String psql, PgServer a, PgServer c) throws Exception {
        BenchMain.say("Reference: pg_dump " + a.name() + " | psql " + c.name() + " ...");
        checkpoint(a);
        Path err = PostgresServers.workDir().resolve("pgdump-" + System.nanoTime() + ".stderr");
        List<String> cmd = List.of("bash", "-c", "set -o pipefail; \"$0\" --no-password -h \"$2\" -p \"$3\" -U \"$4\" -d \"$5\""
                        + " | \"$1\" -X -q --no-password -v ON_ERROR_STOP=1 -h \"$2\" -p \"$6\" -U \"$4\" -d \"$7\" >/dev/null",
                pgDump, psql, "127.0.0.1", Integer.toString(a.port()), a.user(), a.database(), Integer.toString(c.port()),
                c.database());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
        if (!a.password().isEmpty()) {
            pb.environment().put("PGPASSWORD", a.password());
        }
        long walBefore = walPosition(c);
        ActivitySampler sampler = ActivitySampler.start(a, c);
        long start = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(2, TimeUnit.HOURS)) {
            p.destroyForcibly();
            throw new IllegalStateException("pg_dump | psql did not finish in 2 hours; see " + err);
        }
        double seconds = secondsSince(start);
        Map<String, Object> profile = sampler.finish();
        if (p.exitValue() != 0) {
            throw new IllegalStateException("pg_dump | psql failed (exit " + p.exitValue() + "): " + tail(err));
        }
        BenchMain.say(String.format(Locale.ROOT, "  pg_dump | psql: %.2f s", seconds));
        printProfile(profile);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("seconds", seconds);
        r.put("target_wal_bytes", walPosition(c) - walBefore);
        BenchMain.say(String.format(Locale.ROOT, "    target WAL written: %.1f MiB", (walPosition(c) - walBefore) / 1048576.0));
        r.put("profile", profile);
        return r;
    }

    /** Ours: mirror 1 on A in its own JVM, mirror 2 on the empty B joins, in this JVM, timed until ready. */
    private static Map<String, Object> join(PgServer a, PgServer b, String nodeHeap) throws Exception {
        List<Map<String, String>> settings = BenchMain.mirrorSettings(List.of(a, b));
        Path work = PostgresServers.workDir().resolve("bench-join-" + System.nanoTime());
        String donorId = settings.get(0).get("mirror.node.id");
        BenchMain.say("Ours: starting " + donorId + " on " + a.name() + " (the existing site, mirror.join=never) ...");
        try (MirrorProcess donor = MirrorProcess.start(settings.get(0), work.resolve(donorId), nodeHeap)) {
            MirrorConfig joinerConfig = MirrorConfig.of(settings.get(1));
            BenchMain.say("  " + donorId + " is ready; " + joinerConfig.nodeId() + " on the empty " + b.name()
                    + " joins (chunks of " + joinerConfig.capture().joinChunkPages() + " pages) ...");
            checkpoint(a);
            JoinTimeline timeline = new JoinTimeline();
            long walBefore = walPosition(b);
            ActivitySampler sampler = ActivitySampler.start(a, b);
            var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                    .getOperatingSystemMXBean();
            double donorCpu0 = donor.cpuSeconds();
            long ownCpu0 = os.getProcessCpuTime();
            long start = System.nanoTime();
            timeline.start(start);
            MirrorNode node = MirrorNode.start(joinerConfig, timeline::progress);
            try {
                long started = System.nanoTime();
                long deadline = started + TimeUnit.MINUTES.toNanos(10);
                while (!node.isReady()) {
                    donor.checkAlive();
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException(node.nodeId() + " started but was not ready within 10 minutes: "
                                + node.status().problem());
                    }
                    Thread.sleep(10);
                }
                long ready = System.nanoTime();
                double seconds = (ready - start) / 1e9;
                double donorCpu = donor.cpuSeconds() - donorCpu0;
                double joinerCpu = (os.getProcessCpuTime() - ownCpu0) / 1e9;
                Map<String, Object> profile = sampler.finish();
                BenchMain.say(String.format(Locale.ROOT, "  %s joined and ready: %.2f s", node.nodeId(), seconds));
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("seconds", seconds);
                long wal = walPosition(b) - walBefore;
                r.put("target_wal_bytes", wal);
                BenchMain.say(String.format(Locale.ROOT, "    target WAL written: %.1f MiB", wal / 1048576.0));
                r.put("chunk_pages", joinerConfig.capture().joinChunkPages());
                // The two JVMs' share of the 2 cores; this JVM also ran the activity sampler.
                r.put("donor_jvm_cpu_s", donorCpu);
                r.put("joiner_jvm_cpu_s", joinerCpu);
                BenchMain.say(String.format(Locale.ROOT, "    CPU time: donor JVM %.2f s, joiner JVM (this one) %.2f s",
                        donorCpu, joinerCpu));
                r.putAll(timeline.report(started, ready));
                // Not part of the time: the mirror serves while it validates the copied rows
                // against the foreign keys it enforces from the start.
                while (node.validatingForeignKeys()) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException(node.nodeId() + " still validates foreign keys after 10 minutes");
                    }
                    Thread.sleep(10);
                }
                double validated = (System.nanoTime() - ready) / 1e9;
                r.put("ready_to_foreign_keys_validated_s", validated);
                BenchMain.say(String.format(Locale.ROOT, "    ready -> foreign keys validated   %7.2f s (not timed: the mirror"
                        + " serves meanwhile)", validated));
                r.put("profile", profile);
                printProfile(profile);
                return r;
            } finally {
                sampler.close();
                node.close();
            }
        }
    }

    /**
     * The joiner's progress messages, timed: when the first chunk arrived, how long each table's
     * rows and row versions took, when the last chunk was committed, and the COPY bytes loaded.
     */
    static final class JoinTimeline {
        private final Map<String, double[]> tables = new LinkedHashMap<>();
        private long startNanos;
        private long looking;
        private long firstChunk;
        private long lastChunk;
        private long previous;
        private long mib;
        private int chunks;

        void start(long nanos) {
            startNanos = nanos;
            previous = nanos;
        }

        synchronized void progress(String message) {
            long now = System.nanoTime();
            Matcher m = CHUNK.matcher(message);
            if (m.find()) {
                if (firstChunk == 0) {
                    firstChunk = now;
                }
                chunks++;
                double[] t = tables.computeIfAbsent(m.group(1), k -> new double[2]);
                t[m.group(2).equals("pages") ? 0 : 1] += (now - previous) / 1e9;
                lastChunk = now;
                previous = now;
                Matcher mm = LOADED_MIB.matcher(message);
                if (mm.find()) {
                    mib = Long.parseLong(mm.group(1));
                }
            } else if (!message.startsWith("joining from")) {
                if (looking == 0 && message.startsWith("joining: looking")) {
                    looking = now;
                }
                previous = now;
            }
        }

        synchronized Map<String, Object> report(long started, long ready) {
            Map<String, Object> r = new LinkedHashMap<>();
            double toFirst = firstChunk == 0 ? 0 : (firstChunk - startNanos) / 1e9;
            double loading = lastChunk == 0 ? 0 : (lastChunk - firstChunk) / 1e9;
            double afterLoad = ((lastChunk == 0 ? startNanos : lastChunk) - startNanos) / 1e9;
            double toStarted = (started - startNanos) / 1e9;
            double toReady = (ready - startNanos) / 1e9;
            double toLooking = looking == 0 ? 0 : (looking - startNanos) / 1e9;
            r.put("start_to_looking_for_donor_s", toLooking);
            r.put("start_to_first_chunk_s", toFirst);
            r.put("first_to_last_chunk_s", loading);
            r.put("last_chunk_to_start_returned_s", toStarted - afterLoad);
            r.put("start_returned_to_ready_s", toReady - toStarted);
            r.put("chunks", chunks);
            r.put("copy_mib_loaded", mib);
            Map<String, Object> perTable = new LinkedHashMap<>();
            tables.forEach((t, s) -> perTable.put(t, Map.of("rows_s", s[0], "row_versions_s", s[1])));
            r.put("per_table", perTable);
            BenchMain.say(String.format(Locale.ROOT, "    start -> looking for a donor      %7.2f s (bookkeeping, transport"
                    + " connected, a peer with the data found)", toLooking));
            BenchMain.say(String.format(Locale.ROOT, "    start -> first chunk loaded       %7.2f s (+ donor ready, snapshot begun,"
                    + " schema created, first chunk)", toFirst));
            BenchMain.say(String.format(Locale.ROOT, "    first -> last chunk loaded        %7.2f s (%d chunks, %d MiB of COPY data,"
                    + " %.1f MiB/s)", loading, chunks, mib, loading > 0 ? mib / loading : 0));
            tables.forEach((t, s) -> BenchMain.say(String.format(Locale.ROOT, "      %-28s rows %7.2f s, row versions %.2f s",
                    t, s[0], s[1])));
            BenchMain.say(String.format(Locale.ROOT, "    last chunk -> start() returned    %7.2f s (constraints and indexes,"
                    + " applied vector, replay, capture start)", toStarted - afterLoad));
            BenchMain.say(String.format(Locale.ROOT, "    start() returned -> ready         %7.2f s", toReady - toStarted));
            return r;
        }
    }

    /** Counts, digests, constraints and indexes of a copy against the site's; recorded in {@code r}. */
    private static void checkCopy(String label, PgServer copy, Map<String, String> expected, List<String> expectedSchema,
                                  Map<String, Object> r) throws SQLException {
        Map<String, String> got = JoinSite.digest(copy);
        boolean rowsEqual = got.equals(expected);
        boolean schemaEqual = JoinSite.schemaObjects(copy).equals(expectedSchema);
        r.put("digest", got);
        r.put("rows_equal", rowsEqual);
        r.put("constraints_and_indexes_equal", schemaEqual);
        BenchMain.say("  " + label + ": rows (count:hash per table) " + (rowsEqual ? "equal the site's" : "DIFFER: " + got
                + " vs " + expected) + "; constraints and indexes " + (schemaEqual ? "equal" : "DIFFER"));
        if (!schemaEqual) {
            List<String> missing = new ArrayList<>(expectedSchema);
            missing.removeAll(JoinSite.schemaObjects(copy));
            BenchMain.say("    missing on the copy: " + missing);
        }
    }

    private static void printRate(String label, double seconds, long rows, long bytes) {
        BenchMain.say(String.format(Locale.ROOT, "  %s: %.2f s, %,.0f rows/s, %.1f MiB/s of table data", label, seconds,
                rows / seconds, bytes / 1048576.0 / seconds));
    }

    @SuppressWarnings("unchecked")
    private static void printProfile(Map<String, Object> profile) {
        BenchMain.say("    what the two databases did (pg_stat_activity every " + profile.get("interval_ms") + " ms):");
        ((Map<String, Double>) profile.get("phases_s")).forEach((k, v) ->
                BenchMain.say(String.format(Locale.ROOT, "      %-45s %7.1f s", k, v)));
        BenchMain.say("    active statements [wait event]:");
        ((Map<String, Double>) profile.get("statements_s")).entrySet().stream().limit(14).forEach(e ->
                BenchMain.say(String.format(Locale.ROOT, "      %-70s %7.1f s", e.getKey(), e.getValue())));
    }

    /** The server's WAL insert position in bytes: WAL written between two readings. */
    private static long walPosition(PgServer server) throws SQLException {
        try (Connection c = server.connect(); Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** A new, empty database on {@code server}'s PostgreSQL, for a second copy. */
    private static PgServer emptyDatabase(PgServer server, String name) throws SQLException {
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        return new PgServer(server.name() + "/" + name, server.host(), server.port(), name, server.user(), server.password());
    }

    /**
     * Before each timed copy: checkpoint every server and flush the kernel's dirty pages, so the
     * copy that runs second does not pay for writing back the first one's gigabyte (with fsync=off
     * the servers leave that to the kernel, which then throttles the next writer).
     */
    private static void settle(PgServer... servers) throws Exception {
        for (PgServer s : servers) {
            checkpoint(s);
        }
        Process sync = new ProcessBuilder("sync").inheritIO().start();
        if (sync.waitFor() != 0) {
            throw new IllegalStateException("sync failed with exit code " + sync.exitValue());
        }
    }

    /** So neither copy pays for the other's dirty buffers or the load's. */
    private static void checkpoint(PgServer server) throws SQLException {
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            s.execute("CHECKPOINT");
        }
    }

    /** The servers must be the major of pg_dump: it refuses newer servers, and older ones measure another release. */
    private static String checkMajor(PgServer server, String pgDump) throws Exception {
        String serverVersion;
        int serverMajor;
        try (Connection c = server.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('server_version'), current_setting('server_version_num')::int / 10000")) {
            rs.next();
            serverVersion = rs.getString(1);
            serverMajor = rs.getInt(2);
        }
        String dumpVersion = version(pgDump);
        Matcher m = Pattern.compile("(\\d+)").matcher(dumpVersion.replaceFirst("^[^0-9]*", ""));
        int dumpMajor = m.find() ? Integer.parseInt(m.group(1)) : -1;
        if (dumpMajor != serverMajor) {
            throw new IllegalStateException("The servers are PostgreSQL " + serverVersion + " but " + pgDump + " is '"
                    + dumpVersion + "'; the reference needs the same major. Run through bench/run, which puts the embedded"
                    + " binaries of pg_dump's major on the class path.");
        }
        return serverVersion;
    }

    private static String tool(String property, String name) {
        String path = System.getProperty(property);
        if (path == null || path.isBlank() || !Files.isExecutable(Path.of(path))) {
            throw new IllegalStateException("bench join needs " + name + " (-D" + property + "=<path>, set by bench/run"
                    + " from PATH); got '" + path + "'. Install the PostgreSQL client, e.g. apt-get install postgresql-client");
        }
        return path;
    }

    private static String version(String tool) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        p.waitFor();
        return out;
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }

    private static double secondsSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
