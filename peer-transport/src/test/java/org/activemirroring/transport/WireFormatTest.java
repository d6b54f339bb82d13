package org.activemirroring.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class WireFormatTest {

    @Test
    void internalBodiesRoundTrip() {
        Map<String, Long> heads = Map.of("a", 3L, "b", 7L);
        assertEquals(heads, WireFormat.decodeHeads(WireFormat.heads(heads)));
        assertEquals(new WireFormat.Fetch("a", 5, 100), WireFormat.decodeFetch(WireFormat.fetch("a", 5, 100)));
        List<Envelope> chain = JournalTest.chain("a", 3);
        assertEquals(chain, WireFormat.decodeEnvelopes(WireFormat.envelopes(chain)));
        byte[] req = WireFormat.requestMessage("k", new byte[] {1, 2});
        WireFormat.Request r = WireFormat.decodeRequest(req, 0, req.length);
        assertEquals("k", r.kind());
        assertEquals(2, r.body().length);
    }

    @Test
    void corruptBodiesAreRejected() {
        byte[] heads = WireFormat.heads(Map.of("a", 3L));
        assertThrows(IllegalArgumentException.class, () -> WireFormat.decodeHeads(Arrays.copyOf(heads, 5)));
        assertThrows(IllegalArgumentException.class, () -> WireFormat.decodeHeads(new byte[] {0x7f, 0, 0, 0}));
        byte[] list = WireFormat.envelopes(JournalTest.chain("a", 2));
        assertThrows(IllegalArgumentException.class, () -> WireFormat.decodeEnvelopes(Arrays.copyOf(list, list.length - 1)));
        assertThrows(IllegalArgumentException.class, () -> WireFormat.decodeEnvelopes(new byte[] {0x7f, 0, 0, 0}));
        assertThrows(IllegalArgumentException.class, () -> WireFormat.decodeFetch(WireFormat.fetch("a", 0, 1)));
        assertThrows(IllegalArgumentException.class, () -> WireFormat.decodeRequest(new byte[] {2, 0}, 0, 2));
    }
}
