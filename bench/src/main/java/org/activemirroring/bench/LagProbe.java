package org.activemirroring.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.activemirroring.testsupport.PgServer;
import org.activemirroring.transport.EpochMicros;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Commit-to-visible latency, measured the same way for every system: single-row commits at a
 * steady rate on the source; a LISTEN connection on the target hears the row's trigger
 * notification when the applying transaction commits there.
 */
final class LagProbe {
    private LagProbe() {
    }

    /**
     * Writes {@code rate * seconds} rows with ids from {@code firstId} and returns the latency of
     * each row that became visible on the target within a grace period (missing rows are reported
     * through {@link Result#missing()}).
     */
    static Result run(PgServer source, PgServer target, int rate, int seconds, long firstId) throws Exception {
        int total = rate * seconds;
        long[] committedAt = new long[total];
        long[] seenAt = new long[total];
        AtomicInteger seen = new AtomicInteger();
        CountDownLatch listening = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        Thread listener = new Thread(() -> listen(target, firstId, total, seenAt, seen, listening, done),
                "bench-listener");
        listener.setDaemon(true);
        listener.start();
        if (!listening.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the LISTEN connection to " + target.name() + " did not start");
        }
        long period = 1_000_000_000L / rate;
        try (Connection c = source.connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO bench_lag (id, payload, written) VALUES (?, ?, ?)")) {
            long start = System.nanoTime();
            for (int i = 0; i < total; i++) {
                long due = start + i * period;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                ps.setLong(1, firstId + i);
                ps.setString(2, "row " + i);
                ps.setTimestamp(3, Timestamp.from(Instant.now()));
                ps.executeUpdate();
                committedAt[i] = EpochMicros.now();
            }
        }
        done.await(Math.max(10, seconds), TimeUnit.SECONDS);
        listener.interrupt();
        listener.join(5_000);
        long[] lat = new long[total];
        int n = 0;
        for (int i = 0; i < total; i++) {
            if (seenAt[i] != 0) {
                lat[n++] = Math.max(0, seenAt[i] - committedAt[i]) * 1_000L;
            }
        }
        return new Result(new LatencyStats(Arrays.copyOf(lat, n)), total - n, firstId, seenAt);
    }

    private static void listen(PgServer target, long firstId, int total, long[] seenAt, AtomicInteger seen,
                               CountDownLatch listening, CountDownLatch done) {
        try (Connection c = target.connect(); Statement s = c.createStatement()) {
            s.execute("LISTEN " + BenchSchema.CHANNEL);
            listening.countDown();
            PGConnection pg = c.unwrap(PGConnection.class);
            while (!Thread.currentThread().isInterrupted() && seen.get() < total) {
                PGNotification[] batch = pg.getNotifications(200);
                long now = EpochMicros.now();
                if (batch == null) {
                    continue;
                }
                for (PGNotification n : batch) {
                    int i = (int) (Long.parseLong(n.getParameter()) - firstId);
                    if (i >= 0 && i < total && seenAt[i] == 0) {
                        seenAt[i] = now;
                        seen.incrementAndGet();
                    }
                }
            }
        } catch (SQLException e) {
            if (!Thread.currentThread().isInterrupted()) {
                System.err.println("LISTEN on " + target.name() + " failed: " + e);
            }
        } finally {
            listening.countDown();
            done.countDown();
        }
    }

    /**
     * Latencies of the rows seen, how many were not seen within the grace period, and when each row
     * (id = firstId + index) became visible, in epoch microseconds (0 = never).
     */
    record Result(LatencyStats stats, int missing, long firstId, long[] seenAtMicros) {
        long seenAt(long id) {
            long i = id - firstId;
            return i >= 0 && i < seenAtMicros.length ? seenAtMicros[(int) i] : 0;
        }
    }

}
