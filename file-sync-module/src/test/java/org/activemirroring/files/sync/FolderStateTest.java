package org.activemirroring.files.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;

import org.activemirroring.files.FolderEntry;
import org.activemirroring.files.FolderIndex;
import org.activemirroring.files.transfer.BlockMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The merge decisions of one folder, on a real folder and index files. */
class FolderStateTest {
    @TempDir
    Path tmp;
    Path root;
    FolderState state;

    @BeforeEach
    void open() throws Exception {
        root = Files.createDirectories(tmp.resolve("u"));
        state = new FolderState("u", root, "me", FolderIndex.load(tmp.resolve("u.index")),
                FolderIndex.load(tmp.resolve("u.wanted")),
                org.activemirroring.files.FolderSiblings.load(tmp.resolve("u.siblings")), new BlockMap());
    }

    /** Writes a file here and records it as a local change, as a scan does. */
    FolderEntry writeLocal(String path, String content, long mtime) throws Exception {
        Path f = root.resolve(path);
        Files.createDirectories(f.getParent());
        Files.writeString(f, content, StandardCharsets.UTF_8);
        Files.setLastModifiedTime(f, FileTime.fromMillis(mtime));
        ContentDigest.Digest d = ContentDigest.of(f);
        FolderState.Stat s = FolderState.stat(f);
        FolderEntry found = new FolderEntry(path, s.size(), s.mtimeMs(), null, s.fileKey(), d.sha256Hex(), d.blocks(),
                Map.of(), false);
        return state.recordLocal(found, path, 0);
    }

    static FolderEntry remote(FolderEntry base, String sha, long mtime, String by, Map<String, Long> versions) {
        return new FolderEntry(base.path(), 5, mtime, null, null, sha, List.of(), versions, false, by);
    }

    @Test
    void aLocalChangeIsPublishedOnceAndAFileThisMirrorWroteIsNot() throws Exception {
        FolderEntry mine = writeLocal("a.txt", "hello", 1000);
        assertEquals(Map.of("me", 1L), mine.versions());
        assertEquals("me", mine.modifiedBy());
        FolderState.Stat s = FolderState.stat(root.resolve("a.txt"));
        FolderEntry again = new FolderEntry("a.txt", s.size(), s.mtimeMs(), null, s.fileKey(), mine.sha256Hex(),
                mine.blocks(), Map.of(), false);
        assertNull(state.recordLocal(again, "a.txt", 0), "the same file seen twice is not a change");
    }

    @Test
    void olderAndEqualVersionsAreIgnoredNewerOnesWanted() throws Exception {
        FolderEntry mine = writeLocal("a.txt", "hello", 1000);
        assertEquals(FolderState.Outcome.IGNORED, state.offer(mine.withModifiedBy("me")));
        FolderEntry newer = remote(mine, "c".repeat(64), 2000, "m2", Map.of("me", 1L, "m2", 1L));
        assertEquals(FolderState.Outcome.WANTED, state.offer(newer));
        assertEquals(FolderState.Outcome.IGNORED, state.offer(newer), "offered twice changes nothing");
        assertEquals(1, state.wantedCount());
    }

    @Test
    void theSameContentFromElsewhereTransfersNothingAndTheNextEditHasSeenBoth() throws Exception {
        FolderEntry mine = writeLocal("a.txt", "hello", 1000);
        FolderEntry same = new FolderEntry("a.txt", mine.size(), 5000, null, null, mine.sha256Hex(), mine.blocks(),
                Map.of("m2", 1L), false, "m2");
        assertEquals(FolderState.Outcome.MERGED, state.offer(same));
        assertEquals(Map.of("m2", 1L), state.local("a.txt").versions(), "the winner keeps its own vector");
        assertEquals(1, state.siblingCount(), "the other version stays, as a sibling");
        assertEquals(0, state.wantedCount());
        Files.writeString(root.resolve("a.txt"), "edited");
        Files.setLastModifiedTime(root.resolve("a.txt"), FileTime.fromMillis(7000));
        assertEquals(Map.of("me", 2L, "m2", 1L), state.recordLocal(scanned("a.txt"), "a.txt", 0).versions());
        assertEquals(0, state.siblingCount(), "an edit that saw every version supersedes them all");
    }

