package org.activemirroring.transport;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches envelopes this node missed (while it was away, or lost on the wire) from any peer whose
 * journal has them: peers journal what they receive, so the origin need not be reachable.
 *
 * <p>Runs only on its own single scheduler thread, never on a JGroups thread: a round on start,
 * on every view change and every interval asks each member for its journal heads and fetches, in
 * chunks, whatever is beyond this node's received position. A hole noticed by the delivery
 * pipeline is fetched at once, from the member that sent the later envelope first. Fetched
 * envelopes go through the same pipeline as multicast ones (dedupe, hash chain, order). At most
 * one fetch per origin is in flight.
 */
final class CatchUp implements DeliveryPipeline.GapListener {

    private static final Logger LOG = LoggerFactory.getLogger(CatchUp.class);

    /** Envelopes asked for per fetch request; the responder also caps by bytes. */
    static final int CHUNK = 1000;

    /** The remote calls catch-up needs; implemented by the transport. */
    interface Peers {
        /** Other members' node ids. */
        List<String> others();

        Map<String, Long> heads(String node) throws TransportException;

        List<Envelope> fetch(String node, String origin, long fromSeq, int maxCount) throws TransportException;

        /** Per origin, the lowest seq the node's journal still holds. */
        Map<String, Long> firsts(String node) throws TransportException;
    }

    private final String self;
    private final Peers peers;
    private final DeliveryPipeline pipeline;
    private final ScheduledExecutorService exec;
    private final long intervalMs;
    private final HistoryLossListener lossListener;
    /** Per origin behind its peers: the received position the previous round saw (catch-up thread only). */
    private final Map<String, Long> behindAt = new java.util.HashMap<>();
    /**
     * Per origin, the highest seq catch-up has put into the pipeline. The pipeline's received
     * position only moves when the delivery thread takes an envelope, so while fetched envelopes
     * still wait in its queue, this is what the next round must not fetch again.
     */
    private final Map<String, Long> queuedUpTo = new ConcurrentHashMap<>();
    /** Origins already reported lost: reported once per transport lifetime. */
    private final Set<String> reportedLost = ConcurrentHashMap.newKeySet();
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    /**
     * Holes reported while a fetch for the same origin was running: that fetch may end below them
     * (it asked for what a peer had before the hole appeared), so they are fetched when it ends.
     */
    private final Map<String, Hole> deferred = new ConcurrentHashMap<>();

    private record Hole(long toSeq, String seenFrom) {
    }
    /** Per origin, the highest head any member reported in the previous periodic round. */
    private Map<String, Long> previousHeads = Map.of(); // catch-up thread only
    /**
     * Per other origin, the highest head the members reported in the first round that ran: what
     * this node has to deliver before it counts as caught up after a start.
     */
    private final CompletableFuture<Map<String, Long>> firstHeads = new CompletableFuture<>();
    private volatile boolean closed;

    CatchUp(String self, Peers peers, DeliveryPipeline pipeline, ScheduledExecutorService exec, long intervalMs,
            HistoryLossListener lossListener) {
        this.lossListener = lossListener;
        this.self = self;
        this.peers = peers;
        this.pipeline = pipeline;
        this.exec = exec;
        this.intervalMs = intervalMs;
    }

    void start() {
        submit(() -> safeRound(true));
        exec.scheduleWithFixedDelay(() -> safeRound(false), intervalMs, intervalMs, TimeUnit.MILLISECONDS);
    }

    /** Membership changed: someone new may have what we miss. */
    void viewChanged() {
        submit(() -> safeRound(true));
    }

    void close() {
        closed = true;
    }

