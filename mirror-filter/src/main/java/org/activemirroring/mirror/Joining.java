package org.activemirroring.mirror;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.activemirroring.capture.JoinRefusedException;
import org.activemirroring.capture.JoinSink;
import org.activemirroring.capture.JoinWire;
import org.activemirroring.transport.PeerTransport;
import org.activemirroring.transport.Reply;
import org.activemirroring.transport.TransportException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides where a mirror's data comes from, and runs the join when it comes from a peer.
 *
 * <ul>
 *   <li>A mirror that finished a join, or started from its own data before, goes on as it is.</li>
 *   <li>A new mirror whose mirrored tables hold rows is the origin of its data (an existing site
 *       that starts mirroring).</li>
 *   <li>A new, empty mirror joins: it waits for a reachable peer that holds the data and is ready,
 *       loads one snapshot of it ({@link JoinSink}), and replays every origin after it. If every
 *       configured peer is reachable and just as new and empty, there is nothing to copy: the
 *       network is new.</li>
 *   <li>A join that stopped (crash, donor gone) resumes: with the same snapshot while its donor
 *       still holds the session, else from a new snapshot of any ready peer.</li>
 * </ul>
 */
final class Joining {
    private static final Logger LOG = LoggerFactory.getLogger(Joining.class);

    /** Join requests read and copy megabytes; they get more time than catch-up's. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(120);
    static final Duration HELLO_TIMEOUT = Duration.ofSeconds(5);
    private static final long LOG_WAIT_EVERY_MS = 30_000;

    private final MirrorConfig config;
    private final PeerTransport transport;
    private final JoinSink sink;
    private final Consumer<String> progress;
    private final java.util.function.LongSupplier ownHead;
    /** What this mirror answers to a peer's hello while it has not decided: see {@link JoinWire.Hello}. */
    private volatile String state = "empty";

    /** @param ownHead this mirror's own journal head: how many changes it published */
    Joining(MirrorConfig config, PeerTransport transport, JoinSink sink, Consumer<String> progress,
            java.util.function.LongSupplier ownHead) {
        this.ownHead = ownHead;
        this.config = config;
        this.transport = transport;
        this.sink = sink;
        this.progress = progress;
    }

    /** This mirror's join state for peers: empty, joining or complete. */
    String state() {
        return state;
    }

    /**
     * Returns once this mirror holds its data. Blocks while it waits for a donor or loads.
     *
     * @throws InterruptedException when the mirror is stopped meanwhile
     */
    void ensureComplete() throws Exception {
        String node = config.nodeId();
        JoinSink.State s = sink.state();
        if (s == JoinSink.State.COMPLETE) {
            state = "complete";
            return;
        }
        if (s == JoinSink.State.NONE) {
            String how = startsFromOwnData();
            if (how != null) {
                sink.markComplete(how);
                state = "complete";
                LOG.info("Mirror '{}' starts from its own database: {}", node, how);
                return;
            }
        }
        transport.connect();
        if (s == JoinSink.State.NONE && !waitForDonorOrNewNetwork()) {
            sink.markComplete("new network: every configured mirror was reachable and empty");
            state = "complete";
            LOG.info("Mirror '{}': every configured mirror is new and empty; nothing to copy", node);
            return;
        }
        boolean rejoin = s == JoinSink.State.REJOIN;
        if (!rejoin) {
            sink.markLoading();
        }
        state = "joining";
        progress.accept((rejoin ? "copying the data again" : "joining") + ": looking for a mirror to copy from");
        join(rejoin);
        state = "complete";
    }

    /** Why this new mirror keeps its own data, or null if it must join. */
    private String startsFromOwnData() throws Exception {
        if (sink.hasHistory()) {
            return "it was mirrored before (applied changes or ran capture)";
        }
        List<String> withRows = sink.tablesWithRows();
        if (!withRows.isEmpty()) {
            return withRows.size() + " mirrored table(s) hold rows, e.g. " + withRows.get(0);
        }
        if (config.joinNever()) {
            return "mirror.join=never";
        }
        return null;
    }

    /**
     * Waits until a peer holds the data (true: join) or every configured peer is reachable and new
     * and empty (false: nothing to copy).
     */
    private boolean waitForDonorOrNewNetwork() throws InterruptedException {
        long lastLog = 0;
        // mirror.peers may list this mirror too (one list for all mirrors) or only the others
        String me = config.transport().bindHost() + ":" + config.transport().bindPort();
        long expectedOthers = config.transport().peers().stream().filter(p -> !p.equals(me)).count();
        while (true) {
            checkInterrupted();
            List<String> others = others();
            boolean allEmpty = true;
            for (String peer : others) {
                JoinWire.Hello h = hello(peer);
                if (h == null) {
                    allEmpty = false;
                } else if ("complete".equals(h.state())) {
                    return true;
                } else if (!"empty".equals(h.state())) {
                    allEmpty = false;
                }
            }
            if (allEmpty && others.size() >= expectedOthers && !others.isEmpty()) {
                return false;
            }
            long now = System.currentTimeMillis();
            if (now - lastLog > LOG_WAIT_EVERY_MS) {
                lastLog = now;
                String msg = "waiting for a mirror that holds the data to be reachable (reachable: " + others
                        + "; configured peers: " + config.transport().peers() + "); set mirror.join=never if this is"
                        + " the first mirror of a new network";
                LOG.info("Mirror '{}' is empty and {}", config.nodeId(), msg);
                progress.accept(msg);
            }
            Thread.sleep(500);
        }
    }

