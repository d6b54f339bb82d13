package org.activemirroring.transport;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.Receiver;
import org.jgroups.View;
import org.jgroups.blocks.MessageDispatcher;
import org.jgroups.blocks.RequestOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link PeerTransport} over a JGroups channel (by default the TCP stack {@code tcp-mirror.xml}).
 *
 * <p>Parts, each in its own class: {@link Journal} (durable history per origin),
 * {@link InboundMessages} (what arrives from the network),
 * {@link DeliveryPipeline} (one delivery thread: dedupe, hash chain, order, retries, restarts after
 * an unexpected error),
 * {@link CatchUp} (one thread fetching what is missing from any peer), {@link WireFormat} (the
 * bytes between mirrors). This class wires them to the channel: a {@link MessageDispatcher} carries
 * multicast envelopes and unicast request/response; JGroups threads only decode, queue, or answer
 * from the journal, they never wait for the application.
 *
 * <p>The journal is opened by the constructor, so {@link #journalTail} works before {@link #start}.
 * Node ids are the JGroups logical names ({@code channel.name(nodeId)}); they are mapped to
 * addresses through the current view.
 */
public final class JGroupsPeerTransport implements PeerTransport {

    private static final Logger LOG = LoggerFactory.getLogger(JGroupsPeerTransport.class);

    private final TransportConfig config;
    private final String self;
    private final Journal journal;
    private final TransportCounters counters = new TransportCounters();
    private final Map<String, RequestHandler> handlers = new ConcurrentHashMap<>();
    private final List<MembershipListener> listeners = new CopyOnWriteArrayList<>();
    private final List<HistoryLossListener> lossListeners = new CopyOnWriteArrayList<>();
    private final Object publishLock = new Object();
    private volatile Map<String, Address> members = Map.of();
    private volatile boolean connected;
    private volatile boolean started;
    private volatile boolean closed;
    private volatile Predicate<Envelope> sendFilter; // test hook: false = journal but do not multicast

    private byte[] lastOwnHash; // guarded by publishLock
    private volatile DeliveryPipeline pipeline;
    private volatile TransportObserver observer = TransportObserver.NONE;
    private volatile CatchUp catchUp;
    private volatile ScheduledExecutorService scheduler;
    private volatile JChannel channel;
    private volatile MessageDispatcher dispatcher;

    /**
     * Opens the journal in {@link TransportConfig#journalDir()}; does not touch the network yet.
     *
     * @throws TransportException (not retriable) if the journal cannot be opened
     */
    public JGroupsPeerTransport(TransportConfig config) throws TransportException {
        this.config = Objects.requireNonNull(config, "config");
        this.self = config.nodeId();
        try {
            this.journal = Journal.open(config.journalDir(), config.journalSegmentBytes());
        } catch (IOException e) {
            throw new TransportException("Cannot open the journal in " + config.journalDir() + ": " + e.getMessage()
                    + "; check that mirror.data.dir is a writable directory", false, e);
        }
        try {
            // our chain continues from our newest journaled envelope (head is always an indexed seq)
            long head = journal.head(self);
            List<Envelope> last = head == 0 ? List.of() : journal.read(self, head, 1);
            this.lastOwnHash = last.isEmpty() ? EnvelopeCodec.zeroHash() : EnvelopeCodec.hash(last.get(0));
        } catch (IOException | RuntimeException e) {
            journal.close();
            throw new TransportException("Cannot read this mirror's own journal in " + config.journalDir() + ": "
                    + e.getMessage(), false, e);
        }
    }

    @Override
    public String localNodeId() {
        return self;
    }

    @Override
    public void registerRequestHandler(String kind, RequestHandler handler) {
        Objects.requireNonNull(handler, "handler");
        if (kind.startsWith(WireFormat.RESERVED_PREFIX)) {
            throw new IllegalArgumentException("Request kind '" + kind + "' is reserved: kinds starting with '"
                    + WireFormat.RESERVED_PREFIX + "' belong to the transport");
        }
        if (connected) {
            throw new IllegalStateException("register request handlers before connect() or start()");
        }
        if (handlers.putIfAbsent(kind, handler) != null) {
            throw new IllegalStateException("a handler for request kind '" + kind + "' is already registered");
        }
    }

    @Override
    public void addMembershipListener(MembershipListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        ScheduledExecutorService s = scheduler;
        if (s != null && !closed && channel != null && channel.isConnected()) {
            // added after start: tell it the current members too, on the same thread as later views
            Set<String> now = members();
            try {
                s.execute(() -> listener.membersChanged(now));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closing
            }
        }
    }

    @Override
    public void onHistoryLost(HistoryLossListener listener) {
        lossListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public synchronized void connect() throws TransportException {
        if (closed) {
            throw new TransportException("transport of " + self + " is closed; create a new one", false);
        }
        if (connected) {
            return;
        }
        connected = true;
        try {
            scheduler = Executors.newSingleThreadScheduledExecutor(
                    org.activemirroring.logging.LogContext.threads(self, "am-transport-" + self + "-catchup", false));
            JGroupsLogs.install(); // before the first channel's protocols make their logs
            channel = new JChannel(StackTemplate.render(config));
            channel.name(self);
            channel.setDiscardOwnMessages(true);
            dispatcher = new MessageDispatcher(channel,
                    new InboundMessages(self, journal, () -> pipeline, handlers, counters));
            dispatcher.setReceiver(new Receiver() {
                @Override
                public void viewAccepted(View view) {
                    org.activemirroring.logging.LogContext.enter(self); // a JGroups thread of this mirror
                    onView(view);
                }
            });
            channel.connect(config.clusterName());
            registerMBeans();
            LOG.info("This mirror joined cluster '{}' on {}:{}; members {}", config.clusterName(),
                    config.bindHost(), config.bindPort(), members());
        } catch (Exception e) {
            close();
            throw new TransportException("Mirror " + self + " could not join the cluster on " + config.bindHost() + ":"
                    + config.bindPort() + " (" + e + "); check that this port and port+" + StackTemplate.FD_SOCK_OFFSET
                    + " are free and mirror.bind.host is an address of this machine", true, e);
        }
    }

    @Override
    public synchronized void start(DeliveryHandler handler, Map<String, Long> appliedVector) throws TransportException {
        Objects.requireNonNull(handler, "handler");
        if (closed) {
            throw new TransportException("transport of " + self + " is closed; create a new one", false);
        }
        if (started) {
            throw new IllegalStateException("start() was already called");
        }
        connect();
        started = true;
        try {
            // catchUp is created after the pipeline that reports gaps to it; the lambda defers the lookup
            DeliveryPipeline p = new DeliveryPipeline(self, journal, handler, appliedVector,
                    (o, from, to, node) -> catchUp.missing(o, from, to, node), counters);
            catchUp = new CatchUp(self, new RemotePeers(), p, scheduler, config.catchUpIntervalMs(),
                    (origin, from, firsts) -> {
                        for (HistoryLossListener l : lossListeners) {
                            l.historyLost(origin, from, firsts);
                        }
                    });
            p.observe(observer);
            p.start();
            pipeline = p; // from here on, multicast envelopes are delivered
            catchUp.start();
            scheduler.scheduleWithFixedDelay(this::applyRetention, config.journalRetentionCheckSeconds(),
                    config.journalRetentionCheckSeconds(), TimeUnit.SECONDS);
            LOG.info("This mirror delivers from {}", appliedVector);
        } catch (RuntimeException e) {
            close();
            throw new TransportException("Mirror " + self + " could not start delivering: " + e, false, e);
        }
    }

    @Override
    public Envelope publish(String payloadType, byte[] payload) throws TransportException {
        synchronized (publishLock) {
            if (!started || closed) {
                throw new TransportException("publish on " + self + " needs a started, open transport", false);
            }
            long seq = journal.head(self) + 1;
            Envelope e = new Envelope(Envelope.FORMAT_VERSION, self, seq, lastOwnHash, payloadType, payload, new byte[0]);
            try {
                journal.append(e, config.journalFsync());
            } catch (IOException ex) {
                throw new TransportException("Cannot write " + e + " to the journal: " + ex.getMessage(), true, ex);
            } catch (IllegalArgumentException ex) {
                // e.g. a payload beyond EnvelopeCodec.MAX_PAYLOAD: retrying the same payload cannot help
                throw new TransportException("Cannot publish " + e + ": " + ex.getMessage(), false, ex);
            }
            TransportObserver obs = observer;
            obs.journaled(e, EpochMicros.now());
            lastOwnHash = EnvelopeCodec.hash(e);
            counters.originated.incrementAndGet();
            Predicate<Envelope> filter = sendFilter;
            MessageDispatcher d = dispatcher; // null while start() is still connecting: peers fetch it later
            if (d != null && (filter == null || filter.test(e))) {
                try {
                    d.castMessage(null, new BytesMessage(null, WireFormat.envelopeMessage(e)),
                            RequestOptions.ASYNC());
                    obs.sent(e, EpochMicros.now());
                } catch (Exception ex) {
                    // It is journaled: peers fetch it on their next catch-up round.
                    LOG.warn("Multicast of {} failed ({}); peers will fetch it from the journal", e, ex.toString());
                }
            }
            return e;
        }
    }

    @Override
    public void observe(TransportObserver o) {
        observer = o == null ? TransportObserver.NONE : o;
        DeliveryPipeline p = pipeline;
        if (p != null) {
            p.observe(observer);
        }
    }

    /**
     * Up to {@code maxCount} envelopes of {@code origin} from this node's journal, from
     * {@code fromSeq} on, in order (fewer where retention pruned them or the journal ends).
     */
    public List<Envelope> journalRead(String origin, long fromSeq, int maxCount) throws TransportException {
        try {
            return journal.read(origin, fromSeq, maxCount);
        } catch (IOException e) {
            throw new TransportException("Cannot read the journal of " + origin + ": " + e.getMessage(), false, e);
        }
    }

    @Override
    public List<Envelope> journalTail(String origin, int max) throws TransportException {
        try {
            return journal.tail(origin, max);
        } catch (IOException e) {
            throw new TransportException("Cannot read the journal of " + origin + ": " + e.getMessage(), false, e);
        }
    }

    @Override
    public byte[] request(String node, String kind, byte[] body, Duration timeout) throws TransportException {
        return requestReply(node, kind, body, timeout).toBytes();
    }

    @Override
    public Reply requestReply(String node, String kind, byte[] body, Duration timeout) throws TransportException {
        MessageDispatcher d = dispatcher;
        if (d == null || closed) {
            throw new TransportException("request to " + node + " needs a started, open transport", false);
        }
        Address target = members.get(node);
        if (target == null) {
            throw new TransportException("Node '" + node + "' is not a member (members: " + members() + ")", true);
        }
        // OOB: a request must not queue behind a long run of multicast envelopes from the same sender.
        Message msg = new BytesMessage(target, WireFormat.requestMessage(kind, body)).setFlag(Message.Flag.OOB);
        byte[] rsp;
        try {
            rsp = d.sendMessage(msg, RequestOptions.SYNC().timeout(timeout.toMillis()));
        } catch (Exception e) {
            throw new TransportException("Request '" + kind + "' to " + node + " failed: " + e, true, e);
        }
        if (rsp == null || rsp.length == 0) {
            throw new TransportException("Request '" + kind + "' to " + node + " got no answer", true);
        }
        if (rsp[0] != WireFormat.OK) {
            throw new TransportException("Node " + node + " answered request '" + kind + "' with an error: "
                    + new String(rsp, 1, rsp.length - 1, java.nio.charset.StandardCharsets.UTF_8), false);
        }
        return new Reply(rsp, 1, rsp.length - 1);
    }

    @Override
    public Map<String, Long> behindStart() {
        CatchUp c = catchUp;
        DeliveryPipeline p = pipeline;
        if (c == null || p == null) {
            return null;
        }
        Map<String, Long> target = c.firstHeads().getNow(null);
        if (target == null) {
            return null;
        }
        Map<String, Long> delivered = p.delivered();
        Map<String, Long> behind = new java.util.TreeMap<>();
        for (Map.Entry<String, Long> t : target.entrySet()) {
            long gap = t.getValue() - delivered.getOrDefault(t.getKey(), 0L);
            if (gap > 0) {
                behind.put(t.getKey(), gap);
            }
        }
        return behind;
    }

    /**
     * Whether envelopes reach the delivery handler: started, not closed, and delivery not down
     * after an unexpected error. Such an error does not stop delivery for good: it restarts by
     * itself with backoff, and {@link TransportStats#delivery()} says since when it is down and why.
     */
    public boolean isDelivering() {
        DeliveryPipeline p = pipeline;
        return started && !closed && p != null && p.isRunning();
    }

    /**
     * Whether delivery runs, how often it restarted itself after an unexpected error, the last
     * such error and since when it is down (also in {@link #stats()}); never null.
     */
    public DeliveryStatus deliveryStatus() {
        DeliveryPipeline p = pipeline;
        return p == null ? DeliveryStatus.NOT_STARTED : p.status();
    }

    @Override
    public Set<String> members() {
        return Collections.unmodifiableSet(new TreeSet<>(members.keySet()));
    }

    @Override
    public TransportStats stats() {
        DeliveryPipeline p = pipeline;
        return new TransportStats(members(), journal.heads(), p == null ? Map.of() : p.delivered(),
                counters.originated.get(), counters.duplicatesDropped.get(), counters.invalidDropped.get(),
                deliveryStatus());
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (catchUp != null) {
            catchUp.close();
        }
        if (scheduler != null) {
            scheduler.shutdownNow(); // interrupts a fetch waiting for an answer or for queue room
        }
        if (pipeline != null) {
            pipeline.close();
        }
        if (dispatcher != null) {
            try {
                dispatcher.close();
            } catch (IOException | RuntimeException e) {
                LOG.debug("Closing the dispatcher of {} failed: {}", self, e.toString());
            }
        }
        if (channel != null) {
            unregisterMBeans();
            channel.close();
        }
        if (scheduler != null) {
            try {
                if (!scheduler.awaitTermination(10, TimeUnit.SECONDS)) {
                    LOG.warn("Catch-up thread of {} did not stop within 10 s", self);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (publishLock) {
            journal.close();
        }
        members = Map.of();
        LOG.info("This mirror left the cluster");
    }

    /** JMX domain of the channel's and its protocols' MBeans (JGroups' own). */
    public static final String JMX_DOMAIN = "jgroups";
    private volatile boolean mbeansRegistered;

    /**
     * The channel's name in JMX: {@code jgroups:type=channel,cluster="<node>@<cluster>"}, with its
     * protocols below it; the node is in the name because tests and a Tomcat with several
     * configurations run more than one mirror per JVM.
     */
    public String jmxClusterName() {
        return self + "@" + config.clusterName();
    }

    /** Shows the channel and its protocols (message counts, views, suspicions) to JMX clients. */
    private void registerMBeans() {
        try {
            org.jgroups.jmx.JmxConfigurator.registerChannel(channel,
                    java.lang.management.ManagementFactory.getPlatformMBeanServer(), JMX_DOMAIN, jmxClusterName(), true);
            mbeansRegistered = true;
        } catch (Exception e) {
            LOG.warn("The JGroups channel cannot be shown over JMX ({}); replication is not affected", e.toString());
        }
    }

    private void unregisterMBeans() {
        if (!mbeansRegistered) {
            return;
        }
        mbeansRegistered = false;
        try {
            org.jgroups.jmx.JmxConfigurator.unregisterChannel(channel,
                    java.lang.management.ManagementFactory.getPlatformMBeanServer(), JMX_DOMAIN, jmxClusterName());
        } catch (Exception e) {
            LOG.debug("Removing the JGroups channel's MBeans failed: {}", e.toString());
        }
    }

    /** Bytes this node's journal holds, per origin (its own included), for metrics. */
    public Map<String, Long> journalBytes() {
        Map<String, Long> bytes = new java.util.TreeMap<>();
        for (String origin : journal.heads().keySet()) {
            bytes.put(origin, journal.bytes(origin));
        }
        return bytes;
    }

    /** The lowest seq of {@code origin} this node's journal still holds (0: none). */
    public long firstHeld(String origin) {
        return journal.first(origin);
    }

    /** Test hook: envelopes for which {@code filter} is false are journaled but not multicast. */
    void setSendFilter(Predicate<Envelope> filter) {
        this.sendFilter = filter;
    }

    /**
     * Deletes journal segments beyond the retention limits, keeping every envelope of another
     * origin that has not been delivered here yet. Runs on the catch-up thread.
     */
    public int applyRetention() {
        DeliveryPipeline p = pipeline;
        if (p == null || closed) {
            return 0;
        }
        Map<String, Long> keepAfter = new java.util.HashMap<>(p.delivered());
        for (String origin : journal.heads().keySet()) {
            keepAfter.putIfAbsent(origin, 0L); // nothing delivered yet: keep it all
        }
        keepAfter.put(self, Long.MAX_VALUE);
        try {
            return journal.prune(config.journalRetentionBytes(), config.journalRetention(), java.time.Instant.now(),
                    keepAfter);
        } catch (IOException | RuntimeException e) {
            LOG.warn("Journal retention failed, trying again later: {}", e.toString());
            return 0;
        }
    }

    /**
     * Fault injection for tests: from now on this node drops every message from and to the given
     * nodes, as a network partition would, until {@link #heal()}. The failure detector then splits
     * the view; after healing, the groups merge again ({@code MergeView}) and catch-up exchanges
     * what each side wrote meanwhile.
     */
    public synchronized void isolateFrom(Set<String> nodes) {
        JChannel ch = channel;
        if (ch == null) {
            throw new IllegalStateException("start the transport first");
        }
        org.jgroups.protocols.DISCARD discard = ch.getProtocolStack().findProtocol(org.jgroups.protocols.DISCARD.class);
        if (discard == null) {
            discard = new org.jgroups.protocols.DISCARD();
            try {
                ch.getProtocolStack().insertProtocol(discard, org.jgroups.stack.ProtocolStack.Position.ABOVE,
                        org.jgroups.protocols.TP.class);
                discard.init();
                discard.start();
            } catch (Exception e) {
                throw new IllegalStateException("cannot insert DISCARD into the stack: " + e, e);
            }
        }
        for (String node : nodes) {
            Address a = members.get(node);
            if (a == null) {
                throw new IllegalArgumentException("'" + node + "' is not a member now (members: " + members() + ")");
            }
            discard.addIgnoreMember(a);
        }
    }

    /** Ends {@link #isolateFrom}: messages flow again. */
    public synchronized void heal() {
        JChannel ch = channel;
        org.jgroups.protocols.DISCARD discard = ch == null ? null
                : ch.getProtocolStack().findProtocol(org.jgroups.protocols.DISCARD.class);
        if (discard != null) {
            discard.resetIgnoredMembers();
        }
    }

    /** Test hook: hands {@code e} to the delivery pipeline as if it came from {@code fromNode}. */
    void injectReceived(Envelope e, String fromNode) {
        pipeline.offer(e, fromNode);
    }

    private void onView(View view) {
        Map<String, Address> ids = new LinkedHashMap<>();
        for (Address a : view.getMembers()) {
            ids.put(InboundMessages.nodeId(a), a);
        }
        members = Map.copyOf(ids);
        Set<String> snapshot = members();
        LOG.info("This mirror sees members {} ({})",
                snapshot, view instanceof org.jgroups.MergeView ? "merged" : "view");
        ScheduledExecutorService s = scheduler;
        if (s == null || closed) {
            return;
        }
        // Listeners are application code: call them off the JGroups thread, in view order.
        try {
            s.execute(() -> {
                for (MembershipListener l : listeners) {
                    try {
                        l.membersChanged(snapshot);
                    } catch (RuntimeException e) {
                        LOG.warn("Membership listener {} failed", l, e);
                    }
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return; // closing
        }
        CatchUp c = catchUp;
        if (c != null) {
            c.viewChanged();
        }
    }

    /** Catch-up's remote calls, over {@link #request} with the reserved kinds. */
    private final class RemotePeers implements CatchUp.Peers {
        @Override
        public List<String> others() {
            List<String> out = new ArrayList<>(members.keySet());
            out.remove(self);
            return out;
        }

        @Override
        public Map<String, Long> heads(String node) throws TransportException {
            return positions(node, WireFormat.HEADS, "heads");
        }

        @Override
        public Map<String, Long> firsts(String node) throws TransportException {
            return positions(node, WireFormat.FIRSTS, "firsts");
        }

        /** A per-origin seq map from {@code node}'s journal (heads or firsts). */
        private Map<String, Long> positions(String node, String kind, String what) throws TransportException {
            byte[] rsp = request(node, kind, new byte[0], Duration.ofMillis(config.requestTimeoutMs()));
            try {
                return WireFormat.decodeHeads(rsp);
            } catch (IllegalArgumentException e) {
                counters.invalidDropped.incrementAndGet();
                throw new TransportException("invalid " + what + " answer from " + node + ": " + e.getMessage(), false);
            }
        }

        @Override
        public List<Envelope> fetch(String node, String origin, long fromSeq, int maxCount) throws TransportException {
            byte[] rsp = request(node, WireFormat.FETCH, WireFormat.fetch(origin, fromSeq, maxCount),
                    Duration.ofMillis(config.requestTimeoutMs()));
            try {
                return WireFormat.decodeEnvelopes(rsp);
            } catch (IllegalArgumentException e) {
                counters.invalidDropped.incrementAndGet();
                LOG.warn("Dropped an invalid fetch answer from {}: {}", node, e.getMessage());
                throw new TransportException("invalid fetch answer from " + node + ": " + e.getMessage(), false);
            }
        }
    }
}
