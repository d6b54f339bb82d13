package org.activemirroring.join;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.activemirroring.postgres.CopyText;
import org.activemirroring.transport.Reply;
import org.junit.jupiter.api.Test;

class JoinWireTest {

    private static byte[] withData(byte[] data) {
        byte[] array = new byte[JoinWire.DATA_OFFSET + data.length];
        Arrays.fill(array, (byte) 7); // whatever the donor's buffer held before
        System.arraycopy(data, 0, array, JoinWire.DATA_OFFSET, data.length);
        return array;
    }

    @Test
    void aChunkFramedInPlaceReadsBackAsAnyFrameDoes() {
        byte[] data = "1\tone\n2\ttwo\n".getBytes(StandardCharsets.UTF_8);
        byte[] array = withData(data);
        JoinWire.ChunkHeader header = new JoinWire.ChunkHeader(2, null, 41, JoinWire.BINARY);
        Reply framed = JoinWire.chunkInPlace(header, array, array.length);
        assertSame(array, framed.array(), "framed where the data is");
        assertEquals(1, framed.offset(), "one byte left for the transport");
        // what the joiner gets: the frame alone, or in place in a larger array
        for (Reply received : new Reply[] {Reply.of(framed.toBytes()), framed}) {
            JoinWire.Chunk chunk = JoinWire.parseChunk(received);
            assertEquals(header, chunk.header());
            assertTrue(chunk.header().binary());
            assertArrayEquals(data, Arrays.copyOfRange(chunk.frame(), chunk.offset(), chunk.offset() + chunk.length()));
        }
    }

    @Test
    void aHeaderLongerThanItsRoomGetsAFrameOfItsOwn() {
        byte[] data = "k\tv\n".getBytes(StandardCharsets.UTF_8);
        String longKey = "k".repeat(JoinWire.HEADER_ROOM);
        JoinWire.ChunkHeader header = new JoinWire.ChunkHeader(1, longKey, 3, null);
        Reply framed = JoinWire.chunkInPlace(header, withData(data), JoinWire.DATA_OFFSET + data.length);
        JoinWire.Chunk chunk = JoinWire.parseChunk(framed);
        assertEquals(longKey, chunk.header().last());
        assertArrayEquals(data, Arrays.copyOfRange(chunk.frame(), chunk.offset(), chunk.offset() + chunk.length()));
    }

    @Test
    void aFrameWhoseHeaderLengthDoesNotFitIsRefused() {
        byte[] frame = {0, 0, 1, 0, '{', '}'};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JoinWire.parseChunk(Reply.of(frame)));
        assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Reply(frame, 4, 3));
    }

    @Test
    void theLastKeyIsFoundInDataThatStartsAfterTheFrame() {
        byte[] data = "a\t1\nb\\tc\t2\n".getBytes(StandardCharsets.UTF_8);
        byte[] array = withData(data);
        assertEquals("b\tc", CopyText.firstFieldOfLastLine(array, JoinWire.DATA_OFFSET, array.length));
        // one row: the scan stops where the data starts, not at a newline in the room before it
        byte[] one = withData("only\tx\n".getBytes(StandardCharsets.UTF_8));
        one[JoinWire.DATA_OFFSET - 1] = 'z';
        assertEquals("only", CopyText.firstFieldOfLastLine(one, JoinWire.DATA_OFFSET, one.length));
    }
}