    @Override
    public void missing(String origin, long fromSeq, long toSeq, String seenFrom) {
        if (!inFlight.add(origin)) {
            deferred.merge(origin, new Hole(toSeq, seenFrom), (a, b) -> a.toSeq() >= b.toSeq() ? a : b);
            if (inFlight.add(origin)) {
                release(origin); // the running fetch ended in between: handle the deferred hole now
            }
            return;
        }
        submit(() -> {
            try {
                long from = Math.max(fromSeq, queuedSince(origin) + 1);
                long cursor = from > toSeq ? from : fetchRange(seenFrom, origin, from, toSeq);
                if (cursor > from) {
                    LOG.info("Fetched missing {}#{}..{} from {}", origin, from, cursor - 1, seenFrom);
                }
                for (String other : peers.others()) {
                    if (cursor > toSeq || closed) {
                        break;
                    }
                    if (!other.equals(seenFrom)) {
                        cursor = fetchRange(other, origin, cursor, toSeq);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                release(origin);
            }
        });
    }

    /** Ends a fetch for {@code origin}; a hole reported meanwhile that is still open is fetched now. */
    private void release(String origin) {
        inFlight.remove(origin);
        Hole hole = deferred.remove(origin);
        if (hole != null && !closed) {
            long from = Math.max(pipeline.receivedPosition(origin), queuedSince(origin)) + 1;
            if (from <= hole.toSeq()) {
                missing(origin, from, hole.toSeq(), hole.seenFrom());
            }
        }
    }

    /**
     * The highest seq of {@code origin} catch-up queued that may still wait for the delivery
     * thread; 0 once the queue is empty (then the received position is exact, and an envelope the
     * pipeline refused is fetched again).
     */
    private long queuedSince(String origin) {
        return pipeline.backlog() > 0 ? queuedUpTo.getOrDefault(origin, 0L) : 0L;
    }

    private void submit(Runnable task) {
        if (closed) {
            return;
        }
        try {
            exec.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing: nothing left to catch up for
        }
    }

    private void safeRound(boolean eager) {
        try {
            round(eager);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // never let one failure end the periodic schedule
            LOG.warn("Catch-up round failed; retrying in {} ms", intervalMs, e);
        }
    }

    /**
     * One catch-up round over all members.
     *
     * @param eager fetch up to the heads reported now (on start and view change: we know we were
     *              away). A periodic round only fetches up to the heads reported in the previous
     *              round: envelopes published since are most likely still on the wire to us, and
     *              fetching them too would double the traffic under steady load.
     */
    private void round(boolean eager) throws InterruptedException {
        if (pipeline.backlog() > CHUNK) {
            return; // what we fetched last time is still being delivered; do not fetch it twice
        }
        Map<String, Long> seenNow = new java.util.HashMap<>();
        Map<String, Long> previous = previousHeads;
        try {
            fetchBehind(eager, previous, seenNow);
        } finally {
            previousHeads = seenNow;
        }
        if (!firstHeads.isDone()) {
            Map<String, Long> others = new java.util.HashMap<>(seenNow);
            others.remove(self);
            firstHeads.complete(Map.copyOf(others));
        }
        checkHistoryLost(seenNow);
    }

    /**
     * Completes once the first round has asked every reachable member for its journal heads: per
     * other origin, the highest head reported. Never completes if the transport closes first.
     */
    CompletableFuture<Map<String, Long>> firstHeads() {
        return firstHeads;
    }

    /**
     * An origin this node is behind on, whose received position did not move for a whole round,
     * while every reachable member answers that its journal starts after what this node needs (or
     * holds none of it): retention deleted that history everywhere, and catch-up cannot fill the
     * gap. Reported once per origin.
     */
    private void checkHistoryLost(Map<String, Long> heads) throws InterruptedException {
        for (Map.Entry<String, Long> h : heads.entrySet()) {
            String origin = h.getKey();
            if (origin.equals(self) || reportedLost.contains(origin)) {
                continue;
            }
            long have = pipeline.receivedPosition(origin);
            if (h.getValue() <= have) {
                behindAt.remove(origin);
                continue;
            }
            Long before = behindAt.put(origin, have);
            if (before == null || before != have) {
                continue; // newly behind, or it moved: catch-up is working
            }
            Map<String, Long> firstHeld = new java.util.TreeMap<>();
            boolean held = false;
            boolean allAnswered = true;
            for (String node : peers.others()) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException();
                }
                try {
                    Long first = peers.firsts(node).get(origin);
                    if (first != null) {
                        firstHeld.put(node, first);
                        held |= first <= have + 1;
                    }
                } catch (TransportException e) {
                    allAnswered = false;
                }
            }
            if (!held && allAnswered && !firstHeld.isEmpty()) {
                reportedLost.add(origin);
                LOG.warn("{} needs {}#{} and later, but no reachable mirror holds it any more (their journals start at {})",
                        self, origin, have + 1, firstHeld);
                try {
                    lossListener.historyLost(origin, have + 1, firstHeld);
                } catch (RuntimeException e) {
                    LOG.warn("History loss listener failed", e);
                }
            }
        }
    }

    private void fetchBehind(boolean eager, Map<String, Long> previous, Map<String, Long> seenNow)
            throws InterruptedException {
        // What this round already queued: the pipeline may not have processed it yet, and asking the
        // next member for the same range would only produce duplicates.
        Map<String, Long> queued = new java.util.HashMap<>();
        for (String node : peers.others()) {
            if (closed || Thread.currentThread().isInterrupted()) {
                return;
            }
            Map<String, Long> heads;
            try {
                heads = peers.heads(node);
            } catch (TransportException e) {
                LOG.debug("Asking {} for its journal heads failed: {}", node, e.getMessage());
                continue;
            }
            for (Map.Entry<String, Long> h : heads.entrySet()) {
                String origin = h.getKey();
                seenNow.merge(origin, h.getValue(), Math::max);
                long target = eager ? h.getValue() : Math.min(h.getValue(), previous.getOrDefault(origin, 0L));
                long have = Math.max(pipeline.receivedPosition(origin), queued.getOrDefault(origin, 0L));
                have = Math.max(have, queuedSince(origin));
                if (origin.equals(self) || target <= have || !inFlight.add(origin)) {
                    continue;
                }
                try {
                    long cursor = fetchRange(node, origin, have + 1, target);
                    queued.merge(origin, cursor - 1, Math::max);
                    if (cursor > have + 1) {
                        LOG.info("Caught up {}#{}..{} from {}", origin, have + 1, cursor - 1, node);
                    }
                } finally {
                    release(origin);
                }
            }
        }
    }

    /**
     * Fetches {@code [from, to]} of {@code origin} from {@code node} in chunks into the pipeline.
     *
     * @return the first seq not obtained
     */
    private long fetchRange(String node, String origin, long from, long to) throws InterruptedException {
        long cursor = from;
        while (cursor <= to && !closed) {
            List<Envelope> batch;
            try {
                batch = peers.fetch(node, origin, cursor, (int) Math.min(CHUNK, to - cursor + 1));
            } catch (TransportException e) {
                LOG.debug("Fetching {}#{}.. from {} failed: {}", origin, cursor, node, e.getMessage());
                return cursor;
            }
            List<Envelope> good = new ArrayList<>();
            for (Envelope e : batch) {
                if (!e.origin().equals(origin) || e.seq() != cursor + good.size()) {
                    LOG.warn("Peer {} answered a fetch of {}#{} with {}; ignoring the rest of its answer", node,
                            origin, cursor, e);
                    break;
                }
                good.add(e);
            }
            if (good.isEmpty()) {
                return cursor;
            }
            for (Envelope e : good) {
                pipeline.put(e, node);
            }
            cursor += good.size();
            queuedUpTo.merge(origin, cursor - 1, Math::max);
        }
        return cursor;
    }
}
