package org.activemirroring.mirror;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import org.activemirroring.join.JoinRefusedException;
import org.activemirroring.join.JoinSink;
import org.activemirroring.join.JoinWire;
import org.activemirroring.transport.PeerTransport;
import org.activemirroring.transport.Reply;
import org.activemirroring.transport.TransportException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides where a mirror's data comes from, and runs the join when it comes from a peer. The
 * network decides, not the mirror's own tables: real sites create their schema and insert seed
 * rows at every start, before the plugin runs, so a new mirror's tables are rarely empty.
 *
 * <ul>
 *   <li>A mirror that finished a join, or started from its own data before, goes on as it is.</li>
 *   <li>{@code mirror.join=never}: it starts from its own database (warning when a reachable peer
 *       holds data).</li>
 *   <li>Otherwise a mirror that was never part of the network first waits, up to
 *       {@code mirror.start.peers.wait.ms}, for every configured peer to be reachable (a view it
 *       formed alone in its first second says nothing), then:
 *     <ul>
 *       <li>a reachable peer holds the data: it joins, whatever its own tables hold (what its site
 *           wrote before is stashed and put back afterwards, see
 *           {@link org.activemirroring.join.JoinStash});</li>
 *       <li>{@code mirror.join=always}: it waits for such a peer however long it takes;</li>
 *       <li>no peer holds data, every configured peer is reachable and undecided: the one with
 *           rows whose id sorts first starts from its own database and the others join from it;
 *           if no one has rows, the network is new and there is nothing to copy;</li>
 *       <li>no peer holds data and some stay unreachable past the wait: a mirror with rows starts
 *           from its own database and says so (WARN and status), an empty one keeps waiting.</li>
 *     </ul></li>
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
    /** While undecided: whether this mirror's own mirrored tables hold rows. */
    private volatile boolean ownRows;
    /** Why this mirror holds the data it holds, for status; null until decided. */
    private volatile String dataSource;
    private volatile boolean copied;
    /** Set when this mirror starts from its own database although the network may hold other data. */
    private volatile String warning;

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

    /** This mirror's hello for a peer that asks. */
    JoinWire.Hello hello(boolean ready) {
        return new JoinWire.Hello(config.nodeId(), state, ready, "empty".equals(state) && ownRows);
    }

    /** Where this mirror's data came from, as recorded when it was decided; null before. */
    String dataSource() {
        return dataSource;
    }

    /** Whether this start copied the database from a peer (a join, first or again). */
    boolean copiedThisStart() {
        return copied;
    }

    /** A warning about the decision (started from its own data while the network may differ), or null. */
    String warning() {
        return warning;
    }

    /**
     * Returns once this mirror holds its data. Blocks while it waits for peers or a donor, or loads.
     *
     * @throws InterruptedException when the mirror is stopped meanwhile
     */
    void ensureComplete() throws Exception {
        String node = config.nodeId();
        JoinSink.State s = sink.state();
        if (s == JoinSink.State.COMPLETE) {
            state = "complete";
            dataSource = sink.how();
            warning = sink.warning();
            return;
        }
        if (s == JoinSink.State.NONE) {
            Decision d = decide();
            if (d.ownData != null) {
                sink.markComplete(d.ownData, d.warning);
                state = "complete";
                dataSource = d.ownData;
                warning = d.warning;
                if (d.warning != null) {
                    LOG.warn("This mirror starts from its own database: {}. {}", d.ownData, d.warning);
                } else {
                    LOG.info("This mirror starts from its own database: {}", d.ownData);
                }
                return;
            }
        } else {
            transport.connect();
        }
        boolean rejoin = s == JoinSink.State.REJOIN;
        if (!rejoin) {
            sink.markLoading();
        }
        state = "joining";
        progress.accept((rejoin ? "copying the data again" : "joining") + ": looking for a mirror to copy from");
        join(rejoin);
        copied = true;
        state = "complete";
        dataSource = sink.how();
    }

    /** The first start's decision: {@code ownData} says why this mirror keeps its database, null to join. */
    private record Decision(String ownData, String warning) {
    }

    private Decision decide() throws Exception {
        String node = config.nodeId();
        if (sink.hasHistory()) {
            return new Decision("it was mirrored before (applied changes or ran capture)", null);
        }
        ownRows = !sink.tablesWithRows().isEmpty(); // before peers can ask (they decide on it too)
        transport.connect();
        if (config.joinMode() == MirrorConfig.JoinMode.NEVER) {
            List<String> holders = new ArrayList<>();
            for (String peer : others()) {
                JoinWire.Hello h = hello(peer);
                if (h != null && "complete".equals(h.state())) {
                    holders.add(peer);
                }
            }
            return new Decision("mirror.join=never", holders.isEmpty() ? null : "Mirrors " + holders + " already hold"
                    + " the network's data and this mirror does not copy it (mirror.join=never): rows either side"
                    + " wrote before mirroring differ until written again; use mirror.join=auto on a new mirror");
        }
        String me = config.transport().bindHost() + ":" + config.transport().bindPort();
        List<String> configured = config.transport().peers().stream().filter(p -> !p.equals(me)).toList();
        long waitMs = config.startPeersWaitMs();
        long start = System.nanoTime();
        long lastLog = 0;
        while (true) {
            checkInterrupted();
            List<String> withRows = sink.tablesWithRows();
            ownRows = !withRows.isEmpty();
            List<String> others = others();
            boolean undecidedPeers = false;
            List<String> peersWithRows = new ArrayList<>();
            for (String peer : others) {
                JoinWire.Hello h = hello(peer);
                if (h == null) {
                    undecidedPeers = true; // a member that does not answer yet: no decision on it
                } else if ("complete".equals(h.state())) {
                    if (ownRows) {
                        LOG.info("This mirror was never part of the network and {} holds its data: it copies it;"
                                + " what its own site wrote into {} table(s) (e.g. {}) is set aside and put back where"
                                + " it does not contradict the network", peer, withRows.size(), withRows.get(0));
                    }
                    return new Decision(null, null);
                } else if (!"empty".equals(h.state())) {
                    undecidedPeers = true; // joining: some mirror holds data, wait for it
                } else if (h.rows()) {
                    peersWithRows.add(peer);
                }
            }
            boolean allReachable = others.size() >= configured.size();
            long waitedMs = (System.nanoTime() - start) / 1_000_000;
            boolean waitOver = waitedMs >= waitMs;
            if (config.joinMode() == MirrorConfig.JoinMode.AUTO && !undecidedPeers && (allReachable || waitOver)) {
                if (ownRows && allReachable) {
                    String first = peersWithRows.stream().filter(p -> p.compareTo(node) < 0).sorted().findFirst()
                            .orElse(null);
                    if (first == null) {
                        return new Decision("no mirror of the network holds data yet and this one's " + withRows.size()
                                + " mirrored table(s) hold rows (e.g. " + withRows.get(0) + ")"
                                + (peersWithRows.isEmpty() ? "" : "; of the mirrors with rows " + peersWithRows
                                        + " its id sorts first"), null);
                    }
                    // `first` starts from its own database; this one joins from it once it is ready.
                } else if (ownRows) {
                    List<String> missing = configured.size() - others.size() > 0 ? configured : List.of();
                    return new Decision("no reachable mirror holds data and this one's " + withRows.size()
                            + " mirrored table(s) hold rows (e.g. " + withRows.get(0) + ")",
                            "Configured peers " + missing + " were not all reachable within " + waitMs + " ms ("
                                    + MirrorConfig.START_PEERS_WAIT_MS.key() + "; reachable: " + others + "). If one of"
                                    + " them holds the site's data, this mirror now differs from it: stop this mirror,"
                                    + " empty its database, set mirror.join=always and start it again");
                } else if (allReachable && peersWithRows.isEmpty() && (!others.isEmpty() || configured.isEmpty())) {
                    return new Decision(configured.isEmpty() ? "a single mirror: no peers configured"
                            : "new network: every configured mirror was reachable and empty", null);
                }
            }
            long now = System.currentTimeMillis();
            String waitingFor = !allReachable && !waitOver
                    ? "waiting for the configured peers to be reachable before deciding where its data comes from ("
                            + "reachable: " + others + " of " + configured + ", " + Math.max(0, waitMs - waitedMs)
                            + " ms left)"
                    : "waiting for a mirror that holds the data to be reachable (reachable: " + others + " of "
                            + configured + (config.joinMode() == MirrorConfig.JoinMode.ALWAYS ? "; mirror.join=always"
                            : "") + "); set mirror.join=never if this is the first mirror of a new network";
            progress.accept(waitingFor);
            if (now - lastLog > LOG_WAIT_EVERY_MS) {
                lastLog = now;
                LOG.info("This mirror is new: {}", waitingFor);
            }
            Thread.sleep(250);
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
                        LOG.info("This mirror resumes its join from {} in the same snapshot", donor);
                    } catch (TransportException e) {
                        LOG.info("{} no longer holds the join's snapshot ({}); starting a new one",
                                donor, e.getMessage());
                    }
                }
                if (begin == null) {
                    begin = JoinWire.parse(call(donor, JoinWire.Request.begin()), JoinWire.Begin.class);
                    LOG.info("This mirror joins from {}: {} tables", donor, begin.tables().size());
                }
                long own = ownHead.getAsLong();
                long donorHas = begin.vector().getOrDefault(config.nodeId(), 0L);
                if (rejoin && donorHas < own) {
                    call(donor, JoinWire.Request.end(begin.session()));
                    String msg = "copying the data again: waiting until " + donor + " applied this mirror's own changes"
                            + " (it has " + donorHas + " of " + own + ")";
                    LOG.info("{}", msg);
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
                LOG.info("This mirror joined from {}; replays from {}", donor, vector);
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
                LOG.warn("The join from {} stopped ({}); going on in {} ms from the last loaded chunk",
                        donor, e.toString(), backoff);
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
