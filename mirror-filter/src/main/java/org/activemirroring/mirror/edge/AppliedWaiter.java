package org.activemirroring.mirror.edge;

import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.ToLongFunction;

/**
 * Lets request threads wait until this mirror has applied given sequence numbers of given origins.
 * {@link #progressed} is called by the applier after the applied vector moved; it wakes the
 * waiters, which then look again: no polling. Costs nothing on the delivery thread while no
 * request waits.
 */
final class AppliedWaiter {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition moved = lock.newCondition();
    private final AtomicInteger waiting = new AtomicInteger();
    private final ToLongFunction<String> applied;

    /** @param applied the highest applied sequence number of an origin, now */
    AppliedWaiter(ToLongFunction<String> applied) {
        this.applied = applied;
    }

    /** The applier moved the applied vector. */
    void progressed() {
        if (waiting.get() == 0) {
            return;
        }
        lock.lock();
        try {
            moved.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Whether every origin of {@code need} is applied at least that far now. */
    boolean satisfied(Map<String, Long> need) {
        for (Map.Entry<String, Long> e : need.entrySet()) {
            if (applied.applyAsLong(e.getKey()) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    /**
     * Waits until {@link #satisfied} or {@code timeoutMs} passed.
     *
     * @return true when satisfied
     */
    boolean await(Map<String, Long> need, long timeoutMs) throws InterruptedException {
        if (satisfied(need)) {
            return true;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        waiting.incrementAndGet();
        lock.lock();
        try {
            // Checked under the lock that progressed() takes to signal: no wake-up is lost in between.
            while (!satisfied(need)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                moved.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
            waiting.decrementAndGet();
        }
    }
}
