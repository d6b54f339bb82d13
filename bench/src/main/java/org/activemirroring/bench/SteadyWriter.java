package org.activemirroring.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.activemirroring.testsupport.PgServer;

/**
 * Single-row commits into {@code bench_lag} at a steady rate on its own thread, ids from
 * {@code firstId} up, until closed: the background load of the catch-up benchmark. The id of the
 * last committed row is readable at any time, so "everything committed up to now" is one number.
 */
final class SteadyWriter implements AutoCloseable {
    private final PgServer source;
    private final int rate;
    private final long firstId;
    private final AtomicLong lastCommitted;
    private final Thread thread;
    private volatile long startedAt;
    private volatile boolean stop;
    private volatile Exception failure;

    private SteadyWriter(PgServer source, int rate, long firstId) {
        this.source = source;
        this.rate = rate;
        this.firstId = firstId;
        this.lastCommitted = new AtomicLong(firstId - 1);
        this.thread = new Thread(this::write, "bench-writer");
        this.thread.setDaemon(true);
    }

    static SteadyWriter start(PgServer source, int rate, long firstId) {
        SteadyWriter w = new SteadyWriter(source, rate, firstId);
        w.thread.start();
        return w;
    }

    /** The id of the last row whose commit returned; {@code firstId - 1} before the first. */
    long lastCommittedId() {
        checkAlive();
        return lastCommitted.get();
    }

    /** Seconds since the first commit started (0 before). */
    double secondsWriting() {
        return startedAt == 0 ? 0 : (System.nanoTime() - startedAt) / 1e9;
    }

    /** Fails with the writer's error if it stopped on one, so a run ends at once. */
    void checkAlive() {
        if (failure != null) {
            throw new IllegalStateException("the writer on " + source.name() + " failed: " + failure.getMessage(), failure);
        }
    }

    private void write() {
        long period = 1_000_000_000L / rate;
        try (Connection c = source.connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO bench_lag (id, payload, written) VALUES (?, ?, ?)")) {
            long start = System.nanoTime();
            startedAt = start;
            for (long i = 0; !stop; i++) {
                long wait = start + i * period - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                }
                ps.setLong(1, firstId + i);
                ps.setString(2, "row " + i);
                ps.setTimestamp(3, Timestamp.from(Instant.now()));
                ps.executeUpdate();
                lastCommitted.set(firstId + i);
            }
        } catch (SQLException | RuntimeException e) {
            failure = e;
        }
    }

    /** Stops after the commit in progress. */
    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(10_000);
    }
}
