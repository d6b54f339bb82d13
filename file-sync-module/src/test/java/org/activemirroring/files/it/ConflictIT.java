package org.activemirroring.files.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

import org.activemirroring.files.sync.FileSyncOptions;
import org.activemirroring.testsupport.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Concurrent edits of one file on two mirrors, timed by the test: the mirrors do not watch and
 * scan only when told ({@code scanNow}), and every edit gets an explicit mtime, so which version
 * wins is known in advance. The newer version wins everywhere, the older one is kept once under
 * its conflict name {@code <name>.sync-conflict-<yyyyMMdd-HHmmss>-<mirror>.<ext>}, an edit beats a
 * concurrent delete, and no version is lost.
 */
class ConflictIT {
    static final Duration WAIT = Duration.ofSeconds(30);
    /** No watcher; the periodic scan only once an hour, so scans happen when the test says. */
    static final FileSyncOptions BY_HAND = new FileSyncOptions(false, 200, 3_600_000, 2, 4, 30_000);
    static final Instant T = Instant.parse("2026-01-02T03:04:05.100Z");

    @TempDir
    Path tmp;
    FolderNetwork net;
    FolderMirror a;
    FolderMirror b;

    @BeforeEach
    void start() throws Exception {
        net = FolderNetwork.start(tmp, 2, BY_HAND, WAIT);
        a = net.get(0);
        b = net.get(1);
        // The start's own first scans are done once these return: from here on, scans are the test's.
        a.files.scanNow();
        b.files.scanNow();
    }

    @AfterEach
    void stop() {
        net.close();
    }

    @Test
    void theNewerEditWinsAndTheOlderIsKeptOnceAsAConflictCopy() throws Exception {
        write(a, "docs/report.txt", "m1's version", T);
        write(b, "docs/report.txt", "m2's version, a minute later", T.plusSeconds(60));
        scanNewerFirst();
        net.awaitSame(WAIT, true);

        Map<String, String> expected = new TreeMap<>();
        expected.put("docs/report.txt", sha("m2's version, a minute later"));
        expected.put("docs/report.sync-conflict-20260102-030405-m1.txt", sha("m1's version"));
        for (FolderMirror m : net.mirrors) {
            assertEquals(expected, FolderDigest.of(m.folder), m.id);
            assertEquals(T.plusSeconds(60).toEpochMilli(),
                    Files.getLastModifiedTime(m.folder.resolve("docs/report.txt")).toMillis(), m.id + ": the winner's mtime");
        }

        // Offer everything again: each mirror forgets what it applied, so the other's changes come
        // again from the start of its journal.
        for (int i = 0; i < 2; i++) {
            Path applied = net.dataDir(i).resolve("applied.vector");
            net.restart(i, () -> deleteQuietly(applied), WAIT);
        }
        a = net.get(0);
        b = net.get(1);
        net.awaitSame(WAIT, true);
        for (FolderMirror m : net.mirrors) {
            assertEquals(expected, FolderDigest.of(m.folder), m.id + " after every change was offered again");
            assertEquals(0, m.files.status().folders().get(0).conflictCopies(), m.id + " made another conflict copy");
        }
    }

    @Test
    void anEditConcurrentWithADeleteWinsOnBoth() throws Exception {
        write(a, "notes.txt", "first", T);
        a.files.scanNow();
        net.awaitSame(WAIT, true);

        Files.delete(a.folder.resolve("notes.txt"));
        // Older than the delete (which is now): a live file beats a tombstone whatever the times.
        write(b, "notes.txt", "edited while m1 deleted it", T.plusSeconds(1));
        scanNewerFirst();
        net.awaitSame(WAIT, true);
        for (FolderMirror m : net.mirrors) {
            assertEquals(Map.of("notes.txt", sha("edited while m1 deleted it")), FolderDigest.of(m.folder), m.id);
        }
    }

    /**
     * Two different versions of one mirror lose within the same second (the conflict name has
     * whole seconds): both must be kept, not the second dropped as "already kept".
     */
    @Test
    void twoLosersOfOneMirrorInOneSecondAreBothKept() throws Exception {
        write(a, "p.txt", "a1", T);
        write(b, "p.txt", "b1", T.plusMillis(200));
        scanNewerFirst();
        net.awaitSame(WAIT, true);
        assertEquals(Map.of("p.txt", sha("b1"), "p.sync-conflict-20260102-030405-m1.txt", sha("a1")),
                FolderDigest.of(a.folder));

        // Both edit b1 again, concurrently; m1's edit is again the older one, in the same second.
        write(a, "p.txt", "a2", T.plusMillis(400));
        write(b, "p.txt", "b2", T.plusMillis(600));
        scanNewerFirst();
        net.awaitSame(WAIT, true);
        Map<String, String> folder = FolderDigest.of(a.folder);
        assertEquals(sha("b2"), folder.get("p.txt"), "the newest edit wins");
        assertTrue(folder.containsValue(sha("a1")), "a1 is kept: " + folder);
        assertTrue(folder.containsValue(sha("a2")), "a2 is kept too (it is another version than a1, lost in the"
                + " same second): " + folder);
        assertEquals(3, folder.size(), "p.txt and one copy per loser: " + folder);
    }

