package org.activemirroring.files.transfer;

import static org.activemirroring.files.transfer.TransferFixtures.random;
import static org.activemirroring.files.transfer.TransferFixtures.sha256Hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

class DeltaWireTest {

    private final RollingDelta.Signature sig = RollingDelta.sign(random(5000, 1), 0, 5000, 1024);
    private final List<BlockWire.Wanted> wanted = List.of(new BlockWire.Wanted(sha256Hex(random(10, 2)), 3000),
            new BlockWire.Wanted(sha256Hex(random(10, 3)), 17));

    @Test
    void aRequestReadsBackAsWritten() throws Exception {
        DeltaWire.Request r = DeltaWire.decodeRequest(DeltaWire.encodeRequest(sig, wanted));
        assertEquals(1024, r.base().subBlockSize());
        assertArrayEquals(sig.weak(), r.base().weak());
        assertArrayEquals(sig.strong(), r.base().strong());
        assertEquals(wanted, r.wanted());
        assertEquals(3017, r.targetLength());
    }

    @Test
    void anythingElseIsRefusedWhole() {
        byte[] good = DeltaWire.encodeRequest(sig, wanted);
        assertThrows(BlockWireException.class, () -> DeltaWire.decodeRequest(null));
        assertThrows(BlockWireException.class, () -> DeltaWire.decodeRequest(new byte[5]));
        byte[] version = good.clone();
        version[0] = 9;
        assertThrows(BlockWireException.class, () -> DeltaWire.decodeRequest(version));
        assertThrows(BlockWireException.class, () -> DeltaWire.decodeRequest(Arrays.copyOf(good, good.length - 1)));
        assertThrows(BlockWireException.class, () -> DeltaWire.decodeRequest(Arrays.copyOf(good, good.length + 1)));
        byte[] tinySubBlocks = good.clone();
        ByteBuffer.wrap(tinySubBlocks).putInt(1, 8);
        assertThrows(BlockWireException.class, () -> DeltaWire.decodeRequest(tinySubBlocks));
        byte[] tooMany = good.clone();
        ByteBuffer.wrap(tooMany).putInt(5, DeltaWire.MAX_SUB_BLOCKS + 1);
        assertThrows(BlockWireException.class, () -> DeltaWire.decodeRequest(tooMany));
        byte[] hugeBlock = good.clone();
        ByteBuffer.wrap(hugeBlock).putInt(hugeBlock.length - 4, DeltaWire.MAX_TARGET_BYTES + 1);
        assertThrows(BlockWireException.class, () -> DeltaWire.decodeRequest(hugeBlock));
    }

    @Test
    void aRequestBeyondItsLimitsIsNotWritten() {
        List<BlockWire.Wanted> big = List.of(new BlockWire.Wanted(sha256Hex(random(1, 4)), DeltaWire.MAX_TARGET_BYTES),
                new BlockWire.Wanted(sha256Hex(random(1, 5)), 1));
        assertThrows(IllegalArgumentException.class, () -> DeltaWire.encodeRequest(sig, big));
        assertThrows(IllegalArgumentException.class, () -> DeltaWire.encodeRequest(sig, List.of()));
    }
}
