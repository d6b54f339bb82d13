package org.activemirroring.change;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class RowValuesTest {
    @Test
    void behavesAsAnOrderedMapWithNullValues() {
        RowValues row = new RowValues.Builder(new HashMap<>()).put("id", "7").put("name", null).put("city", "Oslo").build("t");
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("id", "7");
        expected.put("name", null);
        expected.put("city", "Oslo");
        assertEquals(expected, row);
        assertEquals(expected.hashCode(), row.hashCode());
        assertEquals(List.of("id", "name", "city"), new ArrayList<>(row.keySet()));
        assertEquals("7", row.get("id"));
        assertNull(row.get("name"));
        assertTrue(row.containsKey("name"));
        assertFalse(row.containsKey("zip"));
        assertNull(row.get("zip"));
        List<String> seen = new ArrayList<>();
        row.forEach((k, v) -> seen.add(k + "=" + v));
        assertEquals(List.of("id=7", "name=null", "city=Oslo"), seen);
        assertThrows(UnsupportedOperationException.class, () -> row.put("zip", "1"));
    }

    @Test
    void rowsWithTheSameColumnsShareTheirNames() throws Exception {
        RowValues.Builder b = new RowValues.Builder(new HashMap<>());
        RowValues first = b.put("id", "1").put("v", "a").build("t");
        RowValues second = b.put("id", "2").put("v", "b").build("t");
        RowValues other = b.put("id", "3").build("t");
        var columns = RowValues.class.getDeclaredField("columns");
        columns.setAccessible(true);
        assertSame(columns.get(first), columns.get(second));
        assertEquals(Map.of("id", "2", "v", "b"), second);
        assertEquals(Map.of("id", "3"), other);
        assertEquals(Map.of("id", "1", "v", "a"), first, "building later rows does not change earlier ones");
    }

    @Test
    void wideRowsFindEveryColumn() {
        RowValues.Builder b = new RowValues.Builder(new HashMap<>());
        for (int i = 0; i < 40; i++) {
            b.put("c" + i, Integer.toString(i));
        }
        RowValues row = b.build("wide");
        for (int i = 0; i < 40; i++) {
            assertEquals(Integer.toString(i), row.get("c" + i));
        }
        assertNull(row.get("c40"));
        assertEquals(40, row.size());
    }

    @Test
    void aColumnTwiceIsRefused() {
        RowValues.Builder b = new RowValues.Builder(new HashMap<>()).put("id", "1").put("id", "2");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.build("t"));
        assertTrue(e.getMessage().contains("'id' appears twice"), e.getMessage());
    }
}
