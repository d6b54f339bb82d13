package org.activemirroring.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real JGroups over TCP on 127.0.0.1: several mirrors in this JVM, each with its own ports and data dir. */
class JGroupsPeerTransportIT {

    /**
     * Generous: on a loaded 2-core machine a restarted mirror's join can time out, so it starts
     * alone and only meets the others at the next merge round (up to 8 s each).
     */
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final List<String> IDS = List.of("a", "b", "c");

    @TempDir
    Path tmp;

    private final Map<String, Integer> ports = new HashMap<>();
    private final List<PeerTransport> open = new ArrayList<>();
    private String cluster;

    @BeforeEach
    void ports() {
        for (String id : IDS) {
            ports.put(id, FreePorts.next());
        }
        cluster = "it-" + System.nanoTime(); // never meet a cluster left over from another test
    }

    @AfterEach
    void closeAll() {
        for (PeerTransport t : open) {
            t.close();
        }
        assertNoTransportThreads();
    }

    private JGroupsPeerTransport node(String id, Map<String, String> extra) throws TransportException {
        Map<String, String> raw = new HashMap<>();
        raw.put("mirror.node.id", id);
        raw.put("mirror.data.dir", tmp.resolve(id).toString());
        raw.put("mirror.bind.port", Integer.toString(ports.get(id)));
        raw.put("mirror.peers", IDS.stream().map(p -> "127.0.0.1:" + ports.get(p)).collect(Collectors.joining(",")));
        raw.put("mirror.cluster.name", cluster);
        raw.put("mirror.journal.fsync", "false");
        raw.put("mirror.transport.request.timeout.ms", "3000");
        raw.put("mirror.transport.catchup.interval.ms", "500");
        raw.putAll(extra);
        List<String> problems = new ArrayList<>();
        TransportConfig config = TransportConfig.from(raw, problems);
        assertEquals(List.of(), problems);
        JGroupsPeerTransport t = new JGroupsPeerTransport(config);
        open.add(t);
        return t;
    }

    private JGroupsPeerTransport started(String id, RecordingHandler h, Map<String, String> extra)
            throws TransportException {
        JGroupsPeerTransport t = node(id, extra);
        t.start(h, h.applied());
        return t;
    }

    private static void awaitMembers(Set<String> expected, PeerTransport... nodes) {
        for (PeerTransport t : nodes) {
            Await.until(WAIT, () -> t.members().equals(expected),
                    () -> t.localNodeId() + " sees " + t.members() + ", expected " + expected);
        }
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().collect(Collectors.toList());
    }

