package org.activemirroring.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

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

    private final ManualClock clock = new ManualClock(Instant.parse("2024-05-01T10:00:00Z"));
    /** Restart delays the pipeline waited, in order (the clock moves by each). */
    private final List<Long> pauses = Collections.synchronizedList(new ArrayList<>());

    /**
     * A pipeline whose restart waits are recorded and move the manual clock instead of taking
     * time; each waits for a permit first when {@code permits} is given (the test releases them).
     */
    private DeliveryPipeline restartingPipeline(DeliveryHandler h, DeliveryPipeline.GapListener gapListener,
                                                Semaphore permits) throws IOException {
        journal = Journal.open(dir);
        pipeline = new DeliveryPipeline("me", journal, h, Map.of(), gapListener, counters,
                new DeliveryRestarts("me", clock), ms -> {
                    pauses.add(ms);
                    if (permits != null) {
                        permits.acquire(); // close() interrupts this
                    }
                    clock.advance(Duration.ofMillis(ms));
                    return true;
                });
        return pipeline;
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().collect(Collectors.toList());
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

    /**
     * A change the handler keeps refusing with an expected failure (it cannot be applied here
     * yet) is retried, never skipped, and status says what is held back and since when, until it
     * goes through.
     */
    @Test
    void aChangeThatKeepsFailingShowsAsHeldBackUntilItIsDelivered() throws Exception {
        RecordingHandler h = new RecordingHandler("me");
        DeliveryPipeline p = pipeline(h, Map.of());
        h.failuresLeft.set(3); // three attempts fail: 50 + 100 + 200 ms of backoff
        p.start();
        List<Envelope> a = JournalTest.chain("a", 3);
        for (Envelope e : a) {
            p.offer(e, "x");
        }
        Await.until(WAIT, () -> p.status().heldBack() != null, () -> "never held back: " + p.status());
        DeliveryStatus held = p.status();
        assertTrue(held.heldBack().startsWith("a#1") && held.heldBack().contains("simulated database restart"),
                held.heldBack());
        assertTrue(held.heldSince() != null && held.running(), held.toString());
        assertEquals(List.of(), h.seqs("a"), "nothing behind it went first");
        Await.until(WAIT, () -> h.last("a") == 3, () -> "got " + h.seqs("a"));
        assertEquals(List.of(1L, 2L, 3L), h.seqs("a"));
        assertEquals(null, p.status().heldBack(), "delivered: nothing held back any more");
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
        /** When set, a failing delivery throws this (unexpected) instead of a checked exception. */
        volatile Supplier<? extends Throwable> deliverFault;
        /** When set, a failing flush throws this (unexpected) instead of a checked exception. */
        volatile Supplier<? extends Throwable> flushFault;

        @Override
        public void deliver(Envelope e) throws Exception {
            if (e.seq() == failDeliveryOf.get()) {
                failDeliveryOf.set(-1);
                staged.clear(); // the handler undoes its open group
                throw failure(deliverFault, "simulated failure delivering " + e);
            }
            staged.add(e.origin() + "#" + e.seq());
        }

        @Override
        public void flush() throws Exception {
            flushes.incrementAndGet();
            if (failFlushes.getAndDecrement() > 0) {
                staged.clear();
                throw failure(flushFault, "simulated commit failure");
            }
            durable.addAll(staged);
            staged.clear();
        }

        /** The checked failure to throw; or throws the unexpected one itself. */
        private static Exception failure(Supplier<? extends Throwable> unexpected, String checked) {
            if (unexpected == null) {
                return new Exception(checked);
            }
            Throwable t = unexpected.get();
            if (t instanceof RuntimeException r) {
                throw r;
            }
            throw (Error) t;
        }

        /** What it committed, per origin, in commit order. */
        List<String> durable(String origin) {
            synchronized (durable) {
                return durable.stream().filter(x -> x.startsWith(origin + "#")).toList();
            }
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

    // --- unexpected failures: delivery restarts by itself ---

    @ParameterizedTest
    @ValueSource(strings = {"IllegalStateException", "StackOverflowError"})
    void anUnexpectedFaultOfTheHandlerRestartsDeliveryWhereTheHandlerCommittedAndNothingIsMissedOrRepeated(
            String kind) throws Exception {
        RecordingHandler h = new RecordingHandler("me");
        h.failOn("a", 4, 1, kind.equals("IllegalStateException")
                ? () -> new IllegalStateException("simulated bug at a#4") : RecordingHandler::overflowStack);
        DeliveryPipeline p = restartingPipeline(h, (o, from, to, node) -> { }, null);
        p.start();
        List<Envelope> a = JournalTest.chain("a", 10);
        List<Envelope> b = JournalTest.chain("b", 10);
        for (int i = 0; i < 10; i++) {
            p.offer(a.get(i), "x");
            p.offer(b.get(i), "x");
        }
        Await.until(WAIT, () -> p.delivered().equals(Map.of("a", 10L, "b", 10L)) && p.isRunning(),
                () -> "delivered " + p.delivered() + ", " + p.status());
        assertEquals(range(1, 10), h.seqs("a"), "each once, in order");
        assertEquals(range(1, 10), h.seqs("b"));
        assertEquals(List.of(), h.errors());
        assertEquals(0, h.faultsLeft(), "the fault struck");
        DeliveryStatus st = p.status();
        assertTrue(st.running(), st.toString());
        assertEquals(1, st.restarts());
        assertNull(st.downSince());
        assertNull(st.nextRestart());
        assertTrue(st.lastError().contains(kind) && st.lastError().contains("delivering a#4"), st.lastError());
        if (kind.equals("IllegalStateException")) {
            assertTrue(st.lastError().contains("simulated bug at a#4"), st.lastError());
        }
        assertEquals(List.of(1_000L), pauses, "one restart, after the first delay");
        assertEquals(1, h.restartQuestions.get(), "asked the handler where to restart");
    }

    @Test
    void withoutTheHandlersVectorARestartResumesAfterWhatWasFlushedAndALostGroupComesAgainOnce() throws Exception {
        GroupingHandler h = new GroupingHandler(); // stages, commits on flush, undoes on failure; no restartFrom
        DeliveryPipeline p = restartingPipeline(h, (o, from, to, node) -> { }, null);
        List<Envelope> a = JournalTest.chain("a", 600);
        List<Envelope> b = JournalTest.chain("b", 600);
        for (int i = 0; i < 300; i++) { // queued before the thread starts: large groups form
            p.put(a.get(i), "x");
            p.put(b.get(i), "x");
        }
        p.start();
        Await.until(WAIT, () -> h.durable.size() == 600, () -> "durable " + h.durable.size());

        // A commit that throws a RuntimeException, then a delivery that overflows the stack, in open groups.
        h.flushFault = () -> new IllegalStateException("simulated bug in commit");
        h.failFlushes.set(1);
        h.deliverFault = RecordingHandler::overflowStack;
        h.failDeliveryOf.set(450);
        for (int i = 300; i < 600; i++) {
            p.put(a.get(i), "x");
            p.put(b.get(i), "x");
        }
        Await.until(WAIT, () -> h.durable.size() == 1200 && p.isRunning(),
                () -> "durable " + h.durable.size() + ", " + p.status());
        for (String o : List.of("a", "b")) {
            assertEquals(range(1, 600).stream().map(i -> o + "#" + i).toList(), h.durable(o),
                    "origin " + o + " in order, each once");
        }
        assertEquals(Map.of("a", 600L, "b", 600L), p.delivered());
        DeliveryStatus st = p.status();
        assertEquals(2, st.restarts(), st.toString());
        assertTrue(st.running());
        assertEquals(List.of(1_000L, 2_000L), pauses, "the second failure came soon: a longer wait");
    }

    @Test
    void aHandlerThatKeepsFailingIsRestartedWithGrowingWaitsIsReportedDownAndRunsAgainOnceHealed() throws Exception {
        RecordingHandler h = new RecordingHandler("me");
        h.failOn("a", 2, Integer.MAX_VALUE, () -> new IllegalStateException("poisoned a#2"));
        Semaphore permits = new Semaphore(0);
        DeliveryPipeline p = restartingPipeline(h, (o, from, to, node) -> { }, permits);
        p.start();
        Instant t0 = clock.instant();
        for (Envelope e : JournalTest.chain("a", 3)) {
            p.offer(e, "x");
        }
        Await.until(WAIT, () -> pauses.size() == 1, () -> "first failure, " + p.status());
        DeliveryStatus down = p.status();
        assertFalse(down.running());
        assertFalse(p.isRunning());
        assertEquals(t0, down.downSince());
        assertEquals(t0.plusSeconds(1), down.nextRestart());
        assertEquals(0, down.restarts());
        assertTrue(down.lastError().contains("poisoned a#2") && down.lastError().contains("delivering a#2"),
                down.lastError());

        int attempts = h.attempts.get();
        permits.release(7);
        Await.until(WAIT, () -> pauses.size() == 8, () -> "waits " + pauses);
        assertEquals(List.of(1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 32_000L, 60_000L, 60_000L), pauses);
        assertEquals(attempts + 7, h.attempts.get(), "one attempt per restart, none in between: no hot loop");
        down = p.status();
        assertFalse(down.running());
        assertEquals(7, down.restarts());
        assertEquals(t0, down.downSince(), "down since the first failure, across restarts");
        assertEquals(List.of(1L), h.seqs("a"), "nothing past the poisoned envelope, nothing twice");

        h.healed();
        permits.release();
        Await.until(WAIT, () -> h.last("a") == 3 && p.isRunning(), () -> "got " + h.seqs("a") + ", " + p.status());
        assertEquals(range(1, 3), h.seqs("a"));
        assertEquals(List.of(), h.errors());
        DeliveryStatus up = p.status();
        assertEquals(8, up.restarts(), "the record stays: a flapping pipeline shows");
        assertNull(up.downSince());
        assertTrue(up.lastError().contains("poisoned a#2"), up.lastError());
    }

    @Test
    void aFaultOfThePipelineItselfRestartsItAndWhatItHeldOnlyInMemoryComesAgain() throws Exception {
        RecordingHandler h = new RecordingHandler("me");
        AtomicInteger faults = new AtomicInteger(1);
        DeliveryPipeline p = restartingPipeline(h, (o, from, to, node) -> {
            if (faults.getAndDecrement() > 0) {
                throw new IllegalStateException("simulated bug reporting a gap");
            }
        }, null);
        p.start();
        List<Envelope> a = JournalTest.chain("a", 3);
        p.offer(a.get(2), "x"); // early: buffered in memory only, and reporting the gap fails
        Await.until(WAIT, () -> pauses.size() == 1 && p.isRunning(), () -> "restarted, " + p.status());
        p.offer(a.get(0), "x");
        p.offer(a.get(1), "x");
        Await.until(WAIT, () -> h.last("a") == 2, () -> "got " + h.seqs("a"));
        p.offer(a.get(2), "x"); // as catch-up brings it again
        Await.until(WAIT, () -> h.last("a") == 3, () -> "got " + h.seqs("a"));
        assertEquals(range(1, 3), h.seqs("a"));
        assertEquals(List.of(), h.errors());
        assertEquals(1, p.status().restarts());
        assertTrue(p.status().lastError().contains("simulated bug reporting a gap"), p.status().lastError());
    }

    @Test
    void closeEndsARestartWaitAtOnce() throws Exception {
        RecordingHandler h = new RecordingHandler("me");
        h.failOn("a", 1, Integer.MAX_VALUE, () -> new IllegalStateException("always"));
        journal = Journal.open(dir);
        pipeline = new DeliveryPipeline("me", journal, h, Map.of(), (o, from, to, node) -> { }, counters,
                new DeliveryRestarts("me", clock, Duration.ofSeconds(30), Duration.ofSeconds(60),
                        DeliveryRestarts.HEALTHY_AFTER), null); // the real wait, 30 s
        pipeline.start();
        pipeline.offer(JournalTest.chain("a", 1).get(0), "x");
        Await.until(WAIT, () -> pipeline.status().downSince() != null, () -> "down, " + pipeline.status());
        long t0 = System.nanoTime();
        pipeline.close();
        assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "close waited for the restart delay");
        assertFalse(pipeline.isRunning());
        assertEquals(1, h.attempts.get(), "no restart while waiting");
        pipeline = null;
    }
}
