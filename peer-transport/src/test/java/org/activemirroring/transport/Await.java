package org.activemirroring.transport;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition by polling with a deadline, instead of sleeping a guessed time. */
final class Await {
    private Await() {
    }

    static void until(Duration timeout, BooleanSupplier condition, Supplier<String> whatFailed) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Not reached within " + timeout + ": " + whatFailed.get());
            }
            // Polling pause, not a wait for an outcome: the loop re-checks the condition.
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
        }
    }

    static void until(Duration timeout, BooleanSupplier condition, String whatFailed) {
        until(timeout, condition, () -> whatFailed);
    }
}