    @Test
    void aConcurrentWinnerFromElsewhereKeepsTheLocalLoserAsAConflictCopy() throws Exception {
        FolderEntry mine = writeLocal("d/a.txt", "mine", 1000);
        FolderEntry theirs = remote(mine, "c".repeat(64), 2000, "m2", Map.of("m2", 1L));
        assertEquals(FolderState.Outcome.WANTED, state.offer(theirs));
        assertEquals(Map.of("m2", 1L), state.wanted("d/a.txt").versions());
        assertEquals(1, state.siblingCount());
        Path copy = root.resolve(ConflictRule.conflictPath("d/a.txt", 1000, "me"));
        assertTrue(Files.exists(copy), "the loser is kept");
        assertEquals("mine", Files.readString(copy));
        assertFalse(Files.exists(root.resolve("d/a.txt")));
        // Offered again (after a restart): no second copy.
        assertEquals(FolderState.Outcome.IGNORED, state.offer(theirs));
        try (var files = Files.list(root.resolve("d"))) {
            assertEquals(1, files.count());
        }
        // The scan does not turn the renamed file into a delete while the winner is on its way.
        assertNull(state.recordLocal(null, "d/a.txt", 3000));
    }

    @Test
    void aConcurrentLoserFromElsewhereIsKeptByItsOwnMirrorNotHere() throws Exception {
        FolderEntry mine = writeLocal("a.txt", "mine", 5000);
        FolderEntry theirs = remote(mine, "c".repeat(64), 2000, "m2", Map.of("m2", 1L));
        assertEquals(FolderState.Outcome.KEPT_LOCAL, state.offer(theirs));
        assertEquals(Map.of("me", 1L), state.local("a.txt").versions());
        assertEquals(1, state.siblingCount());
        assertEquals("mine", Files.readString(root.resolve("a.txt")));
        try (var files = Files.list(root)) {
            assertEquals(1, files.count(), "no conflict copy here");
        }
    }

    @Test
    void aDeleteConcurrentWithALocalEditLosesAndADominatingDeleteDeletes() throws Exception {
        FolderEntry mine = writeLocal("a.txt", "mine", 1000);
        FolderEntry concurrentDelete = mine.withVersions(Map.of("m2", 1L)).toTombstone(9000).bumped("m2");
        assertEquals(FolderState.Outcome.KEPT_LOCAL, state.offer(concurrentDelete));
        assertTrue(Files.exists(root.resolve("a.txt")));
        FolderEntry delete = state.local("a.txt").toTombstone(9500).bumped("m2");
        assertEquals(FolderState.Outcome.WANTED, state.offer(delete));
        assertTrue(state.commitWanted(state.wanted("a.txt"), () -> null));
        assertFalse(Files.exists(root.resolve("a.txt")));
        assertTrue(state.local("a.txt").tombstone());
    }

