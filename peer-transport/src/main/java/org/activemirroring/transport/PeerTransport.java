package org.activemirroring.transport;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything a mirror needs from the network, and nothing about how it is done.
 *
 * <ul>
 *   <li>{@link #publish} gives a payload the next sequence number of this origin, writes it to the
 *       durable journal, then sends it to every mirror.</li>
 *   <li>Envelopes of other origins reach the {@link DeliveryHandler} per origin in order, without
 *       gaps, at most once per transport lifetime. Envelopes missed while away (or lost on the
 *       wire) are fetched from any peer whose journal has them.</li>
 *   <li>Membership changes are reported to listeners.</li>
 *   <li>Unicast request/response between mirrors, for catch-up and later for joins.</li>
 * </ul>
 */
public interface PeerTransport extends AutoCloseable {

    /** This mirror's node id. */
    String localNodeId();

    /**
     * Registers a handler for a kind of unicast request. Call before {@link #start}. Kinds starting
     * with {@code "transport."} are reserved.
     */
    void registerRequestHandler(String kind, RequestHandler handler);

    /** Adds a membership listener; it is called once with the current members when the node starts. */
    void addMembershipListener(MembershipListener listener);

    /**
     * Joins the cluster without delivering: members are known, requests are answered (this node's
     * journal, registered handlers) and {@link #request} works, but envelopes that arrive are not
     * delivered (catch-up fetches them once {@link #start} runs). A joining mirror talks to its
     * donor this way before its database can take changes. Idempotent.
     */
    void connect() throws TransportException;

    /**
     * Joins the cluster (if {@link #connect} did not already) and starts delivering.
     *
     * @param handler       receives remote envelopes
     * @param appliedVector per remote origin, the highest seq the subscriber has durably applied
     *                      (missing origin = 0); delivery resumes right after it
     */
    void start(DeliveryHandler handler, Map<String, Long> appliedVector) throws TransportException;

    /**
     * Journals and sends one payload. When this returns, the envelope is in the local journal
     * (fsynced unless the journal is configured otherwise) and has been handed to the network.
     */
    Envelope publish(String payloadType, byte[] payload) throws TransportException;

    /**
     * The newest envelopes this node holds for {@code origin}, oldest first, at most {@code max}.
     * Used by capture to recognise transactions it had already published before a restart.
     */
    List<Envelope> journalTail(String origin, int max) throws TransportException;

    /**
     * Adds a listener told when catch-up finds that no reachable mirror holds envelopes this one
     * still needs ({@link HistoryLossListener}). Called on the catch-up thread, once per origin.
     */
    void onHistoryLost(HistoryLossListener listener);

    /** Sends a request to one mirror and waits for its answer. */
    byte[] request(String node, String kind, byte[] body, Duration timeout) throws TransportException;

    /** Like {@link #request}, the answer in place where the transport received it (no copy). */
    default Reply requestReply(String node, String kind, byte[] body, Duration timeout) throws TransportException {
        return Reply.of(request(node, kind, body, timeout));
    }

    /**
     * How far this mirror still is from what the other members held when it started delivering:
     * per origin, the envelopes up to the highest journal head any member reported in catch-up's
     * first round that are not delivered yet, i.e. not handed to the delivery handler and flushed
     * (origins caught up are absent).
     * Null until that round has asked every reachable member. Lets a starting mirror apply its
     * backlog before it takes on more work (capture) and before it serves.
     */
    default Map<String, Long> behindStart() {
        return Map.of();
    }

    /** Replaces the observer of envelope stages (null: none). Safe to call at any time. */
    void observe(TransportObserver observer);

    /** Reachable mirrors, this node included. */
    Set<String> members();

    TransportStats stats();

    /** Leaves the cluster, stops all threads, closes the journal. Idempotent. */
    @Override
    void close();
}
