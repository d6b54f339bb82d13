package org.activemirroring.mirror.siteapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.activemirroring.site.LostWrite;
import org.activemirroring.site.LostWriteListener;
import org.junit.jupiter.api.Test;

/** Delivery of lost writes: acknowledgement, retry with backoff, order, several listeners. */
class LostWriteDeliveryTest {

    /** A conflict log in memory: entries appear as they "commit", acknowledgements are a set. */
    private static final class FakeLog implements LostWriteDelivery.Source {
        final Map<Long, LostWrite> committed = new TreeMap<>();
        final TreeSet<Long> acked = new TreeSet<>();
        boolean down;

        void commit(long id) {
            committed.put(id, write(id));
        }

        @Override
        public List<LostWrite> unacknowledged(int limit) throws Exception {
            if (down) {
                throw new java.sql.SQLException("Connection refused");
            }
            return committed.values().stream().filter(w -> !acked.contains(w.conflictId())).limit(limit).toList();
        }

        @Override
        public void acknowledge(long conflictId) throws Exception {
            if (down) {
                throw new java.sql.SQLException("Connection refused");
            }
            acked.add(conflictId);
        }
    }

    /** A clock the test moves by hand. */
    private static final class ManualClock extends Clock {
        private Instant now = Instant.parse("2026-12-01T10:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    private static LostWrite write(long id) {
        return new LostWrite(id, Instant.EPOCH, "unique", "public.account", Map.of("id", Long.toString(id)),
                "{\"id\":" + id + ",\"name\":\"alice\"}", "{\"id\":1,\"name\":\"alice\"}", "m-1");
    }

    private final FakeLog log = new FakeLog();
    private final ManualClock clock = new ManualClock();
    private final AtomicInteger wakes = new AtomicInteger();
    private final AtomicReference<LostWriteDelivery.Source> source = new AtomicReference<>(log);
    private final LostWriteDelivery delivery = new LostWriteDelivery("m-2", source::get, clock, wakes::incrementAndGet);

    private static LostWriteListener recording(List<Long> told) {
        return w -> told.add(w.conflictId());
    }

    @Test
    void tellsTheBacklogInIdOrderThenNewOnesAndAcknowledgesEachOnce() throws Exception {
        log.commit(3);
        log.commit(5);
        delivery.runOnce(); // no listener: nothing read, nothing acknowledged
        assertEquals(List.of(), List.copyOf(log.acked));

        List<Long> told = new ArrayList<>();
        AutoCloseable registration = delivery.add(recording(told));
        assertEquals(1, wakes.get(), "adding a listener asks for a round at once");
        delivery.runOnce();
        assertEquals(List.of(3L, 5L), told);
        assertEquals(List.of(3L, 5L), List.copyOf(log.acked));

        delivery.runOnce();
        assertEquals(List.of(3L, 5L), told, "acknowledged writes are not told again");
        log.commit(9);
        delivery.runOnce();
        assertEquals(List.of(3L, 5L, 9L), told);

        // An id committed after a higher one (two transactions of the node raced) is not skipped.
        log.commit(7);
        delivery.runOnce();
        assertEquals(List.of(3L, 5L, 9L, 7L), told);
        assertEquals(List.of(3L, 5L, 7L, 9L), List.copyOf(log.acked));

        registration.close();
        log.commit(11);
        delivery.runOnce();
        assertEquals(List.of(3L, 5L, 9L, 7L), told, "a closed listener is told nothing");
        assertTrue(!log.acked.contains(11L), "nothing acknowledges a write no listener handled");
    }

    @Test
    void aListenerThatThrowsIsToldTheSameWriteAgainWithDoublingWaitsAndNothingLaterMeanwhile() {
        log.commit(1);
        log.commit(2);
        List<Long> calls = new ArrayList<>();
        AtomicInteger failuresLeft = new AtomicInteger(8);
        delivery.add(w -> {
            calls.add(w.conflictId());
            if (w.conflictId() == 1 && failuresLeft.getAndDecrement() > 0) {
                throw new IllegalStateException("site database away");
            }
        });
        delivery.runOnce();
        assertEquals(List.of(1L), calls, "write 2 waits behind write 1");
        assertTrue(log.acked.isEmpty());

        // Waits 1, 2, 4, 8, 16, 32, 60, 60 s: just before each runs out nothing is told, at its end write 1 again.
        long[] waits = {1, 2, 4, 8, 16, 32, 60, 60};
        for (int i = 0; i < waits.length; i++) {
            clock.advance(Duration.ofMillis(waits[i] * 1000 - 1));
            delivery.runOnce();
            assertEquals(i + 1, calls.size(), "told again before the wait of " + waits[i] + " s ran out");
            clock.advance(Duration.ofMillis(1));
            delivery.runOnce();
            assertEquals(1L, calls.get(i + 1), "after the wait of " + waits[i] + " s: " + calls);
        }
        assertEquals(10, calls.size(), "write 1 nine times, then write 2: " + calls);
        // The ninth call succeeded: write 2 follows in the same round, both acknowledged.
        assertEquals(List.of(1L, 2L), List.copyOf(log.acked));
        delivery.runOnce();
        assertEquals(1L, calls.stream().filter(id -> id == 2L).count());
    }

