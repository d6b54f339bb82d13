package org.activemirroring.files.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.activemirroring.files.FolderEntry;
import org.junit.jupiter.api.Test;

class ConflictRuleTest {
    static final String SHA_A = "a".repeat(64);
    static final String SHA_B = "b".repeat(64);

    static FolderEntry live(String sha, long mtime, String by) {
        return new FolderEntry("p/x.jpg", 10, mtime, null, null, sha, List.of(), Map.of(by, 1L), false, by);
    }

    @Test
    void theSameWinnerWhateverTheOrder() {
        FolderEntry older = live(SHA_A, 1000, "m2");
        FolderEntry newer = live(SHA_B, 2000, "m1");
        assertSame(newer, ConflictRule.winner(older, newer));
        assertSame(newer, ConflictRule.winner(newer, older));
        FolderEntry tieM1 = live(SHA_A, 1000, "m1");
        FolderEntry tieM2 = live(SHA_B, 1000, "m2");
        assertSame(tieM2, ConflictRule.winner(tieM1, tieM2), "then the higher mirror id");
        assertSame(tieM2, ConflictRule.winner(tieM2, tieM1));
        FolderEntry sameMirrorA = live(SHA_A, 1000, "m1");
        FolderEntry sameMirrorB = live(SHA_B, 1000, "m1");
        assertSame(sameMirrorB, ConflictRule.winner(sameMirrorA, sameMirrorB), "then the higher hash");
    }

    @Test
    void anEditBeatsADeleteEvenAnOlderOne() {
        FolderEntry edit = live(SHA_A, 1000, "m1");
        FolderEntry delete = edit.toTombstone(9000).bumped("m2");
        assertSame(edit, ConflictRule.winner(edit, delete));
        assertSame(edit, ConflictRule.winner(delete, edit));
    }

    @Test
    void conflictCopiesAreNamedLikeSyncthingsAndFitANameLimit() {
        // 2026-12-06 10:11:12 UTC
        long t = java.time.Instant.parse("2026-12-06T10:11:12Z").toEpochMilli();
        assertEquals("pics/cat.sync-conflict-20261206-101112-m2.jpg", ConflictRule.conflictPath("pics/cat.jpg", t, "m2"));
        assertEquals("README.sync-conflict-20261206-101112-m2", ConflictRule.conflictPath("README", t, "m2"));
        assertEquals(".hidden.sync-conflict-20261206-101112-m2", ConflictRule.conflictPath(".hidden", t, "m2"));
        assertEquals("a.tar.sync-conflict-20261206-101112-m2.gz", ConflictRule.conflictPath("a.tar.gz", t, "m2"));
        String longName = "é".repeat(120) + ".png";
        String copy = ConflictRule.conflictPath(longName, t, "m2");
        assertTrue(copy.getBytes(StandardCharsets.UTF_8).length <= 255, copy);
        assertTrue(copy.endsWith(".sync-conflict-20261206-101112-m2.png"), copy);
    }

    @Test
    void vectorsCompareAndMerge() {
        assertEquals(VersionVectors.Order.EQUAL, VersionVectors.compare(Map.of("a", 1L), Map.of("a", 1L)));
        assertEquals(VersionVectors.Order.AFTER, VersionVectors.compare(Map.of("a", 2L), Map.of("a", 1L)));
        assertEquals(VersionVectors.Order.BEFORE, VersionVectors.compare(Map.of("a", 1L), Map.of("a", 1L, "b", 1L)));
        assertEquals(VersionVectors.Order.CONCURRENT, VersionVectors.compare(Map.of("a", 2L), Map.of("a", 1L, "b", 1L)));
        assertEquals(Map.of("a", 2L, "b", 1L), VersionVectors.merge(Map.of("a", 2L), Map.of("a", 1L, "b", 1L)));
        assertEquals(VersionVectors.Order.EQUAL, VersionVectors.compare(Map.of(), Map.of()));
    }
}
