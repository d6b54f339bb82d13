package org.activemirroring.mirror.siteapi;

import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

import org.activemirroring.site.LostWrite;
import org.activemirroring.site.LostWriteListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the site's {@link LostWriteListener}s of this mirror's lost writes, at least once, in
 * conflict-log order, one round at a time ({@link #runOnce}, called by one thread only).
 *
 * <p>A round reads the writes not acknowledged yet (at most {@link #PAGE}, lowest id first) and
 * gives each listener, in id order, those it has not handled in this run; a listener that throws
 * stops there and is told that write again after a wait of 1 s, doubling up to 60 s while it keeps
 * throwing (its error is logged once per streak), while the other listeners go on. A write is
 * acknowledged (committed in the site database, so never told again, also after a restart) once
 * every listener registered at that moment has handled it: one shared acknowledgement, not one per
 * listener, since listeners have no names that would survive a restart. A listener registered
 * later is told of every write not acknowledged yet. What a listener handled but others did not is
 * remembered in memory only: after a restart every listener is told of it again, as at-least-once
 * allows.
 *
 * <p>Order: by conflict id. Ids come from a sequence, and two transactions of the node may commit
 * their entries in the other order; such a late entry is told once it is committed, after
 * entries with higher ids (nothing is skipped: acknowledgements are a set, not a position).
 */
final class LostWriteDelivery {
    private static final Logger LOG = LoggerFactory.getLogger(LostWriteDelivery.class);
    /** The most unacknowledged writes one round reads (a listener that keeps failing holds the rest back). */
    static final int PAGE = 1000;
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(60);
    /** How long closing a listener waits for its call in progress to return. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    /** Where the lost writes come from and where their acknowledgements go. */
    interface Source {
        /** Lost writes of this mirror not acknowledged yet, lowest id first, at most {@code limit}. */
        List<LostWrite> unacknowledged(int limit) throws Exception;

        /** Records durably that {@code conflictId} was handled; returns once it is committed. */
        void acknowledge(long conflictId) throws Exception;
    }

    private final String mirrorId;
    private final Supplier<Source> source;
    private final Clock clock;
    private final Runnable wake;
    private final List<Registration> registrations = new CopyOnWriteArrayList<>();
    private volatile Thread deliveryThread;
    private String sourceFailure;

    /**
     * @param source the log to read, or a supplier answering null while the node does not run
     * @param clock  for the listeners' backoff
     * @param wake   asks for a round soon (a listener was added); never runs it on the caller's thread
     */
    LostWriteDelivery(String mirrorId, Supplier<Source> source, Clock clock, Runnable wake) {
        this.mirrorId = mirrorId;
        this.source = source;
        this.clock = clock;
        this.wake = wake;
    }

    /** Adds a listener; it is told of the backlog in the next round. Closing it removes it. */
    AutoCloseable add(LostWriteListener listener) {
        if (listener == null) {
            throw new NullPointerException("onLostWrite needs a listener, got null");
        }
        Registration r = new Registration(listener);
        registrations.add(r);
        wake.run();
        return r;
    }

    /** How many listeners are registered. */
    int listeners() {
        return registrations.size();
    }

    /** One round: read, tell, acknowledge. Never throws; failures are logged and retried next round. */
    void runOnce() {
        deliveryThread = Thread.currentThread();
        if (registrations.isEmpty()) {
            return;
        }
        Source s = source.get();
        if (s == null) {
            return; // the node is not running (restarting): the log may be rewritten meanwhile
        }
        List<LostWrite> pending;
        try {
            pending = s.unacknowledged(PAGE);
        } catch (Exception e) {
            sourceFailed("reading its lost writes from the conflict log", e);
            return;
        }
        long now = clock.millis();
        for (Registration r : registrations) {
            r.deliver(pending, now);
        }
        for (LostWrite w : pending) {
            if (!handledByAll(w.conflictId())) {
                continue; // a listener still owes it; later ones may be done (acknowledgements are a set)
            }
            try {
                s.acknowledge(w.conflictId());
            } catch (Exception e) {
                sourceFailed("acknowledging lost write " + w.conflictId(), e);
                return; // told again next round only to listeners that forgot it: none (they remember)
            }
            for (Registration r : registrations) {
                r.handled.remove(w.conflictId());
            }
        }
        if (sourceFailure != null) {
            LOG.info("The conflict log answers again; lost writes are told and acknowledged");
            sourceFailure = null;
        }
    }

    /** Every listener registered now handled it (one registered after the round did not: it is told next round). */
    private boolean handledByAll(long conflictId) {
        if (registrations.isEmpty()) {
            return false;
        }
        for (Registration r : registrations) {
            if (!r.handled.contains(conflictId)) {
                return false;
            }
        }
        return true;
    }

    private void sourceFailed(String what, Exception e) {
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        if (sourceFailure == null) {
            LOG.warn("{} failed ({}); the site's listeners are told when it works again (tried every"
                    + " round; logged once until then)", what, message);
        } else {
            LOG.debug("{} failed again: {}", what, message);
        }
        sourceFailure = message;
    }

    /** One listener and what it handled in this run. Its fields are touched by the delivery thread only. */
    private final class Registration implements AutoCloseable {
        private final LostWriteListener listener;
        private final Set<Long> handled = new HashSet<>();
        private final ReentrantLock busy = new ReentrantLock();
        private volatile boolean closed;
        private int failures;
        private long retryAt;

        Registration(LostWriteListener listener) {
            this.listener = listener;
        }

        void deliver(List<LostWrite> pending, long now) {
            if (now < retryAt) {
                return;
            }
            busy.lock();
            try {
                for (LostWrite w : pending) {
                    if (closed) {
                        return;
                    }
                    if (handled.contains(w.conflictId())) {
                        continue;
                    }
                    try {
                        listener.lost(w);
                    } catch (Exception | LinkageError e) {
                        failed(w, e);
                        return; // in order: this listener is told this write again before any later one
                    }
                    handled.add(w.conflictId());
                    if (failures > 0) {
                        LOG.info("Lost-write listener {} handled lost write {} after {} failed"
                                + " attempt(s)", name(), w.conflictId(), failures);
                        failures = 0;
                        retryAt = 0;
                    }
                }
            } finally {
                busy.unlock();
            }
        }

        private void failed(LostWrite w, Throwable e) {
            failures++;
            long wait = backoffMillis(failures);
            retryAt = clock.millis() + wait;
            if (failures == 1) {
                LOG.warn("Lost-write listener {} threw on lost write {} ({} of {}); it is told again in"
                        + " {} ms, the wait doubling up to {} s while it keeps throwing (logged once until it"
                        + " succeeds); other listeners go on", name(), w.conflictId(), w.kind(), w.table(),
                        wait, MAX_BACKOFF.toSeconds(), e);
            } else {
                LOG.debug("Lost-write listener {} threw again on lost write {} (attempt {}): {}; next"
                        + " try in {} ms", name(), w.conflictId(), failures, e.toString(), wait);
            }
        }

        private String name() {
            return listener.getClass().getName();
        }

        /** Removes the listener, waiting (bounded) for a call in progress unless called from within it. */
        @Override
        public void close() {
            closed = true;
            registrations.remove(this);
            if (Thread.currentThread() == deliveryThread || busy.isHeldByCurrentThread()) {
                return;
            }
            try {
                if (busy.tryLock(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    busy.unlock();
                } else {
                    LOG.warn("Lost-write listener {} still runs {} s after it was closed; going on",
                            name(), CLOSE_WAIT.toSeconds());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The wait after the {@code failures}-th failure in a row: 1 s, doubling, at most 60 s. */
    static long backoffMillis(int failures) {
        long wait = FIRST_BACKOFF.toMillis();
        for (int i = 1; i < failures && wait < MAX_BACKOFF.toMillis(); i++) {
            wait *= 2;
        }
        return Math.min(wait, MAX_BACKOFF.toMillis());
    }
}
