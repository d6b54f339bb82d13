package org.activemirroring.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.activemirroring.apply.ChangeSetApplier;
import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.change.HybridClock;
import org.activemirroring.change.RowChange;
import org.activemirroring.change.RowVersion;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.transport.Envelope;
import org.activemirroring.transport.EpochMicros;

/**
 * What applying one small change costs a receiving mirror, beside the same write made by the
 * site itself: {@code bench/run apply [--rows 4000] [--tx-rows 1]}. One server; --rows transactions
 * of --tx-rows inserts each, timed one by one, alternately in blocks: the site's own transaction
 * (autocommit for one row, else one JDBC batch and a commit) and our applier applying a ChangeSet
 * of as many rows (decode, locks and version reads, the row, its
 * version, the applied seq, the commit). The applier's round trips are most of the
 * received-to-applied stage of {@code lag}; here they are measured without the rest of the
 * pipeline sharing the machine.
 */
final class ApplyBenchmark {
    private static final int BLOCK = 250;
    private static final String TABLE = "public.bench_rows";

    private ApplyBenchmark() {
    }

    static Map<String, Object> run(int rows, int txRows) throws Exception {
        if (rows < BLOCK) {
            throw new IllegalArgumentException("--rows must be at least " + BLOCK + ", was " + rows);
        }
        if (txRows < 1 || txRows > 1000) {
            throw new IllegalArgumentException("--tx-rows must be 1 to 1000, was " + txRows);
        }
        try (PostgresServers pgs = BenchMain.startServers(1)) {
            PgServer server = pgs.servers().get(0);
            List<String> problems = new ArrayList<>();
            CaptureConfig config = CaptureConfig.from(BenchMain.mirrorSettings(List.of(server, server)).get(0), problems);
            if (!problems.isEmpty()) {
                throw new IllegalStateException("bench settings refused: " + problems);
            }
            ChangeSetCodec codec = new ChangeSetCodec();
            HybridClock peerClock = new HybridClock(Clock.systemUTC());
            try (ChangeSetApplier applier = new ChangeSetApplier(config, new PostgresDialect(), "bench-2",
                    new HybridClock(Clock.systemUTC()));
                 Connection site = server.connect();
                 PreparedStatement insert = site.prepareStatement(
                         "INSERT INTO bench_rows (id, batch, amount, label) VALUES (?, ?, ?, ?)")) {
                long[] next = {1, 1_000_000_000L};
                long[] seq = {0};
                site.setAutoCommit(txRows == 1);
                Step plain = () -> {
                    for (int i = 0; i < txRows; i++) {
                        long id = next[0]++;
                        insert.setLong(1, id);
                        insert.setInt(2, 1);
                        insert.setBigDecimal(3, new java.math.BigDecimal("12.50"));
                        insert.setString(4, "row " + id);
                        if (txRows == 1) {
                            insert.executeUpdate();
                        } else {
                            insert.addBatch();
                        }
                    }
                    if (txRows > 1) {
                        insert.executeBatch();
                        site.commit();
                    }
                };
                Step ours = () -> {
                    List<RowChange> changes = new ArrayList<>(txRows);
                    for (int i = 0; i < txRows; i++) {
                        long id = next[1]++;
                        Map<String, String> after = new LinkedHashMap<>();
                        after.put("id", Long.toString(id));
                        after.put("batch", "2");
                        after.put("amount", "12.50");
                        after.put("label", "row " + id);
                        changes.add(new RowChange(TABLE, RowChange.Op.INSERT, Map.of("id", Long.toString(id)), after,
                                null, List.of(), RowVersion.NONE));
                    }
                    long s = ++seq[0];
                    long now = EpochMicros.now();
                    ChangeSet cs = new ChangeSet("bench-1", s, s, now, now, peerClock.tick(), Map.of(), changes);
                    applier.deliver(new Envelope(Envelope.FORMAT_VERSION, "bench-1", s, new byte[Envelope.HASH_LENGTH],
                            ChangeSet.PAYLOAD_TYPE, codec.encode(cs), new byte[0]));
                };
                BenchMain.say("Apply: " + rows + " transactions of " + txRows + " row(s) each way, alternating blocks of "
                        + BLOCK + ", after as many untimed ...");
                time(plain, rows, new long[rows], 0);
                time(ours, rows, new long[rows], 0);
                long[] plainNanos = new long[rows];
                long[] oursNanos = new long[rows];
                for (int from = 0; from < rows; from += BLOCK) {
                    int n = Math.min(BLOCK, rows - from);
                    time(plain, n, plainNanos, from);
                    time(ours, n, oursNanos, from);
                }
                LatencyStats p = new LatencyStats(plainNanos);
                LatencyStats o = new LatencyStats(oursNanos);
                BenchMain.say("  site's own insert " + p.summary());
                BenchMain.say("  applier           " + o.summary());
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("kind", "apply");
                r.put("rows", rows);
                r.put("tx_rows", txRows);
                r.put("plain", stats(p));
                r.put("ours", stats(o));
                r.put("RESULT", String.format(Locale.ROOT,
                        "RESULT apply ours_p50_ms=%.3f plain_p50_ms=%.3f ratio_p50=%.2f ours_p99_ms=%.3f plain_p99_ms=%.3f",
                        o.percentileMs(50), p.percentileMs(50), o.percentileMs(50) / p.percentileMs(50),
                        o.percentileMs(99), p.percentileMs(99)));
                return r;
            }
        }
    }

    private interface Step {
        void run() throws Exception;
    }

    private static void time(Step step, int n, long[] into, int at) throws Exception {
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            step.run();
            into[at + i] = System.nanoTime() - t0;
        }
    }

    private static Map<String, Object> stats(LatencyStats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("p50_ms", s.percentileMs(50));
        m.put("p90_ms", s.percentileMs(90));
        m.put("p99_ms", s.percentileMs(99));
        m.put("max_ms", s.maxMs());
        return m;
    }
}
