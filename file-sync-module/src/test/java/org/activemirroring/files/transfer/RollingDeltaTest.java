package org.activemirroring.files.transfer;

import static org.activemirroring.files.transfer.TransferFixtures.insert;
import static org.activemirroring.files.transfer.TransferFixtures.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;

class RollingDeltaTest {

    private static byte[] roundTrip(byte[] base, byte[] target, int subBlock) throws BlockWireException {
        RollingDelta.Signature sig = RollingDelta.sign(base, 0, base.length, subBlock);
        byte[] ops = RollingDelta.diff(target, 0, target.length, sig);
        byte[] rebuilt = RollingDelta.patch(ops, 0, ops.length, base, 0, base.length, subBlock, target.length);
        assertArrayEquals(target, rebuilt);
        return ops;
    }

    @Test
    void anInsertionTravelsAsItsOwnBytesAndTheSubBlocksCutAtItsEdges() throws Exception {
        byte[] base = random(24_000, 1);
        byte[] inserted = random(5_000, 2);
        byte[] target = insert(base, 9_999, inserted);
        byte[] ops = roundTrip(base, target, 512);
        // Everything but the inserted bytes and at most one sub-block on each side is copied.
        assertTrue(ops.length < inserted.length + 2 * 512 + 64, "op stream of " + ops.length + " bytes");
        assertTrue(ops.length >= inserted.length, "the inserted bytes are not in the base: " + ops.length);
    }

    @Test
    void anOverwriteInPlaceAndADeletionToo() throws Exception {
        byte[] base = random(40_000, 3);
        byte[] overwritten = base.clone();
        System.arraycopy(random(300, 4), 0, overwritten, 20_000, 300);
        byte[] ops = roundTrip(base, overwritten, 512);
        assertTrue(ops.length < 300 + 2 * 512 + 64, "op stream of " + ops.length + " bytes");

        byte[] deleted = new byte[base.length - 7_000];
        System.arraycopy(base, 0, deleted, 0, 10_000);
        System.arraycopy(base, 17_000, deleted, 10_000, base.length - 17_000);
        ops = roundTrip(base, deleted, 512);
        assertTrue(ops.length < 2 * 512 + 64, "a deletion sends no new bytes: " + ops.length);
    }

    @Test
    void unrelatedShortAndEmptyInputsStillRebuildExactly() throws Exception {
        Random r = new Random(5);
        for (int i = 0; i < 200; i++) {
            byte[] base = random(r.nextInt(5_000), r.nextLong());
            byte[] target = r.nextBoolean() ? random(r.nextInt(5_000), r.nextLong())
                    : Arrays.copyOfRange(base, base.length / 3, base.length);
            roundTrip(base, target, RollingDelta.MIN_SUB_BLOCK << r.nextInt(4));
        }
        roundTrip(new byte[0], random(1000, 6), 256);
        roundTrip(random(1000, 7), new byte[0], 256);
    }

    @Test
    void repeatedContentAndZeroesMatchInOrder() throws Exception {
        byte[] base = new byte[16_384];
        byte[] target = new byte[20_000];
        byte[] ops = roundTrip(base, target, 1024);
        assertTrue(ops.length < 1024 + 64, "zeroes copy from the zero base: " + ops.length);
    }

    @Test
    // A guard against a hang, not a speed goal: unbounded, this diff compares 4 Mi positions with
    // 65,536 candidates each (hours); bounded, it takes about a second.
    @org.junit.jupiter.api.Timeout(120)
    void aSignatureWhoseChecksumsAllCollideCostsBoundedWorkAndStillRebuilds() throws Exception {
        // Every sub-block has the same weak checksum and a strong one that matches nothing: each
        // position of the target may look at only a few of them.
        int count = DeltaWire.MAX_SUB_BLOCKS;
        int[] weak = new int[count];
        long[] strong = new long[count];
        java.util.Arrays.fill(weak, RollingDelta.weak(new byte[256], 0, 256));
        java.util.Arrays.fill(strong, 42L);
        RollingDelta.Signature sig = new RollingDelta.Signature(256, weak, strong);
        byte[] target = new byte[DeltaWire.MAX_TARGET_BYTES];
        byte[] ops = RollingDelta.diff(target, 0, target.length, sig);
        assertEquals(target.length + 5, ops.length, "all literal: nothing in that base matches");
    }

    @Test
    void theSubBlockSizeGrowsWithTheBase() {
        assertEquals(256, RollingDelta.subBlockSizeFor(1));
        assertEquals(512, RollingDelta.subBlockSizeFor(24_000));
        assertEquals(2048, RollingDelta.subBlockSizeFor(1 << 20));
        assertEquals(8192, RollingDelta.subBlockSizeFor(1L << 40));
    }

    @Test
    void theRollingChecksumEqualsOneComputedFromScratch() {
        byte[] a = random(3_000, 8);
        int s = 700;
        RollingDelta.Signature sig = RollingDelta.sign(a, 1234, s, s);
        // diff finds the window at 1234 by rolling from 0, so a rolling error would miss it.
        byte[] ops = RollingDelta.diff(a, 0, a.length, sig);
        assertTrue(ops.length < a.length - s + 64, "the signed window was found: " + ops.length);
    }

    @Test
    void aMalformedOpStreamIsRefusedWhole() {
        byte[] base = random(4096, 9);
        int s = 1024;
        // copy beyond the base
        byte[] copyOut = {RollingDelta.OP_COPY, 0, 0, 0, 3, 0, 0, 0, 2};
        assertThrows(BlockWireException.class, () -> RollingDelta.patch(copyOut, 0, copyOut.length, base, 0,
                base.length, s, 2048));
        // literal longer than what is left
        byte[] longLiteral = {RollingDelta.OP_LITERAL, 0, 0, 0, 9, 1, 2};
        assertThrows(BlockWireException.class, () -> RollingDelta.patch(longLiteral, 0, longLiteral.length, base, 0,
                base.length, s, 9));
        // unknown op, truncated op, and a stream that builds less than asked
        byte[] unknown = {7, 0, 0, 0, 1, 5};
        assertThrows(BlockWireException.class, () -> RollingDelta.patch(unknown, 0, unknown.length, base, 0,
                base.length, s, 1));
        byte[] truncated = {RollingDelta.OP_COPY, 0, 0};
        assertThrows(BlockWireException.class, () -> RollingDelta.patch(truncated, 0, truncated.length, base, 0,
                base.length, s, 1024));
        byte[] shortOne = {RollingDelta.OP_COPY, 0, 0, 0, 0, 0, 0, 0, 1};
        assertThrows(BlockWireException.class, () -> RollingDelta.patch(shortOne, 0, shortOne.length, base, 0,
                base.length, s, 2048));
    }
}
