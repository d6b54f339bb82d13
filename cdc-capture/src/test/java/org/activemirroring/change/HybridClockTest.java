package org.activemirroring.change;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class HybridClockTest {

    /** A wall clock the test sets. */
    private static final class TestClock extends Clock {
        final AtomicLong millis = new AtomicLong();

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis.get());
        }
    }

    @Test
    void followsWallClockAndBreaksTiesWithTheCounter() {
        TestClock wall = new TestClock();
        wall.millis.set(1_000);
        HybridClock hlc = new HybridClock(wall);
        long a = hlc.tick();
        long b = hlc.tick();
        assertEquals(1_000L << 16, a);
        assertEquals(a + 1, b);
        wall.millis.set(2_000);
        assertEquals(2_000L << 16, hlc.tick());
        assertEquals(Instant.ofEpochMilli(2_000), HybridClock.toInstant(hlc.current()));
    }

    @Test
    void neverRunsBackwardsWhenTheWallClockDoes() {
        TestClock wall = new TestClock();
        wall.millis.set(5_000);
        HybridClock hlc = new HybridClock(wall);
        long a = hlc.tick();
        wall.millis.set(4_000);
        assertTrue(hlc.tick() > a);
    }

    @Test
    void aTickAfterWitnessingAPeerAheadExceedsThePeer() {
        TestClock wall = new TestClock();
        wall.millis.set(1_000);
        HybridClock hlc = new HybridClock(wall);
        long peer = (9_000L << 16) + 7;
        hlc.witness(peer);
        assertEquals(peer + 1, hlc.tick());
        hlc.witness(5); // older: no effect
        assertEquals(peer + 2, hlc.tick());
        assertEquals("1970-01-01T00:00:09Z+9", HybridClock.format(hlc.current()));
    }
}
