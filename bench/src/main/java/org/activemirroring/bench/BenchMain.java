package org.activemirroring.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.activemirroring.mirror.MirrorConfig;
import org.activemirroring.mirror.MirrorNode;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;

/**
 * Entry point of {@code bench/run}: {@code lag|throughput|catchup|join|idle|apply|files|filter|flood [--seconds N] [--rate R]
 * [--mirrors M] [--rows N] [--warmup-rows N] [--seconds-down N] [--stop clean|kill] [--node-heap 512m] [--results DIR]}.
 * Everything runs on this machine against embedded PostgreSQL servers, and each number of ours is
 * printed beside the reference measured in the same run ({@link CatchUpBenchmark} for catchup).
 */
public final class BenchMain {
    static final String USAGE = "usage: bench/run lag|throughput|catchup|join|idle|apply|files|filter|flood [--seconds N] [--rate R]"
            + " [--mirrors M] [--rows N] [--warmup-rows N] [--seconds-down N] [--stop clean|kill] [--node-heap 512m] [--mb N]"
            + " [--file-kb N] [--scan-files N] [--clients N] [--block-seconds N] [--heap-seconds N]";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parse(args);
        String kind = opts.get("kind");
        int mirrors = Integer.parseInt(opts.getOrDefault("mirrors", "3"));
        if (mirrors < 2) {
            throw new IllegalArgumentException("--mirrors must be at least 2 (one writes, the others receive)");
        }
        Map<String, Object> result = switch (kind) {
            case "lag" -> lag(mirrors, Integer.parseInt(opts.getOrDefault("seconds", "30")),
                    Integer.parseInt(opts.getOrDefault("rate", "200")));
            case "throughput" -> {
                int rows = Integer.parseInt(opts.getOrDefault("rows", "200000"));
                yield throughput(mirrors, rows, Integer.parseInt(opts.getOrDefault("warmup-rows", Integer.toString(rows / 5))),
                        opts.getOrDefault("node-heap", "512m"));
            }
            case "catchup" -> CatchUpBenchmark.run(mirrors, Integer.parseInt(opts.getOrDefault("seconds-down", "60")),
                    Integer.parseInt(opts.getOrDefault("rate", "200")), opts.getOrDefault("stop", "clean"),
                    opts.getOrDefault("node-heap", "512m"));
            case "idle" -> IdleBenchmark.run(Integer.parseInt(opts.getOrDefault("mirrors", "2")),
                    Integer.parseInt(opts.getOrDefault("seconds", "20")));
            case "apply" -> ApplyBenchmark.run(Integer.parseInt(opts.getOrDefault("rows", "4000")),
                    Integer.parseInt(opts.getOrDefault("tx-rows", "1")));
            case "join" -> JoinBenchmark.run(Integer.parseInt(opts.getOrDefault("mb", "1024")),
                    opts.getOrDefault("node-heap", "512m"));
            case "files" -> FilesBenchmark.run(Integer.parseInt(opts.getOrDefault("mb", "1024")),
                    Integer.parseInt(opts.getOrDefault("file-kb", "1024")),
                    Integer.parseInt(opts.getOrDefault("scan-files", "100000")));
            case "filter" -> FilterBenchmark.run(Integer.parseInt(opts.getOrDefault("seconds", "20")),
                    Integer.parseInt(opts.getOrDefault("clients", "8")),
                    Integer.parseInt(opts.getOrDefault("block-seconds", "2")),
                    Integer.parseInt(opts.getOrDefault("heap-seconds", "30")),
                    Integer.parseInt(opts.getOrDefault("rate", "200")));
            case "flood" -> FloodBenchmark.run(Integer.parseInt(opts.getOrDefault("seconds", "20")),
                    Integer.parseInt(opts.getOrDefault("clients", "10")),
                    Integer.parseInt(opts.getOrDefault("rate", "4")));
            default -> throw new IllegalArgumentException("Unknown benchmark '" + kind
                    + "': use lag, throughput, catchup, join, idle, apply, files, filter or flood");
        };
        writeResults(Path.of(opts.getOrDefault("results", "bench/results")), kind, result);
        System.out.println(result.get("RESULT"));
        System.exit(0);
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> m = new LinkedHashMap<>();
        if (args.length == 0) {
            throw new IllegalArgumentException(USAGE);
        }
        m.put("kind", args[0]);
        for (int i = 1; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("Invalid argument '" + args[i] + "': options are --name value");
            }
            m.put(args[i].substring(2), args[++i]);
        }
        return m;
    }

    private static Map<String, Object> lag(int mirrors, int seconds, int rate) throws Exception {
        try (PostgresServers pgs = startServers(mirrors + 2)) {
            List<PgServer> all = pgs.servers();
            PgServer pub = all.get(mirrors);
            PgServer sub = all.get(mirrors + 1);
            NativeReplication.connect(pub, sub, "bench_lag", "bench_rows");
            List<MirrorNode> nodes = startMirrors(all.subList(0, mirrors));
            try {
                say("Warming up (2 s each) ...");
                LagProbe.run(pub, sub, rate, 2, 900_000_000L);
                LagProbe.run(all.get(0), all.get(1), rate, 2, 910_000_000L);

                say("Native logical replication: " + seconds + " s at " + rate + " commits/s ...");
                LagProbe.Result nat = LagProbe.run(pub, sub, rate, seconds, 1_000_000_000L);
                say("  native " + nat.stats().summary() + " missing=" + nat.missing());

                say("ActiveMirroring, " + mirrors + " mirrors: " + seconds + " s at " + rate + " commits/s ...");
                StageBreakdown stages = new StageBreakdown(nodes.get(0).nodeId(), nodes.get(1).nodeId());
                nodes.get(0).observe(stages.atOrigin(), null);
                nodes.get(1).observe(stages.atReceiver(), stages.applied());
                LagProbe.Result ours = LagProbe.run(all.get(0), all.get(1), rate, seconds, 2_000_000_000L);
                say("  ours   " + ours.stats().summary() + " missing=" + ours.missing());
                List<String> breakdown = stages.report(ours);
                breakdown.forEach(BenchMain::say);

                Map<String, Object> r = new LinkedHashMap<>();
                r.put("kind", "lag");
                r.put("mirrors", mirrors);
                r.put("seconds", seconds);
                r.put("rate", rate);
                r.put("ours", stats(ours));
                r.put("native", stats(nat));
                r.put("ours_stage_breakdown", breakdown);
                double ratio50 = ours.stats().percentileMs(50) / nat.stats().percentileMs(50);
                double ratio99 = ours.stats().percentileMs(99) / nat.stats().percentileMs(99);
                r.put("RESULT", String.format(Locale.ROOT,
                        "RESULT lag ours_p50_ms=%.2f ours_p99_ms=%.2f native_p50_ms=%.2f native_p99_ms=%.2f ratio_p50=%.2f ratio_p99=%.2f",
                        ours.stats().percentileMs(50), ours.stats().percentileMs(99), nat.stats().percentileMs(50),
                        nat.stats().percentileMs(99), ratio50, ratio99));
                return r;
            } finally {
                closeAll(nodes);
                NativeReplication.disconnect(sub);
            }
        }
    }

    /**
     * Each system (raw capture, native, ours) carries, in each mode, first {@code warmupRows} rows
     * untimed, then the timed {@code rows}. Without it the mirror JVMs, started just before, spent
     * a third of the machine's CPU in the JIT compiler during the timed runs (perf: C2 compiler
     * threads 37% of all samples; ~25 s of compile time per mirror JVM), which a long-running
     * mirror paid once, long ago.
     */
    private static Map<String, Object> throughput(int mirrors, int rows, int warmupRows, String nodeHeap) throws Exception {
        if (warmupRows < 0) {
            throw new IllegalArgumentException("--warmup-rows must be 0 or more, was " + warmupRows);
        }
        try (PostgresServers pgs = startServers(mirrors + 3)) {
            List<PgServer> all = pgs.servers();
            PgServer pub = all.get(mirrors);
            PgServer sub = all.get(mirrors + 1);
            PgServer raw = all.get(mirrors + 2);
            NativeReplication.connect(pub, sub, "bench_lag", "bench_rows");
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("kind", "throughput");
            r.put("mirrors", mirrors);
            r.put("rows", rows);
            r.put("warmup_rows", warmupRows);
            Map<String, Double> rates = new LinkedHashMap<>();
            Map<String, Double> warmRates = new LinkedHashMap<>();
            Map<String, CpuMeter.Usage> cpu = new LinkedHashMap<>();
            CpuMeter meter = new CpuMeter().self("bench JVM (load, probes, raw capture's engine)")
                    .postgres("raw capture PostgreSQL", raw).postgres("native publisher PostgreSQL", pub)
                    .postgres("native subscriber PostgreSQL", sub);
            for (int m = 0; m < mirrors; m++) {
                meter.postgres("mirror " + (m + 1) + " PostgreSQL", all.get(m));
            }
            long[] base = {0};
            try (RawCapture capture = new RawCapture(raw, "bench_rows")) {
                capture.start();
                runPasses("raw capture", "capture", raw, passes(warmupRows, rows), base, rates, warmRates, meter, cpu,
                        (from, n) -> {
                    long captured = capture.rowEvents();
                    LongSupplier seen = () -> capture.rowEvents() - captured;
                    return new Arrival() {
                        @Override
                        public boolean complete() {
                            return seen.getAsLong() >= n;
                        }

                        @Override
                        public long count() {
                            return seen.getAsLong();
                        }
                    };
                });
            }
            runPasses("native", "native", pub, passes(warmupRows, rows), base, rates, warmRates, meter, cpu,
                    (from, n) -> new LastRowArrival(List.of(sub), from, n, () -> { }));
            // Each mirror in its own JVM with its own heap limit, so its heap is measured alone.
            List<MirrorProcess> procs = new ArrayList<>();
            long heapPeak = 0;
            try {
                Path work = PostgresServers.workDir().resolve("bench-procs-" + System.nanoTime());
                for (Map<String, String> settings : mirrorSettings(all.subList(0, mirrors))) {
                    procs.add(MirrorProcess.start(settings, work.resolve(settings.get("mirror.node.id")), nodeHeap));
                    meter.process("mirror " + procs.size() + " JVM", procs.get(procs.size() - 1).pid());
                }
                awaitWarmUp(all.subList(0, mirrors));
                List<PgServer> targets = all.subList(1, mirrors);
                runPasses("ours", "ours", all.get(0), passes(warmupRows, rows), base, rates, warmRates, meter, cpu,
                        (from, n) -> new LastRowArrival(targets, from, n, () -> procs.forEach(MirrorProcess::checkAlive)));
                for (MirrorProcess p : procs) {
                    heapPeak = Math.max(heapPeak, p.peakLiveHeapMb());
                    say("  " + p.nodeId() + " peak live heap " + p.peakLiveHeapMb() + " MiB (-Xmx" + nodeHeap + ")");
                }
            } finally {
                for (MirrorProcess p : procs) {
                    p.close();
                }
                NativeReplication.disconnect(sub);
            }
            r.put("rows_per_second", rates);
            r.put("warmup_rows_per_second", warmRates);
            if (CpuMeter.available()) {
                Map<String, Object> cpuJson = new LinkedHashMap<>();
                cpu.forEach((k, u) -> cpuJson.put(k, u.toJson(rows)));
                r.put("cpu", cpuJson);
                r.put("cpu_bound", cpuBound(cpu, rates, rows));
            }
            r.put("node_heap_limit", nodeHeap);
            r.put("node_heap_peak_live_mb", heapPeak);
            double ours = rates.get("ours_tx_100");
            double nat = rates.get("native_tx_100");
            double cap = rates.get("capture_tx_100");
            r.put("RESULT", String.format(Locale.ROOT,
                    "RESULT throughput ours_rows_s=%.0f native_rows_s=%.0f capture_rows_s=%.0f ratio_capture=%.2f heap_peak_mb=%d",
                    ours, nat, cap, ours / cap, heapPeak));
            return r;
        }
    }

    /**
     * What the CPU cost per row of each system allows on this machine: if ours used every core
     * at its measured cost per row, how fast could it go, as a share of raw capture's measured
     * rate. This says whether a rate is bound by CPU (the machine is full) or by waiting.
     */
    private static Map<String, Object> cpuBound(Map<String, CpuMeter.Usage> cpu, Map<String, Double> rates, int rows) {
        int cores = Runtime.getRuntime().availableProcessors();
        Map<String, Object> m = new LinkedHashMap<>();
        CpuMeter.Usage ours = cpu.get("ours_tx_100");
        CpuMeter.Usage capture = cpu.get("capture_tx_100");
        CpuMeter.Usage nat = cpu.get("native_tx_100");
        double oursUs = ours.microsPerRow(rows);
        double ceiling = cores * 1e6 / oursUs;
        m.put("cores", cores);
        m.put("capture_cpu_us_per_row", capture.microsPerRow(rows));
        m.put("native_cpu_us_per_row", nat.microsPerRow(rows));
        m.put("ours_cpu_us_per_row", oursUs);
        m.put("capture_busy_cores", capture.machineCores());
        m.put("ours_busy_cores", ours.machineCores());
        m.put("ours_rows_s_if_all_cores", ceiling);
        m.put("ours_ceiling_ratio_capture", ceiling / rates.get("capture_tx_100"));
        // The mirror JVMs are a minute old here and still compiling; one running for days is not.
        double oursSteadyUs = ours.microsPerRowWithoutJit(rows);
        double steadyCeiling = cores * 1e6 / oursSteadyUs;
        m.put("ours_jit_cpu_seconds", ours.jit());
        m.put("capture_jit_cpu_seconds", capture.jit());
        m.put("ours_cpu_us_per_row_without_jit", oursSteadyUs);
        m.put("ours_rows_s_if_all_cores_without_jit", steadyCeiling);
        m.put("ours_ceiling_ratio_capture_without_jit", steadyCeiling / rates.get("capture_tx_100"));
        say(String.format(Locale.ROOT, "  CPU per row (100-row transactions): raw capture %.1f us, native %.1f us,"
                        + " ours %.1f us. At ours' cost, %d cores carry at most %,.0f rows/s = %.2f of raw capture;"
                        + " busy cores: raw capture %.2f, ours %.2f", capture.microsPerRow(rows), nat.microsPerRow(rows),
                oursUs, cores, ceiling, ceiling / rates.get("capture_tx_100"), capture.machineCores(),
                ours.machineCores()));
        say(String.format(Locale.ROOT, "  The JIT compiled for %.2f s of ours' CPU (raw capture's JVM: %.2f s); without"
                        + " it ours costs %.1f us per row: at most %,.0f rows/s = %.2f of raw capture's measured rate",
                ours.jit(), capture.jit(), oursSteadyUs, steadyCeiling, steadyCeiling / rates.get("capture_tx_100")));
        return m;
    }

    /** Servers with the benchmark tables: mirrors first, then the references. */
    static PostgresServers startServers(int count) throws SQLException {
        PostgresServers pgs = PostgresServers.start("bench", count);
        try {
            for (PgServer s : pgs.servers()) {
                BenchSchema.create(s);
            }
        } catch (SQLException | RuntimeException e) {
            pgs.close();
            throw e;
        }
        return pgs;
    }

    private static String mode(int txSize, int rows) {
        return txSize == rows ? "one_tx" : "tx_100";
    }

    /** A run of rows through one system: the untimed warm-up or the timed one. */
    private record Pass(int rows, boolean timed) {
        String label(String what) {
            return timed ? what : "warm-up, " + what;
        }
    }

    private static List<Pass> passes(int warmupRows, int rows) {
        return warmupRows > 0 ? List.of(new Pass(warmupRows, false), new Pass(rows, true)) : List.of(new Pass(rows, true));
    }

    /** Watches how many of the rows from id {@code from} on a system shows; made just before they are written. */
    @FunctionalInterface
    private interface Visible {
        Arrival of(long from, int rows) throws SQLException;
    }

    /** Whether a pass's rows have all arrived: polled often, so it must cost the system under test little. */
    interface Arrival extends AutoCloseable {
        boolean complete();

        /** How many of the rows have arrived, counted exactly (once at the end, or to report a timeout). */
        long count();

        @Override
        default void close() {
        }
    }

    /**
     * The rows have arrived once every target holds the pass's LAST row: both native replication
     * and the mirrors apply one origin's transactions whole and in commit order, so the last row
     * implies all the others (checked by one exact count at the end). A lookup by primary key on a
     * connection kept open costs the target next to nothing; counting the range on every poll
     * (what this replaced) cost it a new backend and a scan of up to all the rows, 50 times a
     * second, while it was applying them.
     */
    static final class LastRowArrival implements Arrival {
        private final List<PgServer> targets;
        private final long from;
        private final int rows;
        private final Runnable check;
        private final List<Connection> connections = new ArrayList<>();
        private final List<PreparedStatement> lookups = new ArrayList<>();

        LastRowArrival(List<PgServer> targets, long from, int rows, Runnable check) throws SQLException {
            this.targets = targets;
            this.from = from;
            this.rows = rows;
            this.check = check;
            try {
                for (PgServer t : targets) {
                    Connection c = t.connect();
                    connections.add(c);
                    PreparedStatement ps = c.prepareStatement("SELECT 1 FROM bench_rows WHERE id = ?");
                    ps.setLong(1, from + rows - 1);
                    lookups.add(ps);
                }
            } catch (SQLException e) {
                close();
                throw e;
            }
        }

        @Override
        public boolean complete() {
            check.run();
            try {
                for (PreparedStatement ps : lookups) {
                    try (var rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            return false;
                        }
                    }
                }
                return true;
            } catch (SQLException e) {
                throw new IllegalStateException("cannot look for the last row: " + e.getMessage(), e);
            }
        }

        @Override
        public long count() {
            return targets.stream().mapToLong(t -> countRange(t, from, rows)).min().orElse(0);
        }

        @Override
        public void close() {
            for (Connection c : connections) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // closing a benchmark's probe connection: nothing to do about it
                }
            }
        }
    }

    /**
     * Each pass through one system, as one transaction and as 100-row transactions, each on ids no
     * other pass wrote ({@code base} holds the next free one); rates by "{@code key}_mode" into
     * {@code rates} (timed pass) or {@code warmRates}.
     */
    private static void runPasses(String label, String key, PgServer source, List<Pass> passes, long[] base,
                                  Map<String, Double> rates, Map<String, Double> warmRates, CpuMeter meter,
                                  Map<String, CpuMeter.Usage> cpu, Visible visible)
            throws SQLException {
        // Each mode's warm-up right before its timed pass, so the timed pass runs the code its
        // warm-up just ran (the young mirror JVMs keep compiling either way; CpuMeter counts it).
        for (boolean oneTx : new boolean[] {true, false}) {
            for (Pass pass : passes) {
                int txSize = oneTx ? pass.rows() : 100;
                String mode = mode(txSize, pass.rows());
                long from = base[0];
                base[0] += pass.rows();
                CpuMeter.Snapshot before = meter.snapshot();
                double rate = timeRows(pass.label(label + ", " + mode), source, from, pass.rows(), txSize, visible);
                (pass.timed() ? rates : warmRates).put(key + "_" + mode, rate);
                if (pass.timed() && CpuMeter.available()) {
                    CpuMeter.Usage used = CpuMeter.between(before, meter.snapshot());
                    cpu.put(key + "_" + mode, used);
                    say("    " + used.summary(pass.rows()));
                }
            }
        }
    }

    /** Inserts rows in transactions of {@code txSize} and returns rows/s until {@code arrival} is complete. */
    private static double timeRows(String label, PgServer source, long from, int rows, int txSize, Visible visible)
            throws SQLException {
        try (Arrival arrival = visible.of(from, rows)) {
            return timeRows(label, source, from, rows, txSize, arrival);
        }
    }

    private static double timeRows(String label, PgServer source, long from, int rows, int txSize, Arrival arrival)
            throws SQLException {
        long start = System.nanoTime();
        try (Connection c = source.connect(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO bench_rows (id, batch, amount, label) SELECT g, ?, (g % 100000) / 7.0, 'row ' || g"
                        + " FROM generate_series(?::bigint, ?::bigint) g")) {
            for (long at = from; at < from + rows; at += txSize) {
                ps.setInt(1, (int) ((at - from) / txSize));
                ps.setLong(2, at);
                ps.setLong(3, Math.min(from + rows, at + txSize) - 1);
                ps.executeUpdate();
            }
        }
        // Not Await.until: a failure in `visible` (a mirror process died) must end the run at once.
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (!arrival.complete()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(label + ": only " + arrival.count() + " of " + rows
                        + " rows arrived in 10 minutes");
            }
            LockSupport.parkNanos(5_000_000L);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long arrived = arrival.count();
        if (arrived < rows) {
            throw new IllegalStateException(label + ": the last row arrived but only " + arrived + " of " + rows
                    + " rows did: transactions were applied out of commit order or lost");
        }
        double rate = rows / seconds;
        say(String.format(Locale.ROOT, "  %-22s %,d rows in %.2f s = %,.0f rows/s", label, rows, seconds, rate));
        return rate;
    }

    private static long countRange(PgServer server, long from, int rows) {
        try (Connection c = server.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM bench_rows WHERE id >= ? AND id < ?")) {
            ps.setLong(1, from);
            ps.setLong(2, from + rows);
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot count rows on " + server.name() + ": " + e.getMessage(), e);
        }
    }

    /** Settings for mirrors on these servers; -Dmirror.x=y (BENCH_JAVA_OPTS) overrides an option. */
    static List<Map<String, String>> mirrorSettings(List<PgServer> servers) {
        List<Map<String, String>> all = MirrorSettings.forServers("bench", servers);
        for (Map<String, String> settings : all) {
            settings.put("mirror.capture.slot.drop-on-stop", "true");
            System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("mirror."))
                    .forEach(k -> settings.put(k, System.getProperty(k)));
        }
        return all;
    }

    /** One row written on the first mirror and seen on all others: the mirrors found each other. */
    static void awaitWarmUp(List<PgServer> servers) throws SQLException {
        try (Connection c = servers.get(0).connect(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO bench_lag (id, payload, written) VALUES (-1, 'warm-up', now())")) {
            ps.executeUpdate();
        }
        Await.until(Duration.ofSeconds(60), () -> {
            for (PgServer s : servers) {
                if (BenchSchema.count(s, "bench_lag") == 0) {
                    return false;
                }
            }
            return true;
        }, () -> "the warm-up row did not reach every mirror");
    }

    static List<MirrorNode> startMirrors(List<PgServer> servers) {
        List<MirrorNode> nodes = new ArrayList<>();
        try {
            for (Map<String, String> settings : mirrorSettings(servers)) {
                nodes.add(MirrorNode.start(MirrorConfig.of(settings)));
            }
            Await.until(Duration.ofSeconds(30), () -> nodes.stream().allMatch(n -> n.status().members().size() == servers.size()),
                    () -> "mirrors did not all see each other");
        } catch (RuntimeException e) {
            closeAll(nodes);
            throw e;
        }
        return nodes;
    }

    static void closeAll(List<MirrorNode> nodes) {
        nodes.forEach(MirrorNode::close);
    }

    private static Map<String, Object> stats(LagProbe.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("samples", r.stats().count());
        m.put("missing", r.missing());
        m.put("p50_ms", r.stats().percentileMs(50));
        m.put("p90_ms", r.stats().percentileMs(90));
        m.put("p99_ms", r.stats().percentileMs(99));
        m.put("max_ms", r.stats().maxMs());
        return m;
    }

    private static void writeResults(Path dir, String kind, Map<String, Object> result) throws IOException {
        Files.createDirectories(dir);
        Map<String, Object> out = new LinkedHashMap<>(result);
        out.put("when", LocalDateTime.now().toString());
        out.put("cores", Runtime.getRuntime().availableProcessors());
        out.put("java", System.getProperty("java.version"));
        out.put("load_average", loadAverage());
        Path file = dir.resolve(kind + "-" + LocalDateTime.now().format(STAMP) + ".json");
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), out);
        say("Results written to " + file);
    }

    /** The machine's 1, 5 and 15 minute load averages (Linux), so a noisy run can be recognised. */
    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