    @Test
    void anEditNotScannedYetIsDecidedByTheRuleBeforeAnythingIsWritten() throws Exception {
        FolderEntry mine = writeLocal("a.txt", "v1", 1000);
        FolderEntry newer = remote(mine, "c".repeat(64), 2000, "m2", Map.of("me", 1L, "m2", 1L));
        state.offer(newer);
        Files.writeString(root.resolve("a.txt"), "edited here meanwhile, later");
        Files.setLastModifiedTime(root.resolve("a.txt"), FileTime.fromMillis(3000));
        assertThrows(FolderState.UnscannedEditException.class, () -> state.commitWanted(state.wanted("a.txt"), () -> {
            throw new AssertionError("nothing is written over an edit no scan has seen");
        }));
        // The scan sees the edit: it is newer than the wanted version, so it wins, as on every mirror.
        FolderEntry edit = scanned("a.txt");
        // Published without m2's counter: m2 must see it as concurrent to keep its own version as a copy.
        assertEquals(Map.of("me", 2L), state.recordLocal(edit, "a.txt", 0).versions());
        assertEquals(Map.of("me", 2L), state.local("a.txt").versions());
        assertEquals(1, state.siblingCount(), "the version it beat stays a sibling");
        assertNull(state.wanted("a.txt"));
        assertEquals("edited here meanwhile, later", Files.readString(root.resolve("a.txt")));

        // An older unscanned edit loses to the wanted version and is kept as a conflict copy.
        FolderEntry newest = remote(state.local("a.txt"), "d".repeat(64), 9000, "m2", Map.of("me", 2L, "m2", 2L));
        state.offer(newest);
        Files.writeString(root.resolve("a.txt"), "older edit");
        Files.setLastModifiedTime(root.resolve("a.txt"), FileTime.fromMillis(4000));
        state.recordLocal(scanned("a.txt"), "a.txt", 0);
        assertEquals("older edit", Files.readString(root.resolve(ConflictRule.conflictPath("a.txt", 4000, "me"))));
        assertTrue(state.commitWanted(state.wanted("a.txt"), () -> {
            Files.writeString(root.resolve("a.txt"), "theirs");
            return FolderState.stat(root.resolve("a.txt"));
        }));
        assertEquals("theirs", Files.readString(root.resolve("a.txt")));
    }

    @Test
    void twoLosersOfOneMirrorInOneSecondAreBothKept() throws Exception {
        FolderEntry first = writeLocal("a.txt", "first loser", 1000);
        state.offer(remote(first, "c".repeat(64), 5000, "m2", Map.of("m2", 1L)));
        // The winner was written; then another local version of the same second loses too.
        state.commitWanted(state.wanted("a.txt"), () -> {
            Files.writeString(root.resolve("a.txt"), "w");
            return FolderState.stat(root.resolve("a.txt"));
        });
        Files.writeString(root.resolve("a.txt"), "second loser");
        Files.setLastModifiedTime(root.resolve("a.txt"), FileTime.fromMillis(1400));
        FolderEntry second = state.recordLocal(scanned("a.txt"), "a.txt", 0);
        state.offer(remote(second, "e".repeat(64), 6000, "m3", Map.of("m2", 1L, "m3", 1L)));
        List<String> kept = new java.util.ArrayList<>();
        try (var files = Files.list(root)) {
            files.map(p -> p.getFileName().toString()).filter(n -> n.contains(ConflictRule.MARK)).forEach(kept::add);
        }
        assertEquals(2, kept.size(), kept.toString());
        java.util.Set<String> contents = new java.util.HashSet<>();
        for (String k : kept) {
            contents.add(Files.readString(root.resolve(k)));
        }
        assertEquals(java.util.Set.of("first loser", "second loser"), contents);
    }

    FolderEntry scanned(String path) throws Exception {
        Path f = root.resolve(path);
        ContentDigest.Digest d = ContentDigest.of(f);
        FolderState.Stat s = FolderState.stat(f);
        return new FolderEntry(path, s.size(), s.mtimeMs(), null, s.fileKey(), d.sha256Hex(), d.blocks(), Map.of(), false);
    }

    @Test
    void theIndexAndWantedEntriesSurviveASave() throws Exception {
        FolderEntry mine = writeLocal("a.txt", "v1", 1000);
        state.offer(remote(mine, "c".repeat(64), 2000, "m2", Map.of("me", 1L, "m2", 1L)));
        state.save();
        FolderState again = new FolderState("u", root, "me", FolderIndex.load(tmp.resolve("u.index")),
                FolderIndex.load(tmp.resolve("u.wanted")),
                org.activemirroring.files.FolderSiblings.load(tmp.resolve("u.siblings")), new BlockMap());
        assertEquals(state.local("a.txt"), again.local("a.txt"));
        assertEquals(state.wanted("a.txt"), again.wanted("a.txt"));
        assertEquals("m2", again.wanted("a.txt").modifiedBy());
    }

