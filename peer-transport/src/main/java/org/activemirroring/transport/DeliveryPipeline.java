package org.activemirroring.transport;

import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns envelopes arriving in any order, possibly repeated, from the network, from catch-up and
 * from the local journal into in-order, gapless, once-only calls of the {@link DeliveryHandler}.
 *
 * <p>Envelopes are queued by whoever received them and all the work happens on ONE delivery
 * thread, so JGroups threads never wait for the application, and per-origin state needs no locks.
 * Per remote origin it keeps {@code next} (the seq to deliver next), the hash of the last
 * delivered envelope (to check the chain) and a bounded buffer of early envelopes.
 *
 * <p>An envelope is journaled before it is delivered: once the handler has seen it, this node can
 * serve it to others. A handler failure is retried with backoff, never skipped.
 *
 * <p>Failures are sorted (see {@link DeliveryHandler}): a checked exception from the handler is
 * expected and retried in place, with the same envelope or group. Anything else, a
 * RuntimeException or Error from the handler or a fault of this class, leaves the per-origin
 * state in doubt: the thread then drops all of it, waits ({@link DeliveryRestarts}: 1 s doubling
 * to 60 s), asks the handler where it stands ({@link DeliveryHandler#restartFrom}) and starts over
 * from there, as at start: first what the local journal holds past that point, then the queue.
 * Envelopes it held only in memory (early ones) come again through catch-up. So delivery never
 * stops for good, and nothing is delivered twice or skipped.
 */
final class DeliveryPipeline {

    private static final Logger LOG = LoggerFactory.getLogger(DeliveryPipeline.class);

    /** Early envelopes kept per origin; beyond this they are dropped and fetched again later. */
    static final int MAX_BUFFERED_PER_ORIGIN = 10_000;
    /** Early envelopes' payload bytes kept per origin, for the same reason. */
    static final long MAX_BUFFERED_BYTES_PER_ORIGIN = 64L * 1024 * 1024;
    /**
     * Queued payload bytes, in KiB permits; when used up the network's envelopes are dropped
     * (catch-up refetches them) and catch-up waits. Bytes, not a count: payloads range from a few
     * bytes to many MiB, and a count alone could hold gigabytes.
     */
    static final int QUEUE_KIB = 64 * 1024;
    static final long MIN_BACKOFF_MS = 50;
    static final long MAX_BACKOFF_MS = 5_000;

    /** Told about a hole in an origin's sequence, so it can be fetched. */
    interface GapListener {
        void missing(String origin, long fromSeq, long toSeq, String seenFrom);
    }

    /**
     * Waits before a restart; false when the pipeline closes meanwhile. The default waits on the
     * pipeline's own condition, so {@link #close} ends it at once; tests replace it to see and
     * control the delays instead of sleeping through them.
     */
    interface RestartPause {
        boolean await(long millis) throws InterruptedException;
    }

    private record Inbound(Envelope envelope, String from, int permits) {
        Inbound(Envelope envelope, String from) {
            this(envelope, from, permitsFor(envelope));
        }
    }

    private static int permitsFor(Envelope e) {
        // at least 1 so that empty payloads count too; at most all, so a huge one can still pass alone
        return (int) Math.min(QUEUE_KIB, 1 + e.payload().length / 1024);
    }

    private static final class OriginState {
        long next;
        byte[] lastHash; // null when the previous envelope is unknown (e.g. after a snapshot join)
        final TreeMap<Long, Inbound> early = new TreeMap<>();
        long earlyBytes;
        /** The envelope at {@code next}, journaled, that the handler said it cannot take yet; or null. */
        Inbound parked;
    }

    /** How often parked envelopes are offered again when nothing else is delivered meanwhile. */
    static final long PARKED_RETRY_MS = 200;

    /** At most this many envelopes between two flushes of the handler. */
    static final int MAX_GROUP = 500;
    /** ... and at most this many payload bytes. */
    static final long MAX_GROUP_BYTES = 16L * 1024 * 1024;
    /** ... and none older than this (a steady stream never leaves the queue empty). */
    static final long MAX_GROUP_NANOS = TimeUnit.MILLISECONDS.toNanos(20);
    /**
     * ... or than this while at least {@link #MAX_GROUP} more wait behind the group: a backlog
     * (catch-up after a start, a burst) waits for all of it anyway, and a cold JVM fills a group
     * slowly, so the age limit would cut it into many small transactions.
     */
    static final long MAX_BACKLOG_GROUP_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private final String self;
    private final Journal journal;
    private final DeliveryHandler handler;
    /** Where delivery (re)started: per origin, the highest seq the handler had (delivery thread only). */
    private Map<String, Long> applied;
    private final GapListener gaps;
    private final TransportCounters counters;
    private final BlockingQueue<Inbound> queue = new LinkedBlockingQueue<>();
    private final Semaphore room = new Semaphore(QUEUE_KIB);
    private final Map<String, OriginState> states = new HashMap<>(); // delivery thread only
    private final Map<String, Long> delivered = new ConcurrentHashMap<>();
    private final Map<String, Long> received = new ConcurrentHashMap<>();
    /** Envelopes handed to the handler since its last flush, in delivery order (delivery thread only). */
    private final List<Inbound> unflushed = new ArrayList<>();
    /** Per origin with unflushed envelopes, its next and lastHash before the first of them. */
    private final Map<String, Object[]> groupStart = new HashMap<>();
    /** Envelopes to deliver again, before the queue, after the handler lost a group. */
    private final Deque<Inbound> redo = new ArrayDeque<>();
    private long unflushedBytes;
    private long groupStartNanos;
    /** After a lost group: flush after every envelope until the redone ones are through. */
    private boolean single;
    private long groupBackoff = MIN_BACKOFF_MS;
    private int lostGroups;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition stopping = lock.newCondition();
    private final Thread thread;
    private volatile boolean closed;
    private final DeliveryRestarts restarts;
    private final RestartPause restartPause;
    /** The envelope handed to the handler and not returned yet, for the failure report (delivery thread only). */
    private Envelope inHand;
    /** Whether the handler's flush runs, for the failure report (delivery thread only). */
    private boolean flushing;
    /** Whether the handler's restartFrom runs, for the failure report (delivery thread only). */
    private boolean askingWhereToRestart;
    /** After a restart: true until what had to be redone went through (delivery thread only). */
    private boolean recovering;

    DeliveryPipeline(String self, Journal journal, DeliveryHandler handler, Map<String, Long> appliedVector,
                     GapListener gaps, TransportCounters counters) {
        this(self, journal, handler, appliedVector, gaps, counters, new DeliveryRestarts(self, Clock.systemUTC()), null);
    }

    /**
     * @param restarts     when to restart after an unexpected failure, and the record of it
     * @param restartPause how to wait before a restart; null: wait on this pipeline (ends on close)
     */
    DeliveryPipeline(String self, Journal journal, DeliveryHandler handler, Map<String, Long> appliedVector,
                     GapListener gaps, TransportCounters counters, DeliveryRestarts restarts,
                     RestartPause restartPause) {
        this.restarts = restarts;
        this.restartPause = restartPause != null ? restartPause : this::awaitStop;
        this.self = self;
        this.journal = journal;
        this.handler = handler;
        this.applied = Map.copyOf(appliedVector);
        this.gaps = gaps;
        this.counters = counters;
        this.thread = org.activemirroring.logging.LogContext.thread(self, "am-transport-" + self + "-delivery",
                this::run);
        // The subscriber's applied vector is what it has: report it as received and delivered.
        applied.forEach((o, s) -> {
            if (s > 0) {
                received.put(o, s);
                delivered.put(o, s);
            }
        });
    }

    void start() {
        restarts.started();
        thread.start();
    }

    /**
     * True while envelopes are being delivered: the thread runs and is not closing, and is not
     * down after an unexpected failure (waiting to restart, or redoing what was lost).
     */
    boolean isRunning() {
        return threadRunning() && !restarts.isDown();
    }

    private boolean threadRunning() {
        return !closed && thread.isAlive();
    }

    /** Whether delivery runs, how often it restarted, its last unexpected error, what is held back. */
    DeliveryStatus status() {
        DeliveryStatus s = restarts.status(threadRunning());
        Held h = held;
        return h == null ? s : s.withHeldBack(h.what(), h.since());
    }

    /** An envelope the handler keeps refusing (see {@link DeliveryStatus#heldBack}). */
    private record Held(String what, Instant since) {
    }

    private volatile Held held;

    /** Notes that delivering {@code e} failed with an expected failure; since the first such try. */
    private void markHeld(Envelope e, Exception ex) {
        Held before = held;
        String id = e.origin() + "#" + e.seq();
        held = new Held(id + ": " + DeliveryRestarts.cut(String.valueOf(ex.getMessage())),
                before != null && before.what().startsWith(id + ": ") ? before.since() : restarts.now());
    }

    private volatile TransportObserver observer = TransportObserver.NONE;

    void observe(TransportObserver o) {
        observer = o;
    }

    /** From a network thread: never blocks; drops (catch-up will refetch) if the queue is full. */
    void offer(Envelope e, String from) {
        observer.received(e, EpochMicros.now());
        Inbound in = new Inbound(e, from);
        if (!room.tryAcquire(in.permits())) {
            LOG.debug("Delivery queue full, dropped {} from {}; catch-up will fetch it again", e, from);
            return;
        }
        queue.add(in);
    }

    /** From the catch-up thread: waits for room, so catch-up cannot outrun delivery. */
    void put(Envelope e, String from) throws InterruptedException {
        Inbound in = new Inbound(e, from);
        room.acquire(in.permits());
        queue.add(in);
    }

    /** Envelopes waiting for the delivery thread. */
    int backlog() {
        return queue.size();
    }

    /** Highest seq of {@code origin} held without gap (journaled or applied), 0 if none. */
    long receivedPosition(String origin) {
        return received.getOrDefault(origin, 0L);
    }

    /** Highest seq handed to the handler, per origin (applied vector included). */
    Map<String, Long> delivered() {
        return Map.copyOf(delivered);
    }

    /** Stops the delivery thread promptly (also out of a backoff wait or a slow handler) and joins it. */
    void close() {
        closed = true;
        lock.lock();
        try {
            stopping.signalAll();
        } finally {
            lock.unlock();
        }
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            LOG.warn("Delivery thread {} did not stop within 10 s (the delivery handler ignores interrupts?)",
                    thread.getName());
        }
    }

    /**
     * Delivers until closed. An unexpected failure (anything but what {@link #deliverUntilClosed}
     * handles itself) is recorded, and after a backoff delivery starts over from what the handler
     * committed; a failure of the restart itself is one more failure. Only {@link #close} ends it.
     */
    private void run() {
        boolean restart = false;
        while (!closed) {
            Throwable failure;
            try {
                if (restart) {
                    restarts.restarting();
                    startOver();
                }
                deliverUntilClosed(restart);
                return;
            } catch (InterruptedException e) {
                if (closed) {
                    return;
                }
                failure = e; // only close() interrupts this thread: anything else is a fault too
            } catch (Throwable t) { // RuntimeException or Error: the in-memory state is in doubt
                if (closed) {
                    return;
                }
                failure = t;
            }
            restart = true;
            long delay = restarts.failed(failure, during());
            Thread.interrupted(); // a stray interrupt must not cut the wait short: that would spin
            try {
                if (!restartPause.await(delay)) {
                    return;
                }
            } catch (InterruptedException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    /** What was going on when a failure struck, for the log and status; null if nothing in particular. */
    private String during() {
        Envelope e = inHand;
        if (e != null) {
            return "delivering " + e.origin() + "#" + e.seq();
        }
        if (askingWhereToRestart) {
            return "asking the delivery handler where to restart";
        }
        return flushing ? "flushing a group of " + unflushed.size() + " envelope(s)" : null;
    }

    /**
     * Forgets all per-origin state, open group and redo list (they may be half updated) and sets
     * the start position to what the handler committed, or, if it cannot say, to what was flushed.
     * The queue stays: its envelopes are checked against the new position like any others.
     */
    private void startOver() throws Exception {
        states.clear();
        parkedCount = 0;
        unflushed.clear();
        groupStart.clear();
        unflushedBytes = 0;
        redo.clear();
        single = false;
        lostGroups = 0;
        groupBackoff = MIN_BACKOFF_MS;
        inHand = null;
        flushing = false;
        Map<String, Long> flushed = Map.copyOf(delivered);
        askingWhereToRestart = true;
        Map<String, Long> committed = handler.restartFrom();
        askingWhereToRestart = false;
        Map<String, Long> from = committed == null ? flushed : Map.copyOf(committed);
        for (Map.Entry<String, Long> f : flushed.entrySet()) {
            long c = from.getOrDefault(f.getKey(), 0L);
            if (c < f.getValue()) {
                LOG.warn("The delivery handler says it committed {}#{} but its flush of {}#{} had succeeded;"
                        + " delivering from {}#{} again", f.getKey(), c, f.getKey(), f.getValue(), f.getKey(), c + 1);
            }
        }
        applied = from;
        delivered.keySet().retainAll(from.keySet());
        from.forEach((o, seq) -> {
            if (seq > 0) {
                delivered.put(o, seq);
                received.merge(o, seq, Math::max);
            } else {
                delivered.remove(o);
            }
        });
    }

    /**
     * Delivers the local journal's envelopes past the start position, then the queue, until
     * closed. Handles expected failures itself; throws what it cannot handle.
     *
     * @param restarted after an unexpected failure: delivery counts as running again once what it
     *                  redid from the journal is flushed
     */
    private void deliverUntilClosed(boolean restarted) throws InterruptedException {
        recovering = restarted;
        try {
            replayLocalJournal();
        } catch (IOException e) {
            // not fatal: what could not be read from disk is fetched from peers instead
            LOG.warn("Replaying the local journal stopped early: {}; catch-up fetches the rest from peers",
                    e.toString());
        }
        while (!closed) {
            if (recovering && unflushed.isEmpty() && redo.isEmpty()) {
                recovering = false;
                restarts.resumed();
            }
            if (!unflushed.isEmpty() && (single || (queue.isEmpty() && redo.isEmpty()) || groupFull())) {
                flush();
                continue;
            }
            Inbound in = redo.poll();
            if (in == null) {
                in = parkedCount > 0 || !unflushed.isEmpty()
                        ? queue.poll(unflushed.isEmpty() ? PARKED_RETRY_MS : 1, TimeUnit.MILLISECONDS)
                        : queue.take();
                if (in != null) {
                    room.release(in.permits());
                }
            }
            if (in != null) {
                process(in);
            }
            if (parkedCount > 0) {
                retryParked();
            }
        }
    }

    /**
     * Envelopes that reached the journal but not the subscriber before a crash: delivered first,
     * from disk, so they need not come over the network again.
     */
    private void replayLocalJournal() throws IOException, InterruptedException {
        for (String origin : journal.heads().keySet()) {
            if (origin.equals(self)) {
                continue;
            }
            OriginState st = state(origin);
            long head = journal.head(origin);
            while (!closed && st.next <= head) {
                var batch = journal.read(origin, st.next, 1000);
                if (batch.isEmpty()) {
                    break; // a hole in our journal: catch-up fetches the rest
                }
                long before = st.next;
                for (Envelope e : batch) {
                    process(new Inbound(e, "local journal"));
                }
                if (st.next == before) {
                    break; // refused (broken chain): do not spin
                }
            }
            if (st.next > 1 + applied.getOrDefault(origin, 0L)) {
                // after a restart only at debug: a restart logs one line, not one per origin
                String text = "Delivered {}#{}..{} from the local journal";
                if (recovering) {
                    LOG.debug(text, origin, applied.getOrDefault(origin, 0L) + 1, st.next - 1);
                } else {
                    LOG.info(text, origin, applied.getOrDefault(origin, 0L) + 1, st.next - 1);
                }
            }
        }
    }

    private boolean groupFull() {
        long age = System.nanoTime() - groupStartNanos;
        return unflushed.size() >= MAX_GROUP || unflushedBytes >= MAX_GROUP_BYTES
                || age >= (queue.size() >= MAX_GROUP ? MAX_BACKLOG_GROUP_NANOS : MAX_GROUP_NANOS);
    }

    /**
     * Asks the handler to make the group durable; only then are its envelopes delivered. If the
     * handler fails, the whole group is offered again.
     */
    private void flush() throws InterruptedException {
        flushing = true;
        try {
            handler.flush();
        } catch (RuntimeException e) {
            throw e; // unexpected: run() starts over from what the handler committed
        } catch (Exception e) {
            flushing = false;
            groupLost(e, null);
            return;
        }
        flushing = false;
        for (Inbound in : unflushed) {
            delivered.put(in.envelope().origin(), in.envelope().seq());
        }
        if (lostGroups > 0) {
            LOG.info("Delivered again after {} lost group(s)", lostGroups);
            lostGroups = 0;
            held = null;
        }
        groupBackoff = MIN_BACKOFF_MS;
        unflushed.clear();
        groupStart.clear();
        unflushedBytes = 0;
        if (redo.isEmpty()) {
            single = false; // what was lost is through: group again
        }
    }

    /**
     * The handler rolled back everything since its last flush: origins go back to where the group
     * started, and the group (then {@code current}, if any) is delivered again, one envelope per
     * flush, after a backoff.
     */
    private void groupLost(Exception cause, Inbound current) throws InterruptedException {
        Inbound first = unflushed.isEmpty() ? current : unflushed.get(0);
        if (first != null) {
            markHeld(first.envelope(), cause); // delivered again one by one: the one that fails shows
        }
        if (lostGroups++ == 0) {
            LOG.warn("Delivering a group of {} envelope(s) failed; delivering them again with backoff: {}",
                    unflushed.size() + (current == null ? 0 : 1), cause.toString());
        }
        for (Map.Entry<String, Object[]> g : groupStart.entrySet()) {
            OriginState st = states.get(g.getKey());
            st.next = (Long) g.getValue()[0];
            st.lastHash = (byte[]) g.getValue()[1];
            if (st.parked != null) {
                // Parked after this origin's lost envelopes: it comes again in order.
                st.early.put(st.parked.envelope().seq(), st.parked);
                st.earlyBytes += st.parked.envelope().payload().length;
                st.parked = null;
                parkedCount--;
            }
        }
        List<Inbound> again = new ArrayList<>(unflushed);
        if (current != null) {
            again.add(current);
        }
        for (int i = again.size() - 1; i >= 0; i--) {
            redo.addFirst(again.get(i));
        }
        unflushed.clear();
        groupStart.clear();
        unflushedBytes = 0;
        single = true;
        if (!awaitStop(groupBackoff)) {
            return;
        }
        groupBackoff = Math.min(groupBackoff * 2, MAX_BACKOFF_MS);
    }

    /** Origins whose next envelope waits for others (delivery thread only). */
    private int parkedCount;

    /**
     * Offers parked envelopes again, repeating while any of them goes through: one delivered
     * envelope can be exactly what another origin's parked one waited for.
     */
    private void retryParked() throws InterruptedException {
        boolean progress = true;
        while (progress && parkedCount > 0 && !closed) {
            progress = false;
            for (Map.Entry<String, OriginState> entry : states.entrySet()) {
                OriginState st = entry.getValue();
                Inbound in = st.parked;
                if (in == null) {
                    continue;
                }
                st.parked = null;
                parkedCount--;
                if (accept(st, in)) {
                    progress = true;
                    drainEarly(st);
                }
            }
        }
    }

    private OriginState state(String origin) {
        OriginState st = states.get(origin);
        if (st == null) {
            st = new OriginState();
            long last = applied.getOrDefault(origin, 0L);
            st.next = last + 1;
            if (last == 0) {
                st.lastHash = EnvelopeCodec.zeroHash();
            } else {
                try {
                    var prev = journal.read(origin, last, 1);
                    st.lastHash = prev.isEmpty() ? null : EnvelopeCodec.hash(prev.get(0));
                } catch (IOException e) {
                    // unknown predecessor: the chain check starts with the next envelope instead
                    LOG.warn("Cannot read {}#{} from the journal ({}); not checking the hash chain of {}#{}",
                            origin, last, e.toString(), origin, last + 1);
                    st.lastHash = null;
                }
            }
            states.put(origin, st);
        }
        return st;
    }

    private void process(Inbound in) throws InterruptedException {
        Envelope e = in.envelope();
        if (e.origin().equals(self)) {
            return; // our own history comes back through catch-up of other origins' peers: not for us
        }
        OriginState st = state(e.origin());
        if (e.seq() < st.next) {
            counters.duplicatesDropped.incrementAndGet();
            return;
        }
        if (e.seq() == st.next && st.parked != null) {
            counters.duplicatesDropped.incrementAndGet(); // the parked copy is retried
            return;
        }
        if (e.seq() > st.next) {
            if (st.early.containsKey(e.seq())) {
                counters.duplicatesDropped.incrementAndGet();
            } else if (st.early.size() < MAX_BUFFERED_PER_ORIGIN && st.earlyBytes < MAX_BUFFERED_BYTES_PER_ORIGIN) {
                st.early.put(e.seq(), in);
                st.earlyBytes += e.payload().length;
            } // else dropped: the gap fetch or a later round brings it again
            gaps.missing(e.origin(), st.next, e.seq() - 1, in.from());
            return;
        }
        if (accept(st, in)) {
            drainEarly(st);
        }
    }

    /** Delivers successors that arrived early; older entries below next are stale duplicates. */
    private void drainEarly(OriginState st) throws InterruptedException {
        while (!closed && st.parked == null) {
            Map.Entry<Long, Inbound> first = st.early.firstEntry();
            if (first == null || first.getKey() > st.next) {
                break;
            }
            st.early.pollFirstEntry();
            st.earlyBytes -= first.getValue().envelope().payload().length;
            if (first.getKey() < st.next) {
                counters.duplicatesDropped.incrementAndGet();
            } else if (!accept(st, first.getValue())) {
                break;
            }
        }
    }

    /** Checks, journals and delivers the envelope at {@code st.next}; false if refused or closing. */
    private boolean accept(OriginState st, Inbound in) throws InterruptedException {
        Envelope e = in.envelope();
        if (st.lastHash != null && !Arrays.equals(st.lastHash, e.prevHash())) {
            counters.invalidDropped.incrementAndGet();
            LOG.warn("Dropped {} from {}: its prevHash does not match the hash of {}#{} (rewritten history or a "
                    + "corrupt peer); it will be fetched again from another peer",
                    e, in.from(), e.origin(), e.seq() - 1);
            return false;
        }
        Object[] before = {st.next, st.lastHash};
        Boolean done = journalAndDeliver(in);
        if (done == null) {
            st.parked = in;
            parkedCount++;
            return false;
        }
        if (!done) {
            return false;
        }
        if (unflushed.isEmpty()) {
            groupStartNanos = System.nanoTime();
        }
        groupStart.putIfAbsent(e.origin(), before);
        unflushed.add(in);
        unflushedBytes += e.payload().length;
        st.next = e.seq() + 1;
        st.lastHash = EnvelopeCodec.hash(e);
        return true;
    }

    /**
     * Journals (without fsync: a received envelope can be fetched again) and hands to the handler,
     * retrying the same envelope with backoff until it succeeds or the transport closes.
     *
     * <p>While a group is open (envelopes delivered since the handler's last flush), a failure
     * voids the whole group: it is delivered again ({@link #groupLost}), this envelope after it.
     *
     * @return true when delivered, false when closing or the group was lost, null when the
     *         handler cannot take it yet
     */
    private Boolean journalAndDeliver(Inbound in) throws InterruptedException {
        Envelope e = in.envelope();
        long backoff = MIN_BACKOFF_MS;
        int failures = 0;
        while (!closed) {
            try {
                journal.append(e, false); // false = already held (e.g. replay): fine
                received.merge(e.origin(), e.seq(), Math::max);
                inHand = e;
                handler.deliver(e);
                inHand = null;
                if (failures > 0) {
                    LOG.info("Delivered {} after {} failed attempts", e, failures);
                    held = null;
                }
                return true;
            } catch (NotYetDeliverableException ex) {
                inHand = null;
                LOG.debug("{} waits: {}", e, ex.getMessage());
                return null;
            } catch (InterruptedException ex) {
                if (closed) {
                    return false;
                }
                Thread.currentThread().interrupt();
                throw ex;
            } catch (RuntimeException ex) {
                throw ex; // unexpected (a bug): run() starts over from what the handler committed
            } catch (Exception ex) {
                inHand = null;
                if (!unflushed.isEmpty()) {
                    groupLost(ex, in);
                    return false;
                }
                if (failures++ == 0) {
                    // once per streak: a database restart must not flood the log
                    LOG.warn("Delivering {} failed; retrying with backoff until it succeeds: {}", e, ex.toString());
                }
                markHeld(e, ex);
                if (!awaitStop(backoff)) {
                    return false;
                }
                backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
            }
        }
        return false;
    }

    /** Waits {@code ms} unless closing; false if closing. */
    private boolean awaitStop(long ms) throws InterruptedException {
        lock.lock();
        try {
            long nanos = TimeUnit.MILLISECONDS.toNanos(ms);
            while (!closed && nanos > 0) {
                nanos = stopping.awaitNanos(nanos);
            }
            return !closed;
        } finally {
            lock.unlock();
        }
    }
}
