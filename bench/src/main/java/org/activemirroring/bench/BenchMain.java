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
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.activemirroring.mirror.MirrorConfig;
import org.activemirroring.mirror.MirrorNode;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.transport.Envelope;
import org.activemirroring.transport.EpochMicros;
import org.activemirroring.transport.TransportObserver;

/**
 * Entry point of {@code bench/run}: {@code lag|throughput [--seconds N] [--rate R] [--mirrors M]
 * [--rows N] [--results DIR]}. Everything runs in one process against embedded PostgreSQL servers
 * on this machine, and each number of ours is printed beside the reference measured in the same
 * run.
 */
public final class BenchMain {
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
            case "throughput" -> throughput(mirrors, Integer.parseInt(opts.getOrDefault("rows", "200000")));
            default -> throw new IllegalArgumentException("Unknown benchmark '" + kind + "': use lag or throughput");
        };
        writeResults(Path.of(opts.getOrDefault("results", "bench/results")), kind, result);
        System.out.println(result.get("RESULT"));
        System.exit(0);
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> m = new LinkedHashMap<>();
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: bench/run lag|throughput [--seconds N] [--rate R] [--mirrors M] [--rows N]");
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
        try (PostgresServers pgs = PostgresServers.start("bench", mirrors + 2)) {
            List<PgServer> all = pgs.servers();
            for (PgServer s : all) {
                BenchSchema.create(s);
            }
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

    private static Map<String, Object> throughput(int mirrors, int rows) throws Exception {
        try (PostgresServers pgs = PostgresServers.start("bench", mirrors + 3)) {
            List<PgServer> all = pgs.servers();
            for (PgServer s : all) {
                BenchSchema.create(s);
            }
            PgServer pub = all.get(mirrors);
            PgServer sub = all.get(mirrors + 1);
            PgServer raw = all.get(mirrors + 2);
            NativeReplication.connect(pub, sub, "bench_lag", "bench_rows");
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("kind", "throughput");
            r.put("mirrors", mirrors);
            r.put("rows", rows);
            Map<String, Double> rates = new LinkedHashMap<>();
            long base = 0;
            try (RawCapture capture = new RawCapture(raw, "bench_rows")) {
                capture.start();
                for (int txSize : new int[] {rows, 100}) {
                    String mode = txSize == rows ? "one_tx" : "tx_100";
                    long from = base;
                    base += rows;
                    long captured = capture.rowEvents();
                    rates.put("capture_" + mode, timeRows("raw capture, " + mode, raw, from, rows, txSize,
                            () -> capture.rowEvents() - captured));
                }
            }
            for (int txSize : new int[] {rows, 100}) {
                String mode = txSize == rows ? "one_tx" : "tx_100";
                long from = base;
                base += rows;
                rates.put("native_" + mode, timeRows("native, " + mode, pub, from, rows, txSize,
                        () -> countRange(sub, from, rows)));
            }
            List<MirrorNode> nodes = startMirrors(all.subList(0, mirrors));
            long heapPeak;
            try (HeapWatch heap = new HeapWatch()) {
                AtomicLong lastJournaled = new AtomicLong();
                AtomicLong lastApplied = new AtomicLong();
                nodes.get(0).observe(new TransportObserver() {
                    @Override
                    public void journaled(Envelope e, long micros) {
                        lastJournaled.set(micros);
                    }
                }, null);
                nodes.get(1).observe(null, (cs, micros) -> lastApplied.set(micros));
                for (int txSize : new int[] {rows, 100}) {
                    String mode = txSize == rows ? "one_tx" : "tx_100";
                    long from = base;
                    base += rows;
                    List<PgServer> targets = all.subList(1, mirrors);
                    long start = EpochMicros.now();
                    rates.put("ours_" + mode, timeRows("ours, " + mode, all.get(0), from, rows, txSize,
                            () -> targets.stream().mapToLong(t -> countRange(t, from, rows)).min().orElse(0)));
                    say(String.format(Locale.ROOT, "    last ChangeSet journaled at +%.2f s, applied on %s at +%.2f s",
                            (lastJournaled.get() - start) / 1e6, nodes.get(1).nodeId(), (lastApplied.get() - start) / 1e6));
                }
                heapPeak = heap.peakLiveMb();
            } finally {
                closeAll(nodes);
                NativeReplication.disconnect(sub);
            }
            r.put("rows_per_second", rates);
            r.put("heap_peak_live_mb_all_mirrors_in_one_jvm", heapPeak);
            double ours = rates.get("ours_tx_100");
            double nat = rates.get("native_tx_100");
            double cap = rates.get("capture_tx_100");
            r.put("RESULT", String.format(Locale.ROOT,
                    "RESULT throughput ours_rows_s=%.0f native_rows_s=%.0f capture_rows_s=%.0f ratio_capture=%.2f heap_peak_mb=%d",
                    ours, nat, cap, ours / cap, heapPeak));
            return r;
        }
    }

    /** Inserts rows in transactions of {@code txSize} and returns rows/s until {@code visible} reaches them. */
    private static double timeRows(String label, PgServer source, long from, int rows, int txSize, LongSupplier visible)
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
        Await.until(Duration.ofMinutes(10), () -> visible.getAsLong() >= rows,
                () -> label + ": only " + visible.getAsLong() + " of " + rows + " rows arrived");
        double seconds = (System.nanoTime() - start) / 1e9;
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

    private static List<MirrorNode> startMirrors(List<PgServer> servers) {
        List<MirrorNode> nodes = new ArrayList<>();
        try {
            for (Map<String, String> settings : MirrorSettings.forServers("bench", servers)) {
                settings.put("mirror.capture.slot.drop-on-stop", "true");
                // Experiments: -Dmirror.some.option=value (through BENCH_JAVA_OPTS) overrides a mirror option.
                System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("mirror."))
                        .forEach(k -> settings.put(k, System.getProperty(k)));
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

    private static void closeAll(List<MirrorNode> nodes) {
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
        Path file = dir.resolve(kind + "-" + LocalDateTime.now().format(STAMP) + ".json");
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), out);
        say("Results written to " + file);
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
