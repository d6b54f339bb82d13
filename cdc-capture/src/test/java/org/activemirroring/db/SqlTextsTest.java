package org.activemirroring.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

class SqlTextsTest {

    @Test
    void equalSequencesGetTheSameTextBuiltOnce() {
        String a = SqlTexts.join(new ArrayList<>(List.of("SELECT 1", "SELECT " + 2, "COMMIT")));
        String b = SqlTexts.join(List.of("SELECT 1", "SELECT 2", "COMMIT"));
        assertEquals("SELECT 1; SELECT 2; COMMIT", a);
        assertSame(a, b, "the driver finds its prepared statement by this text: the same instance hashes once");
        assertEquals("SELECT 1", SqlTexts.join(List.of("SELECT 1")));
        assertNotSame(a, SqlTexts.join(List.of("SELECT 1", "SELECT 2")));
    }

    @Test
    void perKeyTextsAreBuiltOnceAndTheCacheStaysBounded() {
        AtomicInteger built = new AtomicInteger();
        SqlTexts.PerKey<Integer> texts = new SqlTexts.PerKey<>(k -> {
            built.incrementAndGet();
            return "SELECT " + k;
        });
        assertEquals("SELECT 7", texts.get(7));
        assertSame(texts.get(7), texts.get(7));
        assertEquals(1, built.get());
        for (int k = 0; k < SqlTexts.MAX_ENTRIES + 10; k++) {
            assertEquals("SELECT " + k, texts.get(k));
        }
        int before = built.get();
        texts.get(7); // dropped when the cache started over past its bound: built again
        assertEquals(before + 1, built.get());
    }
}
