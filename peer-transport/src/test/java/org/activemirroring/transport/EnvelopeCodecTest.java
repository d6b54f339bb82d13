package org.activemirroring.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

class EnvelopeCodecTest {

    static Envelope envelope(String origin, long seq, byte[] prev, String payload) {
        return new Envelope(Envelope.FORMAT_VERSION, origin, seq, prev, "test",
                payload.getBytes(StandardCharsets.UTF_8), new byte[0]);
    }

    @Test
    void roundTripKeepsEveryField() {
        Envelope e = new Envelope(1, "node-ä", 42, EnvelopeCodec.zeroHash(), "cdc.changeset",
                new byte[] {1, 2, 3}, new byte[] {9, 8});
        byte[] bytes = EnvelopeCodec.encode(e);
        assertEquals(e, EnvelopeCodec.decode(bytes));
        assertEquals("AMEV", new String(bytes, 0, 4, StandardCharsets.US_ASCII));
        assertEquals(Envelope.FORMAT_VERSION, bytes[4]);
    }

    @Test
    void roundTripOfEmptyPayload() {
        Envelope e = envelope("a", 1, EnvelopeCodec.zeroHash(), "");
        assertEquals(e, EnvelopeCodec.decode(EnvelopeCodec.encode(e)));
    }

    @Test
    void hashIgnoresSignatureButCoversEverythingElse() {
        Envelope e = envelope("a", 1, EnvelopeCodec.zeroHash(), "x");
        Envelope signed = new Envelope(1, "a", 1, EnvelopeCodec.zeroHash(), "test", e.payload(), new byte[] {7});
        assertArrayEquals(EnvelopeCodec.hash(e), EnvelopeCodec.hash(signed));
        assertEquals(32, EnvelopeCodec.hash(e).length);
        assertFalse(Arrays.equals(EnvelopeCodec.hash(e), EnvelopeCodec.hash(envelope("a", 1, EnvelopeCodec.zeroHash(), "y"))));
        assertFalse(Arrays.equals(EnvelopeCodec.hash(e), EnvelopeCodec.hash(envelope("a", 2, EnvelopeCodec.zeroHash(), "x"))));
    }

    @Test
    void hashIsSha256OfTheEncodingWithoutTheSignatureField() throws Exception {
        // Journals and peers keep these hashes: the way they are computed must never change.
        byte[] prev = new byte[Envelope.HASH_LENGTH];
        Arrays.fill(prev, (byte) 0x5a);
        Envelope e = new Envelope(1, "web-ü", 123_456_789_012L, prev, "cs", "{\"a\":1}".getBytes(StandardCharsets.UTF_8),
                new byte[0]);
        byte[] encoded = EnvelopeCodec.encode(e);
        byte[] unsigned = Arrays.copyOf(encoded, encoded.length - 2); // the empty signature's length field
        assertArrayEquals(java.security.MessageDigest.getInstance("SHA-256").digest(unsigned), EnvelopeCodec.hash(e));
        assertEquals("4cddb1589083bcf4", java.util.HexFormat.of().formatHex(EnvelopeCodec.hash(e)).substring(0, 16));
    }

    @Test
    void everyTruncationIsRejected() {
        byte[] bytes = EnvelopeCodec.encode(envelope("a", 3, EnvelopeCodec.zeroHash(), "hello"));
        for (int len = 0; len < bytes.length; len++) {
            byte[] cut = Arrays.copyOf(bytes, len);
            assertThrows(IllegalArgumentException.class, () -> EnvelopeCodec.decode(cut), "length " + len);
        }
    }

    @Test
    void wrongMagicIsRejected() {
        byte[] bytes = EnvelopeCodec.encode(envelope("a", 1, EnvelopeCodec.zeroHash(), "x"));
        bytes[0] = 'X';
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> EnvelopeCodec.decode(bytes));
        assertTrue(ex.getMessage().contains("magic"), ex.getMessage());
    }

    @Test
    void unknownVersionIsRejected() {
        byte[] bytes = EnvelopeCodec.encode(envelope("a", 1, EnvelopeCodec.zeroHash(), "x"));
        bytes[4] = 9;
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> EnvelopeCodec.decode(bytes));
        assertTrue(ex.getMessage().contains("version 9"), ex.getMessage());
    }

    @Test
    void absurdLengthIsRejectedWithoutAllocating() {
        byte[] bytes = EnvelopeCodec.encode(envelope("a", 1, EnvelopeCodec.zeroHash(), "x"));
        // payload length field sits after magic(4) version(1) origin(2+1) seq(8) hash(32) type(2+4)
        int at = 4 + 1 + 3 + 8 + 32 + 6;
        ByteBuffer.wrap(bytes).putInt(at, Integer.MAX_VALUE);
        assertThrows(IllegalArgumentException.class, () -> EnvelopeCodec.decode(bytes));
        ByteBuffer.wrap(bytes).putInt(at, 1_000_000);
        assertThrows(IllegalArgumentException.class, () -> EnvelopeCodec.decode(bytes));
        ByteBuffer.wrap(bytes).putInt(at, -5);
        assertThrows(IllegalArgumentException.class, () -> EnvelopeCodec.decode(bytes));
    }

    @Test
    void trailingGarbageIsRejected() {
        byte[] bytes = EnvelopeCodec.encode(envelope("a", 1, EnvelopeCodec.zeroHash(), "x"));
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 3);
        assertThrows(IllegalArgumentException.class, () -> EnvelopeCodec.decode(longer));
    }

    @Test
    void zeroSeqIsRejected() {
        byte[] bytes = EnvelopeCodec.encode(envelope("a", 1, EnvelopeCodec.zeroHash(), "x"));
        ByteBuffer.wrap(bytes).putLong(4 + 1 + 3, 0);
        assertThrows(IllegalArgumentException.class, () -> EnvelopeCodec.decode(bytes));
    }
}
