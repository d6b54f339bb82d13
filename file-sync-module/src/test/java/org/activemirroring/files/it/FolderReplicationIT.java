package org.activemirroring.files.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.activemirroring.files.sync.FileSyncOptions;
import org.activemirroring.files.sync.FileSyncStatus;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Folder replication between real mirrors (JGroups over TCP on 127.0.0.1, real folders): what a
 * site's users do to files reaches every mirror, renames send no content, concurrent edits keep
 * both versions.
 */
class FolderReplicationIT {
    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;
    final List<FolderMirror> open = new ArrayList<>();
    final List<Integer> ports = new ArrayList<>();
    final String cluster = "files-" + System.nanoTime();

    @AfterEach
    void stop() {
        open.forEach(FolderMirror::close);
    }

    List<FolderMirror> network(int n, FileSyncOptions options) throws Exception {
        for (int i = 0; i < n; i++) {
            ports.add(MirrorSettings.freeTransportPort());
        }
        List<FolderMirror> ms = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            FolderMirror m = FolderMirror.start(FolderMirror.settings("m" + (i + 1), tmp, ports.get(i), ports, cluster),
                    options);
            open.add(m);
            ms.add(m);
        }
        for (FolderMirror m : ms) {
            Await.until(WAIT, () -> m.transport.members().size() == n && m.files.synced(),
                    () -> m.id + " sees " + m.transport.members());
        }
        return ms;
    }

    static FileSyncOptions watching() {
        return FileSyncOptions.defaults().withScanIntervalMs(2_000);
    }

    /** Every mirror's folder holds exactly these files (relative path to content hash) and nothing is wanted. */
    static void awaitSame(List<FolderMirror> ms) {
        Await.until(WAIT, () -> {
            Map<String, String> first = digest(ms.get(0).folder);
            for (FolderMirror m : ms) {
                if (!m.files.status().settled() || !digest(m.folder).equals(first)) {
                    return false;
                }
            }
            return true;
        }, () -> {
            StringBuilder sb = new StringBuilder("folders differ:");
            for (FolderMirror m : ms) {
                sb.append("\n ").append(m.id).append(' ').append(safeDigest(m.folder)).append(' ')
                        .append(m.files.status());
            }
            return sb.toString();
        });
    }

    static Map<String, String> safeDigest(Path root) {
        try {
            return digest(root);
        } catch (IOException e) {
            return Map.of("error", e.toString());
        }
    }

    static Map<String, String> digest(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p) && !p.getFileName().toString().startsWith(".am-tmp-")) {
                    out.put(root.relativize(p).toString().replace('\\', '/'),
                            org.activemirroring.files.FolderScanner.sha256(p));
                }
            }
        }
        return out;
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void mirrorsNewToAFolderStartingTogetherAllGetReadyAndKeepEveryonesFiles() throws Exception {
        // Three mirrors, each with files of its own already in the folder, start at once: none holds
        // the folder yet, so none can copy it from another. They must still all get ready (the one
        // with the lowest id starts the folder) and end with every file.
        int n = 3;
        for (int i = 0; i < n; i++) {
            ports.add(MirrorSettings.freeTransportPort());
        }
        List<java.util.concurrent.Future<FolderMirror>> starting = new ArrayList<>();
        java.util.concurrent.ExecutorService starter = java.util.concurrent.Executors.newFixedThreadPool(n);
        try {
            for (int i = 0; i < n; i++) {
                String id = "s" + (i + 1);
                Path own = Files.createDirectories(tmp.resolve(id).resolve("u"));
                Files.write(own.resolve("own-" + id + ".bin"), random(20_000 + i, 40 + i));
                Map<String, String> settings = FolderMirror.settings(id, tmp, ports.get(i), ports, cluster);
                starting.add(starter.submit(() -> FolderMirror.start(settings, watching())));
            }
            List<FolderMirror> ms = new ArrayList<>();
            for (java.util.concurrent.Future<FolderMirror> f : starting) {
                FolderMirror m = f.get(60, java.util.concurrent.TimeUnit.SECONDS);
                open.add(m);
                ms.add(m);
            }
            for (FolderMirror m : ms) {
                Await.until(WAIT, () -> m.transport.members().size() == n && m.files.synced(),
                        () -> m.id + " sees " + m.transport.members() + ", synced " + m.files.synced());
            }
            awaitSame(ms);
            for (int i = 0; i < n; i++) {
                assertTrue(Files.exists(ms.get(0).folder.resolve("own-s" + (i + 1) + ".bin")), "own-s" + (i + 1));
            }
        } finally {
            starter.shutdownNow();
        }
    }

    @Test
    void whatUsersDoToFilesReachesEveryMirror() throws Exception {
        List<FolderMirror> ms = network(3, watching());
        FolderMirror a = ms.get(0);
        FolderMirror b = ms.get(1);
        Path pics = Files.createDirectories(a.folder.resolve("pics/2026"));
        Files.write(pics.resolve("cat.jpg"), random(300_000, 1));
        Files.write(a.folder.resolve("empty.txt"), new byte[0]);
        Files.writeString(a.folder.resolve("notes.txt"), "first", StandardCharsets.UTF_8);
        awaitSame(ms);
        assertTrue(Files.exists(ms.get(2).folder.resolve("pics/2026/cat.jpg")));
        assertEquals(0, Files.size(ms.get(2).folder.resolve("empty.txt")));

        // modify on another mirror, append, then rename and move between directories
        Files.writeString(b.folder.resolve("notes.txt"), "second version", StandardCharsets.UTF_8);
        awaitSame(ms);
        Files.write(b.folder.resolve("notes.txt"), " and more".getBytes(StandardCharsets.UTF_8),
                java.nio.file.StandardOpenOption.APPEND);
        awaitSame(ms);
        assertEquals("second version and more", Files.readString(ms.get(2).folder.resolve("notes.txt")));

        // an edit in place of a few bytes of a larger file: its change carries a block-list delta
        long fetchedBeforeEdit = ms.get(2).files.status().bytesFetched();
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(pics.resolve("cat.jpg"),
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(random(100, 2)), 150_000);
        }
        awaitSame(ms);
        FileSyncStatus afterEdit = ms.get(2).files.status();
        assertTrue(afterEdit.deltas().applied() >= 1, "the status shows the delta made whole: " + afterEdit.deltas());
        long editFetched = ms.get(2).files.status().bytesFetched() - fetchedBeforeEdit;
        // The block the 100 bytes landed in (tens of KiB) is built from mirror 3's previous version:
        // what travels is those bytes and the sub-blocks cut at their edges, not the block.
        assertTrue(editFetched > 0 && editFetched < 3_000, "only about the edited bytes: " + editFetched);
        assertTrue(afterEdit.bytesBuiltByDelta() > editFetched, "the edited block was built by delta, "
                + afterEdit.bytesBuiltByDelta() + " bytes from " + editFetched);

        long fetchedBefore = ms.get(2).files.status().bytesFetched();
        Files.createDirectories(a.folder.resolve("archive"));
        Files.move(pics.resolve("cat.jpg"), a.folder.resolve("archive/kitten.jpg"));
        awaitSame(ms);
        assertFalse(Files.exists(ms.get(2).folder.resolve("pics/2026/cat.jpg")));
        assertTrue(Files.exists(ms.get(2).folder.resolve("archive/kitten.jpg")));
        assertEquals(fetchedBefore, ms.get(2).files.status().bytesFetched(), "a move sends no content");

        // a case-only rename, then a delete
        Files.move(a.folder.resolve("archive/kitten.jpg"), a.folder.resolve("archive/Kitten.jpg"));
        awaitSame(ms);
        assertTrue(Files.exists(b.folder.resolve("archive/Kitten.jpg")));
        assertFalse(Files.exists(b.folder.resolve("archive/kitten.jpg")));
        Files.delete(b.folder.resolve("notes.txt"));
        awaitSame(ms);
        assertFalse(Files.exists(a.folder.resolve("notes.txt")));
        assertEquals(fetchedBefore, ms.get(2).files.status().bytesFetched(), "renames send no content");
    }

    @Test
    void filesWrittenForAnotherMirrorsChangesCostNoScan() throws Exception {
        // No periodic scan during the test: every scan of the receiver would be the watcher's.
        List<FolderMirror> ms = network(2, FileSyncOptions.defaults().withScanIntervalMs(600_000));
        FolderMirror a = ms.get(0);
        FolderMirror b = ms.get(1);
        Files.createDirectories(a.folder.resolve("uploads"));
        Files.write(a.folder.resolve("uploads/first.bin"), random(10_000, 1));
        a.files.scanNow();
        awaitSame(ms);
        FileSyncStatus.Folder before = b.files.status().folders().get(0);
        for (int i = 0; i < 8; i++) {
            FileSyncStatus.Folder last = b.files.status().folders().get(0);
            Files.write(a.folder.resolve("uploads/f" + i + ".bin"), random(50_000, 10 + i));
            a.files.scanNow();
            awaitSame(ms);
            // One at a time: B's watcher has seen this arrival out (scanned, or skipped the scan).
            Await.until(WAIT, () -> {
                FileSyncStatus.Folder now = b.files.status().folders().get(0);
                return now.scans() + now.scansSkipped() > last.scans() + last.scansSkipped();
            }, () -> "B's watcher did not react to the file it wrote: " + b.files.status());
        }
        FileSyncStatus.Folder after = b.files.status().folders().get(0);
        long scans = after.scans() - before.scans();
        assertTrue(scans <= 2, "B wrote 8 files for A's changes and scanned " + scans + " times for them");
        assertTrue(after.scansSkipped() - before.scansSkipped() >= 6, "B's watcher skipped the scans: " + after);
        // A file the site writes on B is still noticed at once.
        Files.write(b.folder.resolve("uploads/on-b.bin"), random(1_000, 99));
        awaitSame(ms);
        assertTrue(Files.exists(a.folder.resolve("uploads/on-b.bin")));
    }

    @Test
    void aCopyOfContentAMirrorDoesNotHoldIsFetchedWithItsBlockListFromAPeer() throws Exception {
        ports.add(MirrorSettings.freeTransportPort());
        ports.add(MirrorSettings.freeTransportPort());
        FolderMirror a = FolderMirror.start(FolderMirror.settings("a", tmp, ports.get(0), ports, cluster), watching());
        open.add(a);
        java.util.Map<String, String> bs = FolderMirror.settings("b", tmp, ports.get(1), ports, cluster);
        bs.put("mirror.folder.u.exclude", "private/**"); // b never holds what a keeps private
        FolderMirror b = FolderMirror.start(bs, watching());
        open.add(b);
        Await.until(WAIT, () -> b.files.synced() && b.transport.members().size() == 2, () -> "b " + b.files.status());

        byte[] secret = random(200_000, 9);
        Files.createDirectories(a.folder.resolve("private"));
        Files.write(a.folder.resolve("private/p.bin"), secret);
        Await.until(WAIT, () -> a.files.status().folders().get(0).published() >= 1, () -> "a " + a.files.status());
        Files.createDirectories(a.folder.resolve("public"));
        Files.copy(a.folder.resolve("private/p.bin"), a.folder.resolve("public/p.bin"));
        // a sends the copy without its block list (a holds that content); b asks a for it and fetches.
        Await.until(WAIT, () -> Files.exists(b.folder.resolve("public/p.bin")) && b.files.status().settled(),
                () -> "b " + b.files.status());
        assertTrue(java.util.Arrays.equals(secret, Files.readAllBytes(b.folder.resolve("public/p.bin"))));
        assertFalse(Files.exists(b.folder.resolve("private/p.bin")));
        assertEquals(secret.length, b.files.status().bytesFetched());
    }
}
