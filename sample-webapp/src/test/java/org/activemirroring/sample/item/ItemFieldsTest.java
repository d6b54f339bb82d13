package org.activemirroring.sample.item;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

class ItemFieldsTest {
    @Test
    void aCompleteItemIsValidAndStripped() {
        ItemFields f = new ItemFields("  Loom weight ", "Clay, pierced.", "", null);
        assertTrue(f.validate().isEmpty());
        assertEquals("Loom weight", f.title());
        assertEquals("", f.period());
    }

    @Test
    void eachProblemIsNamedOnItsField() {
        Map<String, String> e = new ItemFields(" ", "", "p".repeat(Item.MAX_PLACE + 1), "x").validate().asMap();
        assertEquals("Title is required.", e.get("title"));
        assertEquals("Description is required.", e.get("description"));
        assertEquals("Place is too long: 201 characters, at most 200.", e.get("place"));
        assertEquals(3, e.size(), e.toString());
        Map<String, String> tooLong = new ItemFields("t".repeat(Item.MAX_TITLE + 1), "d", "", "y".repeat(101))
                .validate().asMap();
        assertTrue(tooLong.get("title").contains("at most 200"));
        assertTrue(tooLong.get("period").contains("at most 100"));
    }
}
