package org.activemirroring.mirror;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.activemirroring.capture.ApplyException;
import org.activemirroring.capture.ApplyObserver;
import org.activemirroring.capture.ChangeSetApplier;
import org.activemirroring.capture.DebeziumCapture;
import org.activemirroring.capture.EchoPolicy;
import org.activemirroring.capture.PostgresDialect;
import org.activemirroring.capture.SequenceKeeper;
import org.activemirroring.transport.JGroupsPeerTransport;
import org.activemirroring.transport.TransportObserver;
import org.activemirroring.transport.TransportStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of one mirror: config, then transport, applier and capture, started in
 * the order that loses nothing and stopped in reverse.
 *
 * <p>Start order: the applier connects first (it owns the applied vector), the transport joins
 * the network and resumes delivery right after that vector, and capture starts last so that
 * nothing is published before the transport can journal it. Stop order is the reverse: capture
 * stops producing, the transport stops delivering, the applier disconnects.
 *
 * <p>Before all of them the node aligns its sequences to its key-allocation slot
 * ({@link SequenceKeeper}) and keeps them aligned while it runs: a mirror that accepted writes
 * before could hand out keys another mirror also generates.
 */
public final class MirrorNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MirrorNode.class);

    private final MirrorConfig config;
    private final ChangeSetApplier applier;
    private final JGroupsPeerTransport transport;
    private final DebeziumCapture capture;
    private final SequenceKeeper sequences;
    private volatile boolean closed;

    private MirrorNode(MirrorConfig config, SequenceKeeper sequences, ChangeSetApplier applier,
                       JGroupsPeerTransport transport, DebeziumCapture capture) {
        this.config = config;
        this.sequences = sequences;
        this.applier = applier;
        this.transport = transport;
        this.capture = capture;
    }

    /**
     * Starts a mirror. When this returns the node replicates in both directions.
     *
     * @throws MirrorStartException saying which part failed and what to do
     */
    public static MirrorNode start(MirrorConfig config) {
        List<AutoCloseable> started = new ArrayList<>();
        String node = config.nodeId();
        try {
            SequenceKeeper sequences = SequenceKeeper.start(config.capture(), node);
            started.add(sequences);

            PostgresDialect dialect = new PostgresDialect();
            ChangeSetApplier applier = new ChangeSetApplier(config.capture(), dialect);
            started.add(applier);
            Map<String, Long> applied = applier.appliedVector();

            JGroupsPeerTransport transport = new JGroupsPeerTransport(config.transport());
            started.add(transport);
            transport.start(applier, applied);

            DebeziumCapture capture = new DebeziumCapture(config.capture(), node, config.dataDir(), transport,
                    EchoPolicy.forDialect(dialect));
            started.add(capture);
            capture.start();

            LOG.info("Mirror '{}' is replicating; members {}", node, transport.members());
            return new MirrorNode(config, sequences, applier, transport, capture);
        } catch (Exception e) {
            for (int i = started.size() - 1; i >= 0; i--) {
                try {
                    started.get(i).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new MirrorStartException("Mirror '" + node + "' could not start: " + e.getMessage(), e);
        }
    }

    public String nodeId() {
        return config.nodeId();
    }

    /**
     * True while the node replicates: not closed, sequences aligned at least once, capture
     * running, remote changes being delivered.
     */
    public boolean isReady() {
        return !closed && sequences.asserted() && capture.isRunning() && transport.isDelivering();
    }

    /** A consistent-enough snapshot for the status page (each part read once). */
    public NodeStatus status() {
        TransportStats t = transport.stats();
        String problem = closed ? "stopped" : null;
        if (problem == null && !capture.isRunning()) {
            Throwable failure = capture.failure();
            problem = "capture stopped: " + (failure == null ? "unknown reason" : failure.getMessage());
        }
        if (problem == null && !transport.isDelivering()) {
            problem = "delivery of other mirrors' changes stopped; the log says why; restart this mirror";
        }
        Map<String, Long> applied;
        try {
            applied = applier.appliedVector();
        } catch (ApplyException e) {
            applied = Map.of();
            problem = "cannot read the applied vector from the site database: " + e.getMessage();
        }
        Map<String, NodeStatus.OriginStatus> origins = new TreeMap<>();
        for (Map.Entry<String, Long> head : t.journalHeads().entrySet()) {
            if (head.getKey().equals(nodeId())) {
                continue;
            }
            long a = applied.getOrDefault(head.getKey(), 0L);
            origins.put(head.getKey(), new NodeStatus.OriginStatus(head.getValue(), a, Math.max(0, head.getValue() - a)));
        }
        for (Map.Entry<String, Long> a : applied.entrySet()) {
            origins.putIfAbsent(a.getKey(), new NodeStatus.OriginStatus(a.getValue(), a.getValue(), 0));
        }
        List<String> members = new ArrayList<>(t.members());
        members.sort(null);
        return new NodeStatus(nodeId(), isReady() && problem == null, members, origins, t.originated(),
                t.journalHeads().getOrDefault(nodeId(), 0L), capture.stats(), applier.stats(), sequences.stats(), problem);
    }

    /**
     * Watches ChangeSets pass through this node's stages (journaled, sent, received, applied), for
     * benchmarks and metrics. Either argument may be null to stop watching that side.
     */
    public void observe(TransportObserver transportObserver, ApplyObserver applyObserver) {
        transport.observe(transportObserver);
        applier.observe(applyObserver);
    }

    /** Highest sequence number of this node's own journal: how many ChangeSets it ever originated. */
    public long ownJournalHead() {
        return transport.stats().journalHeads().getOrDefault(nodeId(), 0L);
    }

    /** The applied vector as stored in the site database. */
    public Map<String, Long> appliedVector() throws ApplyException {
        return applier.appliedVector();
    }

    /** Stops capture, then the transport, then the applier, then the sequence check. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeQuietly(capture, "capture");
        closeQuietly(transport, "transport");
        closeQuietly(applier, "applier");
        closeQuietly(sequences, "sequence check");
        LOG.info("Mirror '{}' stopped", nodeId());
    }

    private void closeQuietly(AutoCloseable part, String what) {
        try {
            part.close();
        } catch (Exception e) {
            LOG.warn("Mirror '{}': stopping the {} failed: {}", nodeId(), what, e.toString());
        }
    }

}
