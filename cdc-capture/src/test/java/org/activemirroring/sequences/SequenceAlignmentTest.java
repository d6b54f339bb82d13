package org.activemirroring.sequences;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.activemirroring.sequences.SequenceAlignment.State;
import org.junit.jupiter.api.Test;

class SequenceAlignmentTest {
    private static final long MAX = Long.MAX_VALUE;

    private static State seq(long last, boolean called, long increment) {
        return new State("s", last, called, increment, 1, MAX);
    }

    @Test
    void smallestAlignedValueAboveAFloor() {
        assertEquals(17, SequenceAlignment.smallestAlignedAbove(1, 1, 16));
        assertEquals(17, SequenceAlignment.smallestAlignedAbove(16, 1, 16));
        assertEquals(33, SequenceAlignment.smallestAlignedAbove(17, 1, 16), "strictly above");
        assertEquals(16, SequenceAlignment.smallestAlignedAbove(0, 0, 16));
        assertEquals(15, SequenceAlignment.smallestAlignedAbove(0, 15, 16));
        assertEquals(1, SequenceAlignment.smallestAlignedAbove(0, 1, 16));
        // Negative values: congruence is floorMod, so -15 belongs to slot 1.
        assertEquals(-15, SequenceAlignment.smallestAlignedAbove(-20, 1, 16));
        assertEquals(1023, SequenceAlignment.smallestAlignedAbove(5, 1023, 1024));
        assertNull(SequenceAlignment.smallestAlignedAbove(MAX, 0, 16));
        assertNull(SequenceAlignment.smallestAlignedAbove(MAX - 3, 1, 16), "no slot-1 value left below 2^63");
        assertTrue(SequenceAlignment.aligned(MAX, (int) Math.floorMod(MAX, 16L), 16));
    }

    @Test
    void nextValueFollowsIsCalled() {
        assertEquals(17, SequenceAlignment.nextValue(seq(1, true, 16)));
        assertEquals(1, SequenceAlignment.nextValue(seq(1, false, 16)), "after RESTART the value itself comes next");
        assertNull(SequenceAlignment.nextValue(new State("s", 95, true, 16, 1, 100)), "past MAXVALUE");
        assertNull(SequenceAlignment.nextValue(seq(MAX, true, 1)), "overflow");
    }

    @Test
    void alignedOnlyWithTheRightIncrementResidueAndAboveStoredKeys() {
        assertTrue(SequenceAlignment.isAligned(seq(17, true, 16), null, 1, 16));
        assertTrue(SequenceAlignment.isAligned(seq(17, true, 16), 32L, 1, 16), "33 is above 32");
        assertFalse(SequenceAlignment.isAligned(seq(17, true, 16), 33L, 1, 16), "33 was already used");
        assertFalse(SequenceAlignment.isAligned(seq(17, true, 1), null, 1, 16), "increment 1");
        assertFalse(SequenceAlignment.isAligned(seq(18, true, 16), null, 1, 16), "other slot");
        assertTrue(SequenceAlignment.isAligned(seq(1, false, 16), null, 1, 16), "unused 1 is slot 1's");
        assertFalse(SequenceAlignment.isAligned(new State("s", 97, true, 16, 1, 100), null, 1, 16), "exhausted");
    }

    @Test
    void targetIsAboveEverythingHandedOutOrStoredAndNeverBackwards() {
        // Fresh serial: last_value 1, not called; slot 1 -> 1 itself was never handed out.
        assertEquals(1, SequenceAlignment.target(seq(1, false, 1), null, 1, 16));
        // Same for slot 0: 16 is the first slot-0 value at or above 1.
        assertEquals(16, SequenceAlignment.target(seq(1, false, 1), null, 0, 16));
        // Called: last_value was handed out, so strictly above it.
        assertEquals(17, SequenceAlignment.target(seq(1, true, 1), null, 1, 16));
        assertEquals(33, SequenceAlignment.target(seq(17, true, 1), null, 1, 16));
        // RESTART WITH 1 below keys already stored: go above the stored maximum.
        assertEquals(3201, SequenceAlignment.target(seq(1, false, 1), 3185L, 1, 16));
        // A stored maximum below last_value never moves the sequence backwards.
        assertEquals(513, SequenceAlignment.target(seq(500, true, 1), 20L, 1, 16));
        assertTrue(SequenceAlignment.target(seq(500, true, 1), 20L, 1, 16) > 500);
    }

    @Test
    void targetRespectsMinAndMaxValue() {
        // MINVALUE 100, RESTART at 100 (not called): the first slot-3 value at or above 100.
        assertEquals(115, SequenceAlignment.target(new State("s", 100, false, 1, 100, 1000), null, 3, 16));
        // A stored key below MINVALUE does not pull the target under it.
        assertEquals(115, SequenceAlignment.target(new State("s", 100, false, 1, 100, 1000), 5L, 3, 16));
        // MAXVALUE reached for this slot: 1000 is slot 8's, but the target counts as used and 1016 is too high.
        assertNull(SequenceAlignment.target(new State("s", 990, true, 1, 1, 1000), null, 8, 16));
        assertEquals(904, SequenceAlignment.target(new State("s", 900, true, 1, 1, 1000), null, 8, 16));
        assertEquals(984, SequenceAlignment.target(new State("s", 980, true, 1, 1, 1000), null, 8, 16));
        // int4 serial near its top.
        assertNull(SequenceAlignment.target(new State("s", Integer.MAX_VALUE - 2, true, 16, 1, Integer.MAX_VALUE),
                null, 0, 16));
        assertNull(SequenceAlignment.target(seq(MAX - 1, true, 16), null, 5, 16));
    }
}
