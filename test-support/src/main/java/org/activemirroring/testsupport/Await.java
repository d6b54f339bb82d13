package org.activemirroring.testsupport;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * Waits for a condition with a deadline, the way tests wait for replication: never a fixed sleep.
 * On timeout it fails with the caller's description of what was expected and what was last seen.
 */
public final class Await {
    private Await() {
    }

    /**
     * Polls {@code condition} every few milliseconds until it is true or {@code timeout} passes.
     * Exceptions thrown by the condition count as "not yet" and the last one is reported.
     *
     * @param state describes the current state for the failure message (called only on failure)
     */
    public static void until(Duration timeout, Callable<Boolean> condition, Supplier<String> state) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        long pause = 1_000_000L;
        while (true) {
            try {
                if (Boolean.TRUE.equals(condition.call())) {
                    return;
                }
                last = null;
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                AssertionError err = new AssertionError("Condition not met within " + timeout + ": " + state.get());
                if (last != null) {
                    err.initCause(last);
                }
                throw err;
            }
            // Parking is the polling interval of a condition wait, not a guess at how long
            // replication takes: the loop re-checks until the deadline.
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, 50_000_000L);
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new AssertionError("Interrupted while waiting: " + state.get());
            }
        }
    }
}
