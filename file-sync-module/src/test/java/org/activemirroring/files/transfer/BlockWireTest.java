package org.activemirroring.files.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import org.activemirroring.transport.Reply;
import org.junit.jupiter.api.Test;

class BlockWireTest {

    private static final String H1 = "00".repeat(31) + "01";
    private static final String H2 = "AB".repeat(32);

    @Test
    void requestRoundTrips() throws Exception {
        List<BlockWire.Wanted> asked = List.of(new BlockWire.Wanted(H1, 10), new BlockWire.Wanted(H2, 20));
        byte[] body = BlockWire.encodeRequest(asked);
        assertEquals(1 + 4 + 2 * 36, body.length);
        assertEquals(BlockWire.VERSION, body[0]);
        List<BlockWire.Wanted> back = BlockWire.decodeRequest(body);
        assertEquals(asked, back);
        assertEquals("ab".repeat(32), back.get(1).sha256Hex(), "hashes are kept lower-case");
    }

    @Test
    void replyRoundTripsWithTheFirstByteFree() throws Exception {
        List<BlockWire.Wanted> asked = List.of(new BlockWire.Wanted(H1, 3), new BlockWire.Wanted(H2, 2));
        Reply r = BlockWire.encodeReply(asked, (w, dst, off) -> {
            if (w.sha256Hex().equals(H1)) {
                dst[off] = 7;
                dst[off + 1] = 8;
                dst[off + 2] = 9;
                return true;
            }
            return false;
        });
        assertEquals(1, r.offset());
        assertEquals(4 + 3 + 4, r.length());
        int[] at = BlockWire.decodeReply(r, asked);
        assertArrayEquals(new byte[] {7, 8, 9}, Arrays.copyOfRange(r.array(), at[0], at[0] + 3));
        assertEquals(-1, at[1]);
        // The same body without the free byte decodes alike.
        int[] again = BlockWire.decodeReply(Reply.of(r.toBytes()), asked);
        assertEquals(at[0] - 1, again[0]);
    }

    @Test
    void replyPastTheBudgetAnswersNotHeldSoTheRequesterAsksAgain() throws Exception {
        int big = 3 * 1024 * 1024;
        List<BlockWire.Wanted> asked = List.of(new BlockWire.Wanted(H1, big), new BlockWire.Wanted(H2, big),
                new BlockWire.Wanted("cd".repeat(32), big));
        Reply r = BlockWire.encodeReply(asked, (w, dst, off) -> true);
        assertTrue(r.length() <= BlockWire.MAX_REPLY_BYTES);
        assertTrue(r.array().length <= BlockWire.MAX_REPLY_BYTES + 1, "the array is bounded too");
        int[] at = BlockWire.decodeReply(r, asked);
        assertTrue(at[0] > 0 && at[1] > 0);
        assertEquals(-1, at[2]);
    }

    @Test
    void largestBlockFitsBesideAFullRequest() throws Exception {
        List<BlockWire.Wanted> asked = new ArrayList<>(Collections.nCopies(BlockWire.MAX_BLOCKS_PER_REQUEST - 1,
                new BlockWire.Wanted(H2, 1)));
        asked.add(0, new BlockWire.Wanted(H1, BlockWire.MAX_BLOCK_LENGTH));
        Reply r = BlockWire.encodeReply(asked, (w, dst, off) -> w.sha256Hex().equals(H1));
        assertEquals(BlockWire.MAX_REPLY_BYTES, r.length());
        assertTrue(BlockWire.decodeReply(r, asked)[0] > 0);
    }

    @Test
    void malformedRequestsAreRefused() {
        byte[] good = BlockWire.encodeRequest(List.of(new BlockWire.Wanted(H1, 10)));
        assertRefused(null, "shorter than");
        assertRefused(new byte[] {1, 0, 0}, "shorter than");
        byte[] version = good.clone();
        version[0] = 2;
        assertRefused(version, "version 2");
        assertRefused(ByteBuffer.allocate(5).put((byte) 1).putInt(0).array(), "for 0 blocks");
        assertRefused(ByteBuffer.allocate(5).put((byte) 1).putInt(1025).array(), "for 1025 blocks");
        assertRefused(ByteBuffer.allocate(5).put((byte) 1).putInt(-3).array(), "for -3 blocks");
        assertRefused(Arrays.copyOf(good, good.length - 1), "truncated");
        assertRefused(Arrays.copyOf(good, good.length + 1), "truncated or corrupt");
        byte[] zero = good.clone();
        ByteBuffer.wrap(zero).putInt(good.length - 4, 0);
        assertRefused(zero, "asks for 0 bytes");
        byte[] huge = good.clone();
        ByteBuffer.wrap(huge).putInt(good.length - 4, BlockWire.MAX_BLOCK_LENGTH + 1);
        assertRefused(huge, "blocks hold 1..");
    }

    @Test
    void malformedRepliesAreRefused() {
        List<BlockWire.Wanted> asked = List.of(new BlockWire.Wanted(H1, 2), new BlockWire.Wanted(H2, 2));
        assertReplyRefused(new byte[] {0, 0, 0, 2, 5, 5}, asked, "ends before the length of block 1");
        assertReplyRefused(new byte[] {0, 0, 0, 2, 5}, asked, "ends inside block 0");
        assertReplyRefused(new byte[] {0, 0, 0, 3, 5, 5, 5, -1, -1, -1, -1}, asked, "gives 3 bytes");
        assertReplyRefused(new byte[] {-1, -1, -1, -1, -1, -1, -1, -1, 0}, asked, "after its last block");
        assertReplyRefused(new byte[] {-1, -1, -1, -2, -1, -1, -1, -1}, asked, "gives -2 bytes");
        assertThrows(BlockWireException.class,
                () -> BlockWire.decodeReply(new Reply(new byte[BlockWire.MAX_REPLY_BYTES + 1], 0,
                        BlockWire.MAX_REPLY_BYTES + 1), asked));
    }

    @Test
    void invalidWantedBlocksAreRefusedWhenMade() {
        assertThrows(IllegalArgumentException.class, () -> new BlockWire.Wanted("abc", 1));
        assertThrows(IllegalArgumentException.class, () -> new BlockWire.Wanted("zz".repeat(32), 1));
        assertThrows(IllegalArgumentException.class, () -> new BlockWire.Wanted(H1, 0));
        assertThrows(IllegalArgumentException.class, () -> BlockWire.encodeRequest(List.of()));
    }

    private static void assertRefused(byte[] body, String expected) {
        BlockWireException e = assertThrows(BlockWireException.class, () -> BlockWire.decodeRequest(body));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    private static void assertReplyRefused(byte[] body, List<BlockWire.Wanted> asked, String expected) {
        BlockWireException e = assertThrows(BlockWireException.class, () -> BlockWire.decodeReply(Reply.of(body), asked));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
