package org.activemirroring.sample.account;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

class FlatJsonTest {
    @Test
    void readsStringsNumbersBooleansAndNull() {
        Map<String, String> m = FlatJson.parseObject(
                " {\"id\":\"7\", \"n\": 12.5e1, \"ok\":true, \"gone\":null, \"s\":\"a\\\"b\\\\c\\u00e9\\n\"} ");
        assertEquals("7", m.get("id"));
        assertEquals("12.5e1", m.get("n"));
        assertEquals("true", m.get("ok"));
        assertTrue(m.containsKey("gone"));
        assertNull(m.get("gone"));
        assertEquals("a\"b\\c\u00e9\n", m.get("s"));
        assertTrue(FlatJson.parseObject("{}").isEmpty());
    }

    @Test
    void refusesWhatIsNotAFlatObjectAndKeepsTheTextOutOfTheMessage() {
        for (String bad : new String[] {"", "[]", "{\"a\":{}}", "{\"a\":[1]}", "{\"a\":1", "{\"a\" 1}", "{\"a\":tru}",
                "{\"a\":1} x", "{\"a\":\"\\q\"}", "{\"secret\":\"\\u12\"}"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FlatJson.parseObject(bad), bad);
            assertTrue(e.getMessage().startsWith("Not a flat JSON object at character"), e.getMessage());
            assertFalse(e.getMessage().contains("secret"), e.getMessage());
        }
    }
}
