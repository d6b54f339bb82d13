package org.activemirroring.transport;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When the delivery thread restarts after an unexpected failure, what it logs, and what status
 * says about it ({@link DeliveryStatus}).
 *
 * <p>Expected failures, a checked exception from the handler (database restarting, lock timeout),
 * are retried in place by {@link DeliveryPipeline} with the same envelope. Anything else (a
 * RuntimeException or Error from the handler, a fault of the pipeline itself) leaves the
 * pipeline's in-memory state in doubt, so delivery restarts from what the handler committed.
 * This class decides when: {@link #FIRST_DELAY} after the first failure, doubling up to
 * {@link #MAX_DELAY} while delivery keeps failing, and from {@link #FIRST_DELAY} again once it ran
 * for {@link #HEALTHY_AFTER} without failing. It never answers less than the first delay, so a
 * failure that repeats at once cannot make the thread spin.
 *
 * <p>The first failure of an outage, and any failure whose text differs from the one before, is
 * logged with its stack trace; a repeat gets one line. Time comes from the injected clock, so
 * tests advance it instead of sleeping. Thread-safe: the delivery thread reports, status pages read.
 */
final class DeliveryRestarts {

    private static final Logger LOG = LoggerFactory.getLogger(DeliveryRestarts.class);

    static final Duration FIRST_DELAY = Duration.ofSeconds(1);
    static final Duration MAX_DELAY = Duration.ofSeconds(60);
    /** Running this long without an unexpected failure makes the next one start from the first delay. */
    static final Duration HEALTHY_AFTER = Duration.ofMinutes(5);
    /** Longer error texts are cut: status pages show them, and a message can hold a whole row. */
    static final int MAX_ERROR_CHARS = 500;

    private final String self;
    private final Clock clock;
    private final long firstMs;
    private final long maxMs;
    private final Duration healthyAfter;

    private long nextDelayMs;
    private long restarts;
    private String lastError;
    private Instant lastErrorAt;
    private Instant downSince;
    private Instant nextRestart;
    /** When delivery last started or ran again after a restart; null before start. */
    private Instant upSince;
    /** The failure logged last with its stack trace (type and message), to log repeats in one line. */
    private String lastLogged;

    DeliveryRestarts(String self, Clock clock) {
        this(self, clock, FIRST_DELAY, MAX_DELAY, HEALTHY_AFTER);
    }

    DeliveryRestarts(String self, Clock clock, Duration firstDelay, Duration maxDelay, Duration healthyAfter) {
        if (firstDelay.toMillis() < 1 || maxDelay.compareTo(firstDelay) < 0) {
            throw new IllegalArgumentException("restart delays must be at least 1 ms and first <= max, got "
                    + firstDelay + " and " + maxDelay);
        }
        this.self = self;
        this.clock = clock;
        this.firstMs = firstDelay.toMillis();
        this.maxMs = maxDelay.toMillis();
        this.healthyAfter = healthyAfter;
        this.nextDelayMs = firstMs;
    }

    /** Delivery started for the first time. */
    synchronized void started() {
        upSince = now();
    }

    /**
     * Records an unexpected failure and logs it.
     *
     * @param during what was being done (e.g. the envelope being delivered), or null
     * @return how long to wait before restarting, in milliseconds (at least the first delay)
     */
    synchronized long failed(Throwable t, String during) {
        Instant now = now();
        boolean newOutage = downSince == null;
        if (newOutage) {
            if (upSince != null && Duration.between(upSince, now).compareTo(healthyAfter) >= 0) {
                nextDelayMs = firstMs; // it ran well for a while: this is a new problem, not the old one
            }
            downSince = now;
        }
        long delay = nextDelayMs;
        nextDelayMs = Math.min(delay * 2, maxMs);
        String what = cut(String.valueOf(t));
        lastError = during == null ? what : what + " (" + during + ")";
        lastErrorAt = now;
        nextRestart = now.plusMillis(delay);
        if (newOutage || !what.equals(lastLogged)) {
            LOG.error("Delivery of other mirrors' changes failed unexpectedly{}; it restarts by itself in"
                    + " {} s from what the delivery handler committed (restart {}). If this repeats, the error"
                    + " below needs fixing", during == null ? "" : " while " + during, seconds(delay),
                    restarts + 1, t);
            lastLogged = what;
        } else {
            LOG.warn("Delivery failed again after restart {} ({}{}); next restart in {} s, down since {}",
                    restarts, what, during == null ? "" : ", " + during, seconds(delay), downSince);
        }
        return delay;
    }

    /** The delivery thread is about to restart; returns the restart's number. */
    synchronized long restarting() {
        nextRestart = null;
        return ++restarts;
    }

    /** Delivery runs again after a restart (it got through what it had to redo). */
    synchronized void resumed() {
        if (downSince == null) {
            return;
        }
        Instant now = now();
        LOG.info("Delivery of other mirrors' changes runs again after restart {} (down since {}, {} s)",
                restarts, downSince, Duration.between(downSince, now).toSeconds());
        downSince = null;
        nextRestart = null;
        upSince = now;
    }

    /** Whether delivery is down after an unexpected failure (waiting to restart, or restarting). */
    synchronized boolean isDown() {
        return downSince != null;
    }

    /** @param threadRunning whether the delivery thread is started, alive and not closing */
    synchronized DeliveryStatus status(boolean threadRunning) {
        return new DeliveryStatus(threadRunning && downSince == null, restarts, lastError, lastErrorAt,
                threadRunning ? downSince : null, threadRunning ? nextRestart : null);
    }

    /** Milliseconds are plenty for status pages and logs. */
    Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private static String seconds(long ms) {
        return ms % 1000 == 0 ? Long.toString(ms / 1000) : String.format(java.util.Locale.ROOT, "%.3f", ms / 1000.0);
    }

    static String cut(String s) {
        return s.length() <= MAX_ERROR_CHARS ? s : s.substring(0, MAX_ERROR_CHARS) + "...";
    }
}
