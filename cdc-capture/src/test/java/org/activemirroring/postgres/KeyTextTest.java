package org.activemirroring.postgres;
import org.activemirroring.db.RowJson;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * Row identities are stored as text (mirror.row_version.pk, the conflict log, join bookkeeping):
 * {@link PostgresVersionStore#keyText} must render every key exactly as Jackson renders the list
 * of its values, which is how keys were always written.
 */
class KeyTextTest {
    private static final ObjectMapper JACKSON = new ObjectMapper();

    private static void assertSameAsJackson(Map<String, String> key) throws Exception {
        assertEquals(JACKSON.writeValueAsString(new ArrayList<>(key.values())), RowJson.keyText(key),
                () -> "key " + key);
    }

    private static Map<String, String> key(String... values) {
        Map<String, String> k = new LinkedHashMap<>();
        for (int i = 0; i < values.length; i++) {
            k.put("c" + i, values[i]);
        }
        return k;
    }

    @Test
    void everyCharacterAloneAndAmongOthers() throws Exception {
        for (int c = 0; c <= 0xFFFF; c++) {
            String ch = String.valueOf((char) c);
            assertSameAsJackson(key(ch));
            assertSameAsJackson(key("a" + ch + "b", ch + ch));
        }
    }

    @Test
    void nullsEmptiesAndSupplementaryCharacters() throws Exception {
        assertSameAsJackson(key());
        assertSameAsJackson(key((String) null));
        assertSameAsJackson(key("", null, "7"));
        assertSameAsJackson(key("\uD83D\uDE00 smile", "tab\there", "quote\" back\\slash", "\u0000\u001f\u007f"));
        assertEquals("[\"7\",null,\"a\\\"b\"]", RowJson.keyText(key("7", null, "a\"b")));
    }

    @Test
    void randomKeys() throws Exception {
        Random r = new Random(20261122);
        for (int n = 0; n < 20_000; n++) {
            String[] values = new String[1 + r.nextInt(3)];
            for (int i = 0; i < values.length; i++) {
                char[] cs = new char[r.nextInt(12)];
                for (int j = 0; j < cs.length; j++) {
                    cs[j] = (char) (r.nextBoolean() ? r.nextInt(0x80) : r.nextInt(0x10000));
                }
                values[i] = r.nextInt(20) == 0 ? null : new String(cs);
            }
            assertSameAsJackson(key(values));
        }
    }
}
