package org.activemirroring.change;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.transport.Envelope;
import org.junit.jupiter.api.Test;

class ChangeSetCodecTest {

    private final ChangeSetCodec codec = new ChangeSetCodec();

    private static Envelope envelope(byte[] payload) {
        return new Envelope(Envelope.FORMAT_VERSION, "node-a", 42, new byte[Envelope.HASH_LENGTH],
                ChangeSet.PAYLOAD_TYPE, payload, new byte[0]);
    }

    private static ChangeSet sample(String bigValue) {
        Map<String, String> after = new LinkedHashMap<>();
        after.put("id", "7");
        after.put("name", "Zoë ☃ 😀 \"quoted\" \\ \n tab\t");
        after.put("nothing", null);
        after.put("big", bigValue);
        Map<String, String> before = new HashMap<>();
        before.put("id", "7");
        before.put("name", null);
        RowChange insert = new RowChange("public.item", RowChange.Op.INSERT, Map.of("id", "7"), after, null, List.of());
        RowChange update = new RowChange("public.item", RowChange.Op.UPDATE, Map.of("id", "7"),
                Map.of("id", "7", "name", "x"), before, List.of("big", "doc"), new RowVersion(99L << 16, "node-b"));
        RowChange delete = new RowChange("shop.tag", RowChange.Op.DELETE, new LinkedHashMap<>(Map.of("a", "1", "b", "x")),
                null, null, null, RowVersion.NONE);
        return new ChangeSet("ignored", 0, 123456789012L, 1714558530123L, 1714558530130L, 777L << 16,
                Map.of("node-b", 12L, "node-c", 3L), List.of(insert, update, delete));
    }

    @Test
    void roundTripTakesOriginAndSeqFromTheEnvelope() {
        ChangeSet cs = sample("v");
        ChangeSet back = codec.decode(envelope(codec.encode(cs)));
        assertEquals(cs.withEnvelope("node-a", 42), back);
        assertNull(back.rows().get(0).after().get("nothing"));
        assertTrue(back.rows().get(0).after().containsKey("nothing"), "a null value is kept, not dropped");
        assertEquals(List.of("big", "doc"), back.rows().get(1).unchanged());
        assertNull(back.rows().get(0).prev(), "unknown previous version stays unknown");
        assertEquals(new RowVersion(99L << 16, "node-b"), back.rows().get(1).prev());
        assertEquals(RowVersion.NONE, back.rows().get(2).prev());
        assertEquals(Map.of("node-b", 12L, "node-c", 3L), back.deps());
        assertEquals(new RowVersion(777L << 16, "node-a"), back.version());
        assertEquals(List.of("id", "name", "nothing", "big"), List.copyOf(back.rows().get(0).after().keySet()),
                "column order is kept");
    }

