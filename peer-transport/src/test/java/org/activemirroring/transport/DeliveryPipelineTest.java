package org.activemirroring.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The delivery rules without a network: envelopes are fed as the network or catch-up would. */
class DeliveryPipelineTest {

    private static final Duration WAIT = Duration.ofSeconds(5);

    @TempDir
    Path dir;

    private final List<long[]> gaps = Collections.synchronizedList(new ArrayList<>());
    private final TransportCounters counters = new TransportCounters();
    private Journal journal;
    private DeliveryPipeline pipeline;

    private DeliveryPipeline pipeline(RecordingHandler h, Map<String, Long> applied) throws IOException {
        journal = Journal.open(dir);
        pipeline = new DeliveryPipeline("me", journal, h, applied,
                (o, from, to, node) -> gaps.add(new long[] {from, to}), counters);
        return pipeline;
    }

    @AfterEach
    void close() {
        if (pipeline != null) {
            pipeline.close();
        }
        if (journal != null) {
            journal.close();
        }
    }

    @Test
    void outOfOrderDuplicateAndOwnEnvelopesEndUpInOrderOnce() throws Exception {
        RecordingHandler h = new RecordingHandler("me");
        DeliveryPipeline p = pipeline(h, Map.of());
        p.start();
        List<Envelope> a = JournalTest.chain("a", 5);
        p.offer(a.get(0), "x");
        p.offer(a.get(2), "x"); // early: buffered, hole 2..2 reported
        p.offer(a.get(0), "x"); // duplicate
        p.offer(JournalTest.chain("me", 1).get(0), "x"); // our own: ignored
        p.offer(a.get(1), "x");
        p.offer(a.get(4), "x");
        p.offer(a.get(3), "x");
        Await.until(WAIT, () -> h.last("a") == 5, () -> "got " + h.seqs("a"));
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), h.seqs("a"));
        assertEquals(List.of(), h.seqs("me"));
        assertEquals(List.of(), h.errors());
        assertEquals(1, counters.duplicatesDropped.get());
        assertTrue(gaps.stream().anyMatch(g -> g[0] == 2 && g[1] == 2));
        assertEquals(5, journal.head("a"));
        assertEquals(5, p.receivedPosition("a"));
    }

    @Test
    void brokenChainIsRefusedAndTheRealOneStillDelivers() throws Exception {
        RecordingHandler h = new RecordingHandler("me");
        DeliveryPipeline p = pipeline(h, Map.of());
        p.start();
        List<Envelope> a = JournalTest.chain("a", 2);
        Envelope forged = EnvelopeCodecTest.envelope("a", 2, EnvelopeCodec.zeroHash(), "forged");
        p.offer(a.get(0), "x");
        p.offer(forged, "mallory");
        p.offer(a.get(1), "y");
        Await.until(WAIT, () -> h.last("a") == 2, () -> "got " + h.seqs("a"));
        assertEquals(1, counters.invalidDropped.get());
        assertEquals(a.get(1), journal.read("a", 2, 1).get(0));
    }

    @Test
    void journalEntriesPastTheAppliedVectorAreDeliveredFirst() throws Exception {
        List<Envelope> a = JournalTest.chain("a", 6);
        try (Journal j = Journal.open(dir)) {
            for (Envelope e : a) {
                j.append(e, false);
            }
        }
        RecordingHandler h = new RecordingHandler("me", Map.of("a", 2L));
        DeliveryPipeline p = pipeline(h, Map.of("a", 2L));
        p.start();
        Await.until(WAIT, () -> h.last("a") == 6, () -> "got " + h.seqs("a"));
        assertEquals(List.of(3L, 4L, 5L, 6L), h.seqs("a"));
        // the chain was checked against the journaled seq 2: a later forged seq 7 is refused
        p.offer(EnvelopeCodecTest.envelope("a", 7, EnvelopeCodec.zeroHash(), "x"), "mallory");
        Await.until(WAIT, () -> counters.invalidDropped.get() == 1, "forged envelope counted");
    }

    @Test
    void failingHandlerGetsTheSameEnvelopeAgainUntilItSucceeds() throws Exception {
        RecordingHandler h = new RecordingHandler("me");
        h.failuresLeft.set(2);
        DeliveryPipeline p = pipeline(h, Map.of());
        p.start();
        for (Envelope e : JournalTest.chain("a", 3)) {
            p.offer(e, "x");
        }
        Await.until(WAIT, () -> h.last("a") == 3, () -> "got " + h.seqs("a"));
        assertEquals(List.of(1L, 2L, 3L), h.seqs("a"));
        assertEquals(5, h.attempts.get());
    }

    @Test
    void closeStopsAHandlerThatKeepsFailing() throws Exception {
        RecordingHandler h = new RecordingHandler("me");
        h.failuresLeft.set(Integer.MAX_VALUE);
        DeliveryPipeline p = pipeline(h, Map.of());
        p.start();
        p.offer(JournalTest.chain("a", 1).get(0), "x");
        Await.until(WAIT, () -> h.attempts.get() >= 2, "retried");
        long t0 = System.nanoTime();
        p.close();
        assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "close waited for the backoff");
        pipeline = null;
    }

    @Test
    void anEnvelopeThatWaitsForAnotherOriginIsParkedWhileThatOriginDelivers() throws Exception {
        // b#1 depends on a#2; a#1..2 arrive only after b#1 and b#2: b must wait, a must not.
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        int[] parkedTimes = {0};
        DeliveryHandler h = e -> {
            if (e.origin().equals("b") && e.seq() == 1 && !order.contains("a#2")) {
                parkedTimes[0]++;
                throw new NotYetDeliverableException("needs a#2");
            }
            order.add(e.origin() + "#" + e.seq());
        };
        journal = Journal.open(dir);
        pipeline = new DeliveryPipeline("me", journal, h, Map.of(), (o, from, to, node) -> { }, counters);
        pipeline.start();
        List<Envelope> a = JournalTest.chain("a", 2);
        List<Envelope> b = JournalTest.chain("b", 2);
        pipeline.offer(b.get(0), "x");
        pipeline.offer(b.get(1), "x");
        pipeline.offer(b.get(0), "x"); // a copy of the parked one: dropped, the parked one is retried
        Await.until(WAIT, () -> parkedTimes[0] >= 2, () -> "b#1 offered again while waiting");
        assertEquals(List.of(), order);
        pipeline.offer(a.get(0), "x");
        pipeline.offer(a.get(1), "x");
        Await.until(WAIT, () -> order.size() == 4, () -> "got " + order);
        assertEquals(List.of("a#1", "a#2", "b#1", "b#2"), order);
    }

    /** Stages deliveries and makes them durable on flush; can fail a flush or a delivery on demand. */
    private static final class GroupingHandler implements DeliveryHandler {
        final List<String> durable = Collections.synchronizedList(new ArrayList<>());
        final List<String> staged = new ArrayList<>();
        final java.util.concurrent.atomic.AtomicInteger failFlushes = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger failDeliveryOf = new java.util.concurrent.atomic.AtomicInteger(-1);
        final java.util.concurrent.atomic.AtomicInteger flushes = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public void deliver(Envelope e) throws Exception {
            if (e.seq() == failDeliveryOf.get()) {
                failDeliveryOf.set(-1);
                staged.clear(); // the handler undoes its open group
                throw new Exception("simulated failure delivering " + e);
            }
            staged.add(e.origin() + "#" + e.seq());
        }

        @Override
        public void flush() throws Exception {
            flushes.incrementAndGet();
            if (failFlushes.getAndDecrement() > 0) {
                staged.clear();
                throw new Exception("simulated commit failure");
            }
            durable.addAll(staged);
            staged.clear();
        }
    }

    @Test
    void deliveriesAreGroupedAndALostGroupIsDeliveredAgainInOrderAndNothingTwice() throws Exception {
        GroupingHandler h = new GroupingHandler();
        journal = Journal.open(dir);
        pipeline = new DeliveryPipeline("me", journal, h, Map.of(), (o, from, to, node) -> { }, counters);
        List<Envelope> a = JournalTest.chain("a", 600);
        List<Envelope> b = JournalTest.chain("b", 600);
        for (int i = 0; i < 300; i++) { // queued before the thread starts: large groups form
            pipeline.put(a.get(i), "x");
            pipeline.put(b.get(i), "x");
        }
        pipeline.start();
        Await.until(WAIT, () -> h.durable.size() == 600, () -> "durable " + h.durable.size());
        assertTrue(h.flushes.get() <= 60, "600 deliveries should be grouped, took " + h.flushes.get() + " flushes");

        // A commit that fails, then a delivery that fails: each loses its open group.
        h.failFlushes.set(1);
        h.failDeliveryOf.set(450);
        for (int i = 300; i < 600; i++) {
            pipeline.put(a.get(i), "x");
            pipeline.put(b.get(i), "x");
        }
        Await.until(WAIT, () -> h.durable.size() == 1200, () -> "durable " + h.durable.size());
        for (String o : List.of("a", "b")) {
            List<String> expected = new ArrayList<>();
            for (int i = 1; i <= 600; i++) {
                expected.add(o + "#" + i);
            }
            assertEquals(expected, h.durable.stream().filter(x -> x.startsWith(o + "#")).toList(),
                    "origin " + o + " in order, each once");
        }
        assertEquals(Map.of("a", 600L, "b", 600L), pipeline.delivered());
    }

    @Test
    void aSlowHandlerWithABacklogGetsFullGroupsNotOnesCutByAge() throws Exception {
        // Each delivery takes 0.2 ms: by the 20 ms age alone a group would end near 100 envelopes.
        List<Integer> groupSizes = Collections.synchronizedList(new ArrayList<>());
        DeliveryHandler slow = new DeliveryHandler() {
            private int open;

            @Override
            public void deliver(Envelope e) {
                long until = System.nanoTime() + 200_000;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
                open++;
            }

            @Override
            public void flush() {
                groupSizes.add(open);
                open = 0;
            }
        };
        journal = Journal.open(dir);
        pipeline = new DeliveryPipeline("me", journal, slow, Map.of(), (o, from, to, node) -> { }, counters);
        List<Envelope> a = JournalTest.chain("a", 3 * DeliveryPipeline.MAX_GROUP);
        for (Envelope e : a) { // the backlog is there before the thread starts
            pipeline.put(e, "x");
        }
        pipeline.start();
        Await.until(WAIT, () -> pipeline.delivered().getOrDefault("a", 0L) == a.size(),
                () -> "delivered " + pipeline.delivered());
        assertTrue(groupSizes.contains(DeliveryPipeline.MAX_GROUP),
                "while " + DeliveryPipeline.MAX_GROUP + " or more wait, a group fills up; groups were " + groupSizes);
    }
}