    /** A folder state of mirror {@code self} in a directory of its own. */
    FolderState stateOf(String self) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("of-" + self));
        Path r = Files.createDirectories(dir.resolve("u"));
        return new FolderState("u", r, self, FolderIndex.load(dir.resolve("u.index")),
                FolderIndex.load(dir.resolve("u.wanted")),
                org.activemirroring.files.FolderSiblings.load(dir.resolve("u.siblings")), new BlockMap());
    }

    static FolderEntry version(String content, long mtime, String by, Map<String, Long> versions, boolean tomb) {
        String sha = tomb ? null : ContentDigestTestSha.of(content);
        return new FolderEntry("a.txt", tomb ? 0 : content.length(), mtime, null, null, sha, List.of(), versions,
                tomb, by);
    }

    /** What a mirror shows for the path: the wanted version if any, else the local one. */
    static FolderEntry shown(FolderState s) {
        return s.current("a.txt");
    }

    @Test
    void threeConcurrentVersionsOneADeleteThatSawAnotherSettleAlikeInEveryOrder() throws Exception {
        // A (m1, newest mtime), B (m2, oldest) and D (m3 deleted A after seeing it): the maximal
        // versions are B and D, and a live file beats a delete, so B wins everywhere, whatever
        // the order, though A would beat B alone.
        FolderEntry a = version("A", 3000, "m1", Map.of("m1", 1L), false);
        FolderEntry b = version("B", 1000, "m2", Map.of("m2", 1L), false);
        FolderEntry d = version("", 2000, "m3", Map.of("m1", 1L, "m3", 1L), true);
        List<List<FolderEntry>> orders = List.of(List.of(a, b, d), List.of(a, d, b), List.of(b, a, d),
                List.of(b, d, a), List.of(d, a, b), List.of(d, b, a));
        int n = 0;
        for (List<FolderEntry> order : orders) {
            FolderState s = stateOf("x" + n++);
            for (FolderEntry v : order) {
                s.offer(v);
            }
            assertEquals(b, shown(s), "order " + order.stream().map(FolderEntry::modifiedBy).toList());
            assertEquals(1, s.siblingCount(), "D stays a sibling");
            s.save();
        }
    }

    @Test
    void aLoserBecomesTheWinnerWhenTheWinnerIsDeletedByAMirrorThatNeverSawIt() throws Exception {
        FolderEntry mine = writeLocal("a.txt", "mine", 1000);
        FolderEntry theirs = remote(mine, "c".repeat(64), 5000, "m2", Map.of("m2", 1L));
        assertEquals(FolderState.Outcome.WANTED, state.offer(theirs));
        assertTrue(Files.exists(root.resolve(ConflictRule.conflictPath("a.txt", 1000, "me"))));
        // m3 saw only m2's version and deleted it: mine, concurrent with that delete, wins now.
        FolderEntry delete = theirs.toTombstone(6000).bumped("m3");
        assertEquals(FolderState.Outcome.WANTED, state.offer(delete));
        assertEquals(Map.of("me", 1L), state.current("a.txt").versions());
        assertEquals(1, state.siblingCount());
        state.save();
        FolderState again = new FolderState("u", root, "me", FolderIndex.load(tmp.resolve("u.index")),
                FolderIndex.load(tmp.resolve("u.wanted")),
                org.activemirroring.files.FolderSiblings.load(tmp.resolve("u.siblings")), new BlockMap());
        assertEquals(1, again.siblingCount(), "siblings survive a restart");
        assertEquals(FolderState.Outcome.IGNORED, again.offer(delete));
        assertEquals(state.snapshot(), again.snapshot());
    }

    @Test
    void aRenameMadeElsewhereMovesTheFileHereInsteadOfCopyingIt() throws Exception {
        FolderEntry mine = writeLocal("old/a.txt", "content to move", 1000);
        Object inode = Files.readAttributes(root.resolve("old/a.txt"),
                java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        FolderEntry renamed = new FolderEntry("new/a.txt", mine.size(), mine.mtimeMs(), null, null, mine.sha256Hex(),
                List.of(), Map.of("m2", 1L), false, "m2"); // sent without its block list
        FolderEntry delete = mine.toTombstone(2000).bumped("m2").withModifiedBy("m2");
        assertEquals(FolderState.Outcome.WANTED, state.offer(renamed));
        assertFalse(state.takeByMove(state.wanted("new/a.txt")), "the old name is not wanted deleted yet");
        assertEquals(FolderState.Outcome.WANTED, state.offer(delete));
        assertTrue(state.takeByMove(state.wanted("new/a.txt")));
        assertEquals("content to move", Files.readString(root.resolve("new/a.txt")));
        assertEquals(inode, Files.readAttributes(root.resolve("new/a.txt"),
                java.nio.file.attribute.BasicFileAttributes.class).fileKey(), "moved, not copied");
        assertFalse(Files.exists(root.resolve("old/a.txt")));
        assertEquals(0, state.wantedCount());
        assertTrue(state.local("old/a.txt").tombstone());
        assertEquals(mine.blocks(), state.local("new/a.txt").blocks());
        assertNull(state.recordLocal(scanned("new/a.txt"), "new/a.txt", 0), "the scan sees nothing new");
    }

    /**
     * A version of this mirror that lost, then an edit here of the winner while a version made on
     * top of both is on its way: the edit must not repeat the lost version's counter, or it would
     * look older than that version on every other mirror and be dropped there (found by
     * RandomizedConvergenceIT: two mirrors kept different files).
     */
    @Test
    void anEditMadeWhileAVersionIsWantedNeverRepeatsACounterOfThisMirror() throws Exception {
        writeLocal("r.txt", "one", 1000);
        FolderEntry two = writeLocal("r.txt", "two", 2000);
        assertEquals(Map.of("me", 2L), two.versions());
        // m1 edited "one" at the same time, later: it wins, "two" is kept as a conflict copy.
        FolderEntry x = new FolderEntry("r.txt", 5, 3000, null, null, "a".repeat(64), List.of(),
                Map.of("me", 1L, "m1", 1L), false, "m1");
        assertEquals(FolderState.Outcome.WANTED, state.offer(x));
        assertTrue(state.commitWanted(state.wanted("r.txt"), () -> {
            Path f = root.resolve("r.txt");
            Files.writeString(f, "xxxxx", StandardCharsets.UTF_8);
            Files.setLastModifiedTime(f, FileTime.fromMillis(3000));
            return FolderState.stat(f);
        }));
        // m3 saw both and edited: on its way here.
        FolderEntry y = new FolderEntry("r.txt", 5, 4000, null, null, "b".repeat(64), List.of(),
                Map.of("me", 2L, "m1", 1L, "m3", 1L), false, "m3");
        assertEquals(FolderState.Outcome.WANTED, state.offer(y));
        // Before it is written, the file is edited here.
        Files.writeString(root.resolve("r.txt"), "mine!", StandardCharsets.UTF_8);
        Files.setLastModifiedTime(root.resolve("r.txt"), FileTime.fromMillis(5000));
        FolderEntry mine = state.recordLocal(scanned("r.txt"), "r.txt", 0);
        assertTrue(mine.versions().get("me") > 2, "a counter of its own not given before: " + mine.versions());
        assertEquals(VersionVectors.Order.CONCURRENT, VersionVectors.compare(mine.versions(), y.versions()),
                "neither has seen the other");
    }
}
