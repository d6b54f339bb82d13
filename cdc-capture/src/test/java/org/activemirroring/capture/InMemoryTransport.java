package org.activemirroring.capture;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import org.activemirroring.transport.DeliveryHandler;
import org.activemirroring.transport.Envelope;
import org.activemirroring.transport.MembershipListener;
import org.activemirroring.transport.PeerTransport;
import org.activemirroring.transport.RequestHandler;
import org.activemirroring.transport.TransportException;
import org.activemirroring.transport.TransportObserver;
import org.activemirroring.transport.TransportStats;

/**
 * A one-node {@link PeerTransport} test double: {@link #publish} appends to an in-memory journal,
 * which tests read back. Only the network is faked; databases in the ITs stay real.
 */
public final class InMemoryTransport implements PeerTransport {
    private final String nodeId;
    private final List<Envelope> journal = new ArrayList<>();
    private final AtomicInteger failuresToInject = new AtomicInteger();

    public InMemoryTransport(String nodeId) {
        this.nodeId = nodeId;
    }

    /** The next {@code n} publish calls fail with a retriable error. */
    void failNextPublishes(int n) {
        failuresToInject.set(n);
    }

    /** What this node published, oldest first. */
    public synchronized List<Envelope> published() {
        return List.copyOf(journal);
    }

    public synchronized int size() {
        return journal.size();
    }

    @Override
    public String localNodeId() {
        return nodeId;
    }

    @Override
    public void registerRequestHandler(String kind, RequestHandler handler) {
    }

    @Override
    public void addMembershipListener(MembershipListener listener) {
    }

    @Override
    public void start(DeliveryHandler handler, Map<String, Long> appliedVector) {
    }

    @Override
    public synchronized Envelope publish(String payloadType, byte[] payload) throws TransportException {
        if (failuresToInject.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new TransportException("injected failure", true);
        }
        Envelope e = new Envelope(Envelope.FORMAT_VERSION, nodeId, journal.size() + 1L,
                new byte[Envelope.HASH_LENGTH], payloadType, payload, new byte[0]);
        journal.add(e);
        return e;
    }

    @Override
    public void onHistoryLost(org.activemirroring.transport.HistoryLossListener listener) {
        // in memory nothing is ever pruned
    }

    @Override
    public void connect() {
        // nothing to join: everything is in memory
    }

    @Override
    public synchronized List<Envelope> journalTail(String origin, int max) {
        List<Envelope> own = journal.stream().filter(e -> e.origin().equals(origin)).toList();
        return List.copyOf(own.subList(Math.max(0, own.size() - max), own.size()));
    }

    @Override
    public byte[] request(String node, String kind, byte[] body, Duration timeout) throws TransportException {
        throw new TransportException("no peers in the in-memory transport", false);
    }

    @Override
    public void observe(TransportObserver observer) {
        // Capture tests look at the published list directly; stage timings are not needed here.
    }

    @Override
    public Set<String> members() {
        return Set.of(nodeId);
    }

    @Override
    public synchronized TransportStats stats() {
        return new TransportStats(Set.of(nodeId), Map.of(nodeId, (long) journal.size()), Map.of(), journal.size(), 0, 0);
    }

    @Override
    public void close() {
    }
}