    @Test
    void readsTheTransactionIdAlone() {
        assertEquals(123456789012L, codec.sourceTxId(codec.encode(sample("v"))));
        assertThrows(ChangeSetFormatException.class, () -> codec.sourceTxId("{\"v\":1}".getBytes(StandardCharsets.UTF_8)));
        assertThrows(ChangeSetFormatException.class, () -> codec.sourceTxId("[".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void largeValues() {
        char[] chars = new char[25_000_000];
        Arrays.fill(chars, 'x');
        String big = new String(chars);
        ChangeSet back = codec.decode(envelope(codec.encode(sample(big))));
        assertEquals(big, back.rows().get(0).after().get("big"));
    }

    @Test
    void truncatesTravelInPlaceAmongTheRows() {
        RowChange insert = new RowChange("public.item", RowChange.Op.INSERT, Map.of("id", "1"), Map.of("id", "1"),
                null, List.of());
        ChangeSet cs = new ChangeSet("ignored", 0, 5, 1, 2, 3L << 16, Map.of(),
                List.of(RowChange.truncate("public.item"), RowChange.truncate("public.tag"), insert));
        byte[] payload = codec.encode(cs);
        assertTrue(new String(payload, StandardCharsets.UTF_8).contains("{\"t\":\"public.item\",\"o\":\"t\",\"k\":{}"),
                new String(payload, StandardCharsets.UTF_8));
        ChangeSet back = codec.decode(envelope(payload));
        assertEquals(cs.withEnvelope("node-a", 42), back);
        assertEquals(RowChange.Op.TRUNCATE, back.rows().get(1).op());
        assertTrue(back.rows().get(0).key().isEmpty());
        assertNull(back.rows().get(0).after());
    }

    @Test
    void payloadsWrittenBeforeTruncatesExistedStillDecode() {
        // A ChangeSet as journals written before truncates were mirrored hold it.
        String old = "{\"v\":1,\"tx\":7,\"ct\":1,\"at\":2,\"h\":65536,\"r\":[{\"t\":\"s.t\",\"o\":\"c\","
                + "\"k\":{\"id\":\"1\"},\"a\":{\"id\":\"1\",\"n\":\"x\"}},{\"t\":\"s.t\",\"o\":\"d\",\"k\":{\"id\":\"2\"},"
                + "\"p\":[65535,\"node-b\"]}]}";
        ChangeSet back = codec.decode(envelope(old.getBytes(StandardCharsets.UTF_8)));
        assertEquals(List.of(RowChange.Op.INSERT, RowChange.Op.DELETE), back.rows().stream().map(RowChange::op).toList());
        assertEquals(new RowVersion(65535, "node-b"), back.rows().get(1).prev());
        assertEquals(7, back.sourceTxId());
    }

    @Test
    void aTruncateCarriesNoKeyAndNoImage() {
        assertMessage("carries no key", "{\"v\":1,\"tx\":1,\"ct\":1,\"at\":1,\"r\":[{\"t\":\"s.t\",\"o\":\"t\",\"k\":{\"id\":\"1\"}}]}");
        assertThrows(IllegalArgumentException.class, () -> new RowChange("s.t", RowChange.Op.TRUNCATE, Map.of(),
                Map.of("id", "1"), null, List.of()));
    }

    @Test
    void payloadIsCompactJsonWithAVersion() {
        String json = new String(codec.encode(sample("v")), StandardCharsets.UTF_8);
        assertTrue(json.startsWith("{\"v\":1,\"tx\":123456789012,"), json);
        assertTrue(!json.contains("ignored"), "origin is not in the payload");
    }

    @Test
    void corruptInputIsRefusedWithTheReason() {
        assertMessage("not valid JSON", "{\"v\":1,");
        assertMessage("not a JSON object", "[1,2]");
        assertMessage("version 9", "{\"v\":9,\"tx\":1,\"ct\":1,\"at\":1,\"r\":[]}");
        assertMessage("'tx'", "{\"v\":1,\"ct\":1,\"at\":1,\"r\":[]}");
        assertMessage("non-empty array", "{\"v\":1,\"tx\":1,\"ct\":1,\"at\":1,\"h\":1,\"r\":[]}");
        assertMessage("'h'", "{\"v\":1,\"tx\":1,\"ct\":1,\"at\":1,\"r\":[{\"t\":\"s.t\",\"o\":\"d\",\"k\":{\"id\":\"1\"}}]}");
        assertMessage("previous version", "{\"v\":1,\"tx\":1,\"ct\":1,\"at\":1,\"h\":1,\"r\":[{\"t\":\"s.t\",\"o\":\"d\",\"k\":{\"id\":\"1\"},\"p\":[\"x\"]}]}");
        assertMessage("unknown row operation 'x'", "{\"v\":1,\"tx\":1,\"ct\":1,\"at\":1,\"r\":[{\"t\":\"s.t\",\"o\":\"x\",\"k\":{\"id\":\"1\"}}]}");
        assertMessage("has no key", "{\"v\":1,\"tx\":1,\"ct\":1,\"at\":1,\"r\":[{\"t\":\"s.t\",\"o\":\"d\",\"k\":{}}]}");
        assertMessage("no after-image", "{\"v\":1,\"tx\":1,\"ct\":1,\"at\":1,\"r\":[{\"t\":\"s.t\",\"o\":\"c\",\"k\":{\"id\":\"1\"}}]}");
        assertMessage("column 'id'", "{\"v\":1,\"tx\":1,\"ct\":1,\"at\":1,\"r\":[{\"t\":\"s.t\",\"o\":\"d\",\"k\":{\"id\":1}}]}");
        assertMessage("column 'id' appears twice",
                "{\"v\":1,\"tx\":1,\"ct\":1,\"at\":1,\"h\":1,\"r\":[{\"t\":\"s.t\",\"o\":\"d\",\"k\":{\"id\":\"1\",\"id\":\"2\"}}]}");
        assertMessage("payload type", null);
        // Where in the ChangeSet: the row's index, and its table once that was read.
        assertMessage("row 1 is not a JSON object", "{\"v\":1,\"tx\":1,\"ct\":1,\"at\":1,\"r\":["
                + "{\"t\":\"s.t\",\"o\":\"d\",\"k\":{\"id\":\"1\"}},7]}");
        assertMessage("row 0 (s.t): field 'o' must be a string, was missing",
                "{\"v\":1,\"tx\":1,\"ct\":1,\"at\":1,\"r\":[{\"t\":\"s.t\",\"k\":{\"id\":\"1\"}}]}");
        assertMessage("row 0 (s.t): field 'p' (previous version) must be [clock, origin]",
                "{\"v\":1,\"tx\":1,\"ct\":1,\"at\":1,\"r\":[{\"t\":\"s.t\",\"o\":\"d\",\"p\":[\"x\"],"
                        + "\"k\":{\"id\":\"1\"}}]}");
        assertMessage("row 0: field 'o' must be a string, was 5",
                "{\"v\":1,\"tx\":1,\"ct\":1,\"at\":1,\"r\":[{\"o\":5,\"t\":\"s.t\",\"k\":{\"id\":\"1\"}}]}");
    }

    private void assertMessage(String expected, String json) {
        Envelope e = json == null
                ? new Envelope(Envelope.FORMAT_VERSION, "node-a", 42, new byte[Envelope.HASH_LENGTH], "other/1",
                        new byte[0], new byte[0])
                : envelope(json.getBytes(StandardCharsets.UTF_8));
        ChangeSetFormatException ex = assertThrows(ChangeSetFormatException.class, () -> codec.decode(e));
        assertTrue(ex.getMessage().contains(expected), "'" + ex.getMessage() + "' should mention " + expected);
        assertTrue(ex.getMessage().contains("node-a#42"), ex.getMessage());
    }
}