    @Test
    void backoffStartsAtOneSecondAndStopsDoublingAtSixtySeconds() {
        assertEquals(1_000, LostWriteDelivery.backoffMillis(1));
        assertEquals(2_000, LostWriteDelivery.backoffMillis(2));
        assertEquals(32_000, LostWriteDelivery.backoffMillis(6));
        assertEquals(60_000, LostWriteDelivery.backoffMillis(7));
        assertEquals(60_000, LostWriteDelivery.backoffMillis(1_000));
    }

    @Test
    void everyListenerGetsEveryWriteAndAFailingOneHoldsBackOnlyTheAcknowledgement() {
        log.commit(1);
        log.commit(2);
        List<Long> good = new ArrayList<>();
        List<Long> flaky = new ArrayList<>();
        AtomicInteger failuresLeft = new AtomicInteger(1);
        delivery.add(recording(good));
        delivery.add(w -> {
            if (failuresLeft.getAndDecrement() > 0) {
                throw new IllegalStateException("not yet");
            }
            flaky.add(w.conflictId());
        });
        delivery.runOnce();
        assertEquals(List.of(1L, 2L), good, "the good listener is not blocked by the failing one");
        assertEquals(List.of(), flaky);
        assertTrue(log.acked.isEmpty(), "handled by one of two listeners is not handled");

        log.commit(3);
        delivery.runOnce(); // the flaky one still waits out its backoff
        assertEquals(List.of(1L, 2L, 3L), good);
        assertTrue(log.acked.isEmpty());

        clock.advance(LostWriteDelivery.FIRST_BACKOFF);
        delivery.runOnce();
        assertEquals(List.of(1L, 2L, 3L), flaky);
        assertEquals(List.of(1L, 2L, 3L), good, "the good listener is not told again what it handled");
        assertEquals(List.of(1L, 2L, 3L), List.copyOf(log.acked));
    }

    @Test
    void aListenerAddedLaterIsToldWhatIsNotAcknowledgedYet() {
        log.commit(1);
        List<Long> first = new ArrayList<>();
        delivery.add(recording(first));
        delivery.add(w -> {
            throw new IllegalStateException("always");
        }).getClass();
        delivery.runOnce();
        List<Long> late = new ArrayList<>();
        delivery.add(recording(late));
        delivery.runOnce();
        assertEquals(List.of(1L), late);
        assertEquals(List.of(1L), first);
        assertTrue(log.acked.isEmpty());
    }

    @Test
    void closingTheListenerThatHeldWritesBackLetsThemBeAcknowledged() throws Exception {
        log.commit(1);
        List<Long> good = new ArrayList<>();
        delivery.add(recording(good));
        AutoCloseable stuck = delivery.add(w -> {
            throw new IllegalStateException("always");
        });
        delivery.runOnce();
        assertTrue(log.acked.isEmpty());
        stuck.close();
        delivery.runOnce();
        assertEquals(List.of(1L), good);
        assertEquals(List.of(1L), List.copyOf(log.acked));
    }

    @Test
    void aLogThatCannotBeReadOrAWriteNotAcknowledgedIsRetriedWithoutTellingTwice() {
        log.commit(1);
        List<Long> told = new ArrayList<>();
        delivery.add(recording(told));
        log.down = true;
        delivery.runOnce();
        assertEquals(List.of(), told);

        // Read works, acknowledging fails: the listener is not told again in this run.
        log.down = false;
        LostWriteDelivery.Source ackFails = new LostWriteDelivery.Source() {
            @Override
            public List<LostWrite> unacknowledged(int limit) throws Exception {
                return log.unacknowledged(limit);
            }

            @Override
            public void acknowledge(long conflictId) throws Exception {
                throw new java.sql.SQLException("Connection reset");
            }
        };
        source.set(ackFails);
        delivery.runOnce();
        delivery.runOnce();
        assertEquals(List.of(1L), told);
        assertTrue(log.acked.isEmpty());
        source.set(log);
        delivery.runOnce();
        assertEquals(List.of(1L), told);
        assertEquals(List.of(1L), List.copyOf(log.acked));

        // The node not running: nothing is read.
        source.set(null);
        log.commit(2);
        delivery.runOnce();
        assertEquals(List.of(1L), told);
    }

    @Test
    void aListenerMayCloseItselfAndNullIsRefused() {
        log.commit(1);
        log.commit(2);
        List<Long> told = new ArrayList<>();
        AtomicReference<AutoCloseable> self = new AtomicReference<>();
        self.set(delivery.add(w -> {
            told.add(w.conflictId());
            self.get().close();
        }));
        delivery.runOnce();
        assertEquals(List.of(1L), told, "closed from within, it is told nothing more");
        assertEquals(0, delivery.listeners());
        assertThrows(NullPointerException.class, () -> delivery.add(null));
    }
}
