package org.activemirroring.capture;

import java.util.concurrent.TimeUnit;

/**
 * How far this mirror's capture has got in its database's log: every transaction that committed
 * before a change at or below {@link #passed()} (a source log position, on PostgreSQL an LSN as a
 * number) is in the journal, or was dropped as an echo, a replay or a change of a table held out.
 *
 * <p>Why that holds: transactions reach capture in commit order, and the position only moves after
 * the transactions completed before it were published. A change written at log position {@code L}
 * belongs to a transaction that committed after every transaction whose commit was in the log
 * before {@code L}; so once a completed transaction with a change at {@code L >= T} is published,
 * every transaction committed before {@code T} is too. Read-your-writes waits on this
 * ({@link #awaitPassed}) after writing a row into the heartbeat table, which capture sees after
 * the site's transaction. Thread-safe: capture advances it, request threads wait on it.
 */
public final class CapturePosition {
    private long passed;

    /** Moves the position forward (never back) and wakes the threads waiting for it. */
    synchronized void advance(long position) {
        if (position > passed) {
            passed = position;
            notifyAll();
        }
    }

    /** The highest log position passed so far; 0 before the first completed transaction. */
    public synchronized long passed() {
        return passed;
    }

    /**
     * Waits until the position reaches {@code position} or {@code timeout} passes.
     *
     * @return true if it reached it
     * @throws InterruptedException when the waiting thread is interrupted (its flag is cleared, as usual)
     */
    public synchronized boolean awaitPassed(long position, long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (passed < position) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }
}