    /**
     * A newer local edit that is not scanned yet when an older concurrent version arrives must
     * still win (ConflictRule: the rule reads only the versions, whatever order they arrive in).
     */
    @Test
    void anUnscannedNewerEditIsNotReplacedByAnOlderVersion() throws Exception {
        write(b, "q.txt", "m2's newer edit, not scanned yet", T.plusSeconds(60));
        write(a, "q.txt", "m1's older edit", T);
        a.files.scanNow();
        long head = a.transport.stats().journalHeads().getOrDefault(a.id, 0L);
        long size = "m1's older edit".length();
        // m2 has taken m1's change and fetched its content (written in place or not: the rule decides).
        Await.until(WAIT, () -> b.delivery.applied().getOrDefault(a.id, 0L) >= head
                && b.files.status().bytesFetched() >= size, net::describe);
        b.files.scanNow();
        net.awaitSame(WAIT, true);
        for (FolderMirror m : net.mirrors) {
            assertEquals(Map.of("q.txt", sha("m2's newer edit, not scanned yet"),
                    "q.sync-conflict-20260102-030405-m1.txt", sha("m1's older edit")), FolderDigest.of(m.folder),
                    m.id + ": the newer edit wins, the older is the conflict copy");
        }
    }

    /**
     * Edits travel as block-list deltas against the version their mirror held before. Here m2's
     * edit names v0 as its base, and m1 no longer holds v0's list when it arrives (it scanned its
     * own edit of v0 first): m1 takes the change without a list and asks a peer for it.
     */
    @Test
    void anEditWhoseBaseAMirrorNoLongerHoldsArrivesWithItsListFromAPeer() throws Exception {
        byte[] v0 = new byte[1_200_000]; // about 18 blocks of 64 KiB
        new java.util.Random(7).nextBytes(v0);
        writeBytes(a, "data/big.bin", v0, T);
        a.files.scanNow();
        net.awaitSame(WAIT, false);
        byte[] v1 = v0.clone();
        byte[] v2 = v0.clone();
        java.util.Arrays.fill(v1, 100_000, 103_000, (byte) 1);
        java.util.Arrays.fill(v2, 200_000, 203_000, (byte) 2);
        writeBytes(b, "data/big.bin", v2, T.plusSeconds(60));
        writeBytes(a, "data/big.bin", v1, T.plusSeconds(30));
        a.files.scanNow();
        // m2 takes m1's edit as a delta against v0, which it holds.
        Await.until(WAIT, () -> b.files.blockListDeltas().applied() >= 1, net::describe);
        b.files.scanNow();
        // m1 writes m2's version without scanning meanwhile: only its block map, not a scan, can tell
        // it that its own version's blocks are now under the conflict copy's name.
        long head = b.transport.stats().journalHeads().getOrDefault(b.id, 0L);
        Await.until(WAIT, () -> a.delivery.applied().getOrDefault(b.id, 0L) >= head
                && a.files.status().settled(), net::describe);
        net.awaitSame(WAIT, true);

        assertTrue(a.files.blockListDeltas().withoutBase() >= 1, "m1 held no base: " + a.files.blockListDeltas());
        for (FolderMirror m : net.mirrors) {
            assertEquals(Map.of("data/big.bin", FolderDigest.sha256(v2),
                    "data/big.sync-conflict-20260102-030435-m1.bin", FolderDigest.sha256(v1)), FolderDigest.of(m.folder),
                    m.id + ": the newer edit wins, the older is the conflict copy");
            assertEquals(0, m.files.blockListDeltas().refused(), m.id);
        }
        // Its own losing version, renamed to the conflict copy just before m2's version was assembled,
        // held the rest: m1 fetched only the blocks around m2's edit, not the whole file.
        assertTrue(a.files.status().bytesFetched() < v0.length / 4, "m1 fetched only the blocks around m2's edit: "
                + a.files.status().bytesFetched());
    }

    /**
     * Scans m2 (whose edits are the newer ones here) before m1. The other order races: m2 may take
     * m1's older version before it scanned its own newer edit, and an unscanned edit then loses
     * whatever its time ({@link #anUnscannedNewerEditIsNotReplacedByAnOlderVersion}).
     */
    private void scanNewerFirst() throws Exception {
        b.files.scanNow();
        a.files.scanNow();
    }

    private static void write(FolderMirror m, String rel, String content, Instant mtime) throws IOException {
        Path file = m.folder.resolve(rel);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content, StandardCharsets.UTF_8);
        Files.setLastModifiedTime(file, FileTime.from(mtime));
    }

    private static void writeBytes(FolderMirror m, String rel, byte[] content, Instant mtime) throws IOException {
        Path file = m.folder.resolve(rel);
        Files.createDirectories(file.getParent());
        Files.write(file, content);
        Files.setLastModifiedTime(file, FileTime.from(mtime));
    }

    private static String sha(String content) {
        return FolderDigest.sha256(content.getBytes(StandardCharsets.UTF_8));
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