    private static void publish(PeerTransport t, int n) throws TransportException {
        for (int i = 0; i < n; i++) {
            t.publish("test", (t.localNodeId() + "-" + i).getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void awaitLast(RecordingHandler h, String origin, long seq) {
        Await.until(WAIT, () -> h.last(origin) >= seq, () -> "handler got " + origin + " up to " + h.last(origin)
                + ", expected " + seq);
    }

    /** As above, naming the receiving transport's view and counters when it fails. */
    private static void awaitLast(RecordingHandler h, String origin, long seq, PeerTransport receiver) {
        Await.until(WAIT, () -> h.last(origin) >= seq, () -> "handler got " + origin + " up to " + h.last(origin)
                + ", expected " + seq + "; receiver sees " + receiver.members() + ", " + receiver.stats());
    }

    @Test
    void threeMirrorsGetEveryOtherMirrorsEnvelopesOnceInOrder() throws Exception {
        Map<String, RecordingHandler> handlers = new HashMap<>();
        Map<String, PeerTransport> nodes = new HashMap<>();
        Set<String> membersSeen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        for (String id : IDS) {
            handlers.put(id, new RecordingHandler(id));
            JGroupsPeerTransport t = node(id, Map.of());
            if (id.equals("a")) {
                t.addMembershipListener(m -> membersSeen.add(String.join(",", m)));
            }
            t.start(handlers.get(id), Map.of());
            nodes.put(id, t);
        }
        awaitMembers(Set.copyOf(IDS), nodes.values().toArray(new PeerTransport[0]));
        Await.until(WAIT, () -> membersSeen.contains("a,b,c"), () -> "listener saw " + membersSeen);

        int n = 300;
        ExecutorService pool = Executors.newFixedThreadPool(IDS.size());
        try {
            List<Future<?>> done = new ArrayList<>();
            for (PeerTransport t : nodes.values()) {
                done.add(pool.submit(() -> {
                    publish(t, n);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        for (String id : IDS) {
            RecordingHandler h = handlers.get(id);
            for (String origin : IDS) {
                if (!origin.equals(id)) {
                    awaitLast(h, origin, n);
                    assertEquals(range(1, n), h.seqs(origin), id + " from " + origin);
                }
            }
            assertEquals(List.of(), h.seqs(id), id + " must not get its own envelopes");
            assertEquals(List.of(), h.errors());
            TransportStats s = nodes.get(id).stats();
            assertEquals(n, s.originated());
            assertEquals(Map.of("a", (long) n, "b", (long) n, "c", (long) n), s.journalHeads());
            assertEquals(0, s.invalidDropped());
        }
        // the hash chain links each envelope to its predecessor
        List<Envelope> tail = nodes.get("b").journalTail("a", 2);
        assertArrayEquals(EnvelopeCodec.hash(tail.get(0)), tail.get(1).prevHash());
    }

    @Test
    void restartedMirrorReceivesExactlyWhatItMissed() throws Exception {
        RecordingHandler ha = new RecordingHandler("a");
        RecordingHandler hb = new RecordingHandler("b");
        RecordingHandler hc = new RecordingHandler("c");
        PeerTransport a = started("a", ha, Map.of());
        PeerTransport b = started("b", hb, Map.of());
        PeerTransport c = started("c", hc, Map.of());
        awaitMembers(Set.copyOf(IDS), a, b, c);
        publish(a, 20);
        publish(b, 10);
        awaitLast(hc, "a", 20);
        awaitLast(hc, "b", 10);

        c.close();
        awaitMembers(Set.of("a", "b"), a, b);
        publish(a, 30);
        publish(b, 15);

        RecordingHandler hc2 = new RecordingHandler("c", hc.applied());
        PeerTransport c2 = started("c", hc2, Map.of());
        awaitMembers(Set.copyOf(IDS), a, b, c2);
        awaitLast(hc2, "a", 50, c2);
        awaitLast(hc2, "b", 25);
        assertEquals(range(21, 50), hc2.seqs("a"));
        assertEquals(range(11, 25), hc2.seqs("b"));
        assertEquals(List.of(), hc2.errors());
        // and live traffic continues after the catch-up
        publish(a, 5);
        awaitLast(hc2, "a", 55);
        assertEquals(range(21, 55), hc2.seqs("a"));
        assertEquals(List.of(), hc2.errors());
        assertEquals(Map.of("a", 55L, "b", 25L), c2.stats().delivered());
    }

    @Test
    void restartedMirrorFetchesFromAnyPeerWhenTheOriginIsGone() throws Exception {
        RecordingHandler ha = new RecordingHandler("a");
        RecordingHandler hb = new RecordingHandler("b");
        RecordingHandler hc = new RecordingHandler("c");
        PeerTransport a = started("a", ha, Map.of());
        PeerTransport b = started("b", hb, Map.of());
        PeerTransport c = started("c", hc, Map.of());
        awaitMembers(Set.copyOf(IDS), a, b, c);
        publish(a, 5);
        awaitLast(hc, "a", 5);
        c.close();
        publish(a, 40);
        awaitLast(hb, "a", 45);
        a.close();

        RecordingHandler hc2 = new RecordingHandler("c", hc.applied());
        PeerTransport c2 = started("c", hc2, Map.of());
        awaitMembers(Set.of("b", "c"), b, c2);
        awaitLast(hc2, "a", 45);
        assertEquals(range(6, 45), hc2.seqs("a"));
        assertEquals(List.of(), hc2.errors());
    }

    @Test
    void restartDeliversFromTheLocalJournalWhatWasReceivedButNotApplied() throws Exception {
        RecordingHandler ha = new RecordingHandler("a");
        RecordingHandler hb = new RecordingHandler("b");
        PeerTransport a = started("a", ha, Map.of());
        PeerTransport b = started("b", hb, Map.of());
        awaitMembers(Set.of("a", "b"), a, b);
        publish(a, 10);
        awaitLast(hb, "a", 10);
        b.close();
        a.close();

        // b's subscriber had durably applied only up to 4: the rest comes from b's own journal, a is gone
        RecordingHandler hb2 = new RecordingHandler("b", Map.of("a", 4L));
        PeerTransport b2 = started("b", hb2, Map.of());
        awaitLast(hb2, "a", 10);
        assertEquals(range(5, 10), hb2.seqs("a"));
        assertEquals(List.of(), hb2.errors());
        assertEquals(Set.of("b"), b2.members());
    }

    @Test
    void mirrorsThatStartedApartMergeAndExchangeWhatTheyPublishedAlone() throws Exception {
        // b does not know a, a knows b: both start alone, then a's MERGE3 finds b and the views merge.
        Map<String, String> fastMerge = Map.of("mirror.jgroups.merge.min_interval", "500ms",
                "mirror.jgroups.merge.max_interval", "1s");
        Map<String, String> aConf = new HashMap<>(fastMerge);
        aConf.put("mirror.peers", "127.0.0.1:" + ports.get("a") + ",127.0.0.1:" + ports.get("b"));
        Map<String, String> bConf = new HashMap<>(fastMerge);
        bConf.put("mirror.peers", "127.0.0.1:" + ports.get("b"));
        RecordingHandler hb = new RecordingHandler("b");
        RecordingHandler ha = new RecordingHandler("a");
        Set<String> viewKinds = java.util.concurrent.ConcurrentHashMap.newKeySet();
        JGroupsPeerTransport a = node("a", aConf);
        a.addMembershipListener(m -> viewKinds.add(String.join(",", m)));
        a.start(ha, Map.of()); // b is not up yet: a starts alone
        publish(a, 4);
        PeerTransport b = started("b", hb, bConf); // knows nobody: starts alone
        publish(b, 7); // most likely still alone (a's MERGE3 may already have found it): fetched by a later
        awaitMembers(Set.of("a", "b"), a, b);
        // listeners run on the transport's own thread, a moment after members() changes
        Await.until(WAIT, () -> viewKinds.contains("a") && viewKinds.contains("a,b"), viewKinds::toString);
        awaitLast(ha, "b", 7);
        awaitLast(hb, "a", 4);
        assertEquals(range(1, 7), ha.seqs("b"));
        assertEquals(range(1, 4), hb.seqs("a"));
        assertEquals(List.of(), ha.errors());
        assertEquals(List.of(), hb.errors());
    }

    @Test
    void aHoleIsFetchedFromTheSender() throws Exception {
        // No periodic rounds during the test: only the gap fetch can fill the hole.
        Map<String, String> noRounds = Map.of("mirror.transport.catchup.interval.ms", "600000");
        RecordingHandler ha = new RecordingHandler("a");
        RecordingHandler hb = new RecordingHandler("b");
        JGroupsPeerTransport a = started("a", ha, noRounds);
        JGroupsPeerTransport b = started("b", hb, noRounds);
        awaitMembers(Set.of("a", "b"), a, b);
        a.setSendFilter(e -> e.seq() != 3); // lost on the wire
        publish(a, 6);
        awaitLast(hb, "a", 6);
        assertEquals(range(1, 6), hb.seqs("a"));
        assertEquals(List.of(), hb.errors());
    }

    @Test
    void brokenHashChainAndDuplicatesAreDroppedAndCounted() throws Exception {
        RecordingHandler ha = new RecordingHandler("a");
        RecordingHandler hb = new RecordingHandler("b");
        JGroupsPeerTransport a = started("a", ha, Map.of());
        JGroupsPeerTransport b = started("b", hb, Map.of());
        awaitMembers(Set.of("a", "b"), a, b);
        Envelope first = a.publish("test", new byte[] {1});
        awaitLast(hb, "a", 1);

        b.injectReceived(first, "a"); // duplicate
        Envelope forged = new Envelope(1, "a", 2, new byte[32], "test", new byte[] {6}, new byte[0]);
        b.injectReceived(forged, "mallory");
        Await.until(WAIT, () -> b.stats().duplicatesDropped() >= 1 && b.stats().invalidDropped() >= 1,
                () -> "stats " + b.stats());
        a.publish("test", new byte[] {2});
        awaitLast(hb, "a", 2);
        assertEquals(List.of(), hb.errors());
    }

    @Test
    void failingHandlerIsRetriedWithTheSameEnvelopeAndOrderIsKept() throws Exception {
        RecordingHandler ha = new RecordingHandler("a");
        RecordingHandler hb = new RecordingHandler("b");
        PeerTransport a = started("a", ha, Map.of());
        PeerTransport b = started("b", hb, Map.of());
        awaitMembers(Set.of("a", "b"), a, b);
        publish(a, 2);
        awaitLast(hb, "a", 2);
        hb.failuresLeft.set(4); // the next envelope fails 4 times, then succeeds
        int before = hb.attempts.get();
        publish(a, 5);
        awaitLast(hb, "a", 7);
        assertEquals(range(1, 7), hb.seqs("a"));
        assertEquals(before + 5 + 4, hb.attempts.get());
        assertEquals(List.of(), hb.errors());
    }

    @Test
    void anUnexpectedHandlerErrorStopsDeliveryOnlyUntilItRestartsItselfAndStatsShowIt() throws Exception {
        RecordingHandler ha = new RecordingHandler("a");
        RecordingHandler hb = new RecordingHandler("b");
        PeerTransport a = started("a", ha, Map.of());
        JGroupsPeerTransport b = started("b", hb, Map.of());
        awaitMembers(Set.of("a", "b"), a, b);
        publish(a, 3);
        awaitLast(hb, "a", 3);
        assertEquals(new DeliveryStatus(true, 0, null, null, null, null), b.stats().delivery());

        // A bug in the handler at a#5: delivery is down for the first restart delay (1 s), then resumes.
        hb.failOn("a", 5, 1, () -> new IllegalStateException("simulated applier bug"));
        publish(a, 4); // a#4..7
        java.util.concurrent.atomic.AtomicReference<DeliveryStatus> seenDown = new java.util.concurrent.atomic.AtomicReference<>();
        Await.until(WAIT, () -> {
            DeliveryStatus d = b.stats().delivery();
            if (d.downSince() != null && !b.isDelivering()) {
                seenDown.set(d);
            }
            return seenDown.get() != null;
        }, () -> "delivery reported down, " + b.stats().delivery());
        DeliveryStatus down = seenDown.get();
        assertFalse(down.running());
        assertTrue(down.lastError().contains("simulated applier bug") && down.lastError().contains("a#5"),
                down.lastError());
        assertTrue(down.nextRestart() != null && !down.nextRestart().isBefore(down.downSince()), down.toString());
        awaitLast(hb, "a", 7);
        Await.until(WAIT, b::isDelivering, () -> "delivering again, " + b.stats().delivery());

        // A real stack overflow in the handler at a#9: the same again, after a longer wait (2 s).
        hb.failOn("a", 9, 1, RecordingHandler::overflowStack);
        publish(a, 3); // a#8..10
        awaitLast(hb, "a", 10);
        Await.until(WAIT, () -> b.isDelivering() && b.stats().delivered().getOrDefault("a", 0L) == 10,
                () -> "delivered " + b.stats().delivered() + ", " + b.stats().delivery());
        assertEquals(range(1, 10), hb.seqs("a"), "each once, in order, across two restarts");
        assertEquals(List.of(), hb.errors());
        DeliveryStatus st = b.stats().delivery();
        assertTrue(st.running());
        assertEquals(2, st.restarts());
        assertNull(st.downSince());
        assertTrue(st.lastError().contains("StackOverflowError") && st.lastError().contains("a#9"), st.lastError());
    }

    @Test
    void unicastRequestsReachTheRegisteredHandler() throws Exception {
        JGroupsPeerTransport a = node("a", Map.of());
        a.registerRequestHandler("echo", (from, body) -> (from + ":" + new String(body, StandardCharsets.UTF_8))
                .getBytes(StandardCharsets.UTF_8));
        a.registerRequestHandler("boom", (from, body) -> {
            throw new IllegalStateException("no snapshot now");
        });
        assertThrows(IllegalArgumentException.class, () -> a.registerRequestHandler("transport.x", (f, b) -> b));
        // A large answer framed in place: the handler leaves bytes before the body, whatever they hold.
        byte[] large = new byte[3 << 20];
        new java.util.Random(7).nextBytes(large);
        a.registerRequestHandler("large", new RequestHandler() {
            @Override
            public byte[] handle(String fromNode, byte[] body) {
                throw new AssertionError("the transport asks for a Reply");
            }

            @Override
            public Reply reply(String fromNode, byte[] body) {
                byte[] room = new byte[large.length + 9];
                java.util.Arrays.fill(room, (byte) 0x5a);
                System.arraycopy(large, 0, room, 5, large.length);
                return new Reply(room, 5, large.length);
            }
        });
        a.start(new RecordingHandler("a"), Map.of());
        PeerTransport b = started("b", new RecordingHandler("b"), Map.of());
        awaitMembers(Set.of("a", "b"), a, b);
        byte[] rsp = b.request("a", "echo", "hi".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(5));
        assertEquals("b:hi", new String(rsp, StandardCharsets.UTF_8));
        Reply r = b.requestReply("a", "large", new byte[0], Duration.ofSeconds(10));
        assertArrayEquals(large, java.util.Arrays.copyOfRange(r.array(), r.offset(), r.offset() + r.length()));
        assertArrayEquals(large, b.request("a", "large", new byte[0], Duration.ofSeconds(10)));
        TransportException ex = assertThrows(TransportException.class,
                () -> b.request("a", "boom", new byte[0], Duration.ofSeconds(5)));
        assertTrue(ex.getMessage().contains("no snapshot now"), ex.getMessage());
        assertThrows(TransportException.class, () -> b.request("zz", "echo", new byte[0], Duration.ofSeconds(1)));
    }

    @Test
    void closeIsIdempotentAndLeavesNoThreads() throws Exception {
        PeerTransport a = started("a", new RecordingHandler("a"), Map.of());
        publish(a, 3); // alone: still journaled
        assertEquals(3, a.journalTail("a", 10).size());
        // the documented port rule: TCP on P, FD_SOCK2 on P + 100
        assertFalse(FreePortsProbe.isFree(ports.get("a")), "TCP port not bound");
        assertFalse(FreePortsProbe.isFree(ports.get("a") + StackTemplate.FD_SOCK_OFFSET), "FD_SOCK2 port not bound");
        assertTrue(((JGroupsPeerTransport) a).isDelivering(), "a started transport delivers");
        a.close();
        a.close();
        assertFalse(((JGroupsPeerTransport) a).isDelivering(), "a closed transport does not");
        assertNoTransportThreads();
        // JGroups names its threads after the cluster: none may outlive the channel
        Await.until(WAIT, () -> Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(t -> t.isAlive() && t.getName().contains(cluster)),
                () -> "JGroups threads left: " + Thread.getAllStackTraces().keySet().stream()
                        .map(Thread::getName).filter(n -> n.contains(cluster)).collect(Collectors.toList()));
        assertTrue(FreePortsProbe.isFree(ports.get("a")), "TCP port still bound after close");
    }

    @Test
    void portInUseFailsStartWithAClearMessageAndLeavesNothingRunning() throws Exception {
        try (java.net.ServerSocket squatter = new java.net.ServerSocket(ports.get("a"), 1,
                java.net.InetAddress.getLoopbackAddress())) {
            JGroupsPeerTransport a = node("a", Map.of());
            TransportException e = assertThrows(TransportException.class,
                    () -> a.start(new RecordingHandler("a"), Map.of()));
            assertTrue(e.getMessage().contains(String.valueOf(ports.get("a"))), e.getMessage());
            assertTrue(e.isRetriable());
            assertNoTransportThreads();
        }
    }

    /** Port probe for assertions. */
    private static final class FreePortsProbe {
        static boolean isFree(int port) {
            try (java.net.ServerSocket s = new java.net.ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
                return true;
            } catch (java.io.IOException e) {
                return false;
            }
        }
    }

    private static void assertNoTransportThreads() {
        List<String> left = Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(n -> n.startsWith("am-transport-"))
                .collect(Collectors.toList());
        assertEquals(List.of(), left, "threads left after close");
    }
}
