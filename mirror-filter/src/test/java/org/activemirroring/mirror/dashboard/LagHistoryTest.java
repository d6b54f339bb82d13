package org.activemirroring.mirror.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

class LagHistoryTest {
    @Test
    void keepsOneSampleEveryIntervalWithTheLagOfEachOtherMirror() {
        LagHistory h = new LagHistory(3);
        assertTrue(h.record(10_000, "a", Map.of("a", 50L, "b", 9L, "c", 4L), Map.of("b", 7L, "c", 4L)));
        assertFalse(h.record(10_000 + LagHistory.INTERVAL_MS - 1, "a", Map.of("b", 20L), Map.of()));
        assertEquals(1, h.samples().size());
        assertEquals(Map.of("b", 2L, "c", 0L), h.samples().get(0).lag(), "own journal is not lag");
    }

    @Test
    void dropsTheOldestBeyondItsCapacity() {
        LagHistory h = new LagHistory(3);
        for (int i = 0; i < 5; i++) {
            h.record(i * LagHistory.INTERVAL_MS, "a", Map.of("b", (long) i), Map.of());
        }
        assertEquals(3, h.samples().size());
        assertEquals(2 * LagHistory.INTERVAL_MS, h.samples().get(0).atMillis());
        assertEquals(Map.of("b", 4L), h.samples().get(2).lag());
    }
}