    /**
     * @param rejoin the mirror's tables still hold its old data: only a donor that applied every
     *               change this mirror published may replace it (the donor fetches them from this
     *               mirror's journal meanwhile), else this mirror's last writes would be lost
     */
    private void join(boolean rejoin) throws Exception {
        long backoff = 500;
        while (true) {
            checkInterrupted();
            String[] last = sink.lastSession();
            List<String> donors = readyDonors();
            if (last != null && donors.remove(last[1])) {
                donors.add(0, last[1]); // the donor we loaded from last first: it may still hold our snapshot
            }
            if (donors.isEmpty()) {
                progress.accept("joining: waiting for a ready mirror to copy from (members " + transport.members() + ")");
                Thread.sleep(backoff);
                backoff = Math.min(backoff * 2, 5_000);
                continue;
            }
            String donor = donors.get(0);
            try {
                JoinWire.Begin begin = null;
                if (last != null && last[1].equals(donor)) {
                    try {
                        begin = JoinWire.parse(call(donor, JoinWire.Request.resume(last[0])), JoinWire.Begin.class);
                        LOG.info("Mirror '{}' resumes its join from {} in the same snapshot", config.nodeId(), donor);
                    } catch (TransportException e) {
                        LOG.info("Mirror '{}': {} no longer holds the join's snapshot ({}); starting a new one",
                                config.nodeId(), donor, e.getMessage());
                    }
                }
                if (begin == null) {
                    begin = JoinWire.parse(call(donor, JoinWire.Request.begin()), JoinWire.Begin.class);
                    LOG.info("Mirror '{}' joins from {}: {} tables", config.nodeId(), donor, begin.tables().size());
                }
                long own = ownHead.getAsLong();
                long donorHas = begin.vector().getOrDefault(config.nodeId(), 0L);
                if (rejoin && donorHas < own) {
                    call(donor, JoinWire.Request.end(begin.session()));
                    String msg = "copying the data again: waiting until " + donor + " applied this mirror's own changes"
                            + " (it has " + donorHas + " of " + own + ")";
                    LOG.info("Mirror '{}': {}", config.nodeId(), msg);
                    progress.accept(msg);
                    Thread.sleep(1_000);
                    continue;
                }
                Map<String, Long> vector = sink.load(r -> call(donor, r), begin, progress);
                try {
                    call(donor, JoinWire.Request.end(begin.session()));
                } catch (TransportException e) {
                    LOG.debug("Ending the join session on {} failed: {}", donor, e.getMessage());
                }
                LOG.info("Mirror '{}' joined from {}; replays from {}", config.nodeId(), donor, vector);
                return;
            } catch (JoinRefusedException e) {
                throw e;
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                checkInterrupted();
                for (Throwable t = e; t != null; t = t.getCause()) {
                    if (t instanceof InterruptedException) {
                        throw new InterruptedException("mirror stopping");
                    }
                }
                LOG.warn("Mirror '{}': the join from {} stopped ({}); going on in {} ms from the last loaded chunk",
                        config.nodeId(), donor, e.toString(), backoff);
                progress.accept("joining: copy from " + donor + " stopped (" + e.getMessage() + "); retrying");
                Thread.sleep(backoff);
                backoff = Math.min(backoff * 2, 5_000);
            }
        }
    }

    private List<String> readyDonors() {
        List<String> out = new ArrayList<>();
        for (String peer : others()) {
            JoinWire.Hello h = hello(peer);
            if (h != null && "complete".equals(h.state()) && h.ready()) {
                out.add(peer);
            }
        }
        Collections.shuffle(out); // spread joins over the network
        return out;
    }

    private List<String> others() {
        List<String> out = new ArrayList<>(transport.members());
        out.remove(config.nodeId());
        return out;
    }

    private JoinWire.Hello hello(String peer) {
        try {
            return JoinWire.parse(call(peer, JoinWire.Request.hello(), HELLO_TIMEOUT), JoinWire.Hello.class);
        } catch (TransportException | IllegalArgumentException e) {
            LOG.debug("No join hello from {}: {}", peer, e.getMessage());
            return null;
        }
    }

    private Reply call(String peer, JoinWire.Request r) throws TransportException {
        return call(peer, r, REQUEST_TIMEOUT);
    }

    /** The answer where the transport received it: a chunk is loaded from there, JSON read there. */
    private Reply call(String peer, JoinWire.Request r, Duration timeout) throws TransportException {
        return transport.requestReply(peer, JoinWire.KIND, JoinWire.json(r), timeout);
    }

    private static void checkInterrupted() throws InterruptedException {
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedException("mirror stopping");
        }
    }
}
