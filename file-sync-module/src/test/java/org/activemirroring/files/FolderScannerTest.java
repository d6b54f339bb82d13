package org.activemirroring.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderScannerTest {

    private static final String EMPTY_SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochMilli(1_800_000_000_000L), ZoneOffset.UTC);

    @TempDir
    Path tmp;
    Path root;
    FolderIndex index;
    // Files are read on the scan's own threads (ScanHashing).
    final List<String> hashed = java.util.Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void setUp() throws IOException {
        root = Files.createDirectories(tmp.resolve("folder"));
        index = FolderIndex.empty(FolderIndex.fileFor(tmp.resolve("data"), "u"));
    }

    private FolderScanner countingScanner() {
        return new FolderScanner(file -> {
            hashed.add(FolderPaths.relative(root, file));
            return FolderScanner.sha256(file);
        }, CLOCK);
    }

    private FolderConfig.Folder folder(List<String> include, List<String> exclude, long max) {
        List<String> problems = new ArrayList<>();
        FolderFilter f = FolderFilter.of(include, exclude, "inc", "exc", problems);
        assertTrue(problems.isEmpty(), problems.toString());
        return new FolderConfig.Folder("u", root, f, max);
    }

    private FolderConfig.Folder all() {
        return folder(List.of(), List.of(), FolderConfig.DEFAULT_MAX_FILE_BYTES);
    }

    private Path write(String rel, String content, long mtimeMs) throws IOException {
        Path p = root.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content);
        Files.setLastModifiedTime(p, FileTime.fromMillis(mtimeMs));
        return p;
    }

    private static List<String> paths(List<FolderEntry> entries) {
        return entries.stream().map(FolderEntry::path).toList();
    }

    @Test
    void newFilesNestedAndEmptyAreAdded() throws Exception {
        write("a.txt", "abc", 1000);
        write("d1/d2/d3/deep.bin", "deep", 2000);
        write("empty", "", 3000);
        FolderScanResult r = countingScanner().scan(all(), index);
        assertEquals(List.of("a.txt", "d1/d2/d3/deep.bin", "empty"), paths(r.added()));
        assertEquals(3, r.hashesDone());
        FolderEntry empty = r.added().get(2);
        assertEquals(0, empty.size());
        assertEquals(EMPTY_SHA, empty.sha256Hex());
        assertEquals(3000, empty.mtimeMs());
        FolderEntry a = r.added().get(0);
        assertEquals(FolderScanner.sha256(root.resolve("a.txt")), a.sha256Hex());
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", a.sha256Hex());
        if (root.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            assertTrue(a.mode() != null && (a.mode() & 0400) != 0, String.valueOf(a.mode()));
            assertTrue(a.fileKey() != null);
        }
        assertTrue(r.changed().isEmpty() && r.deleted().isEmpty() && r.stillWriting().isEmpty());
    }

    @Test
    void unchangedFilesAreNotReadAgain() throws Exception {
        for (int i = 0; i < 5; i++) {
            write("dir/f" + i, "content " + i, 1000 + i);
        }
        FolderScanner scanner = countingScanner();
        index.apply(scanner.scan(all(), index), "m1");
        index.save();
        assertEquals(5, hashed.size());
        hashed.clear();

        FolderIndex reloaded = FolderIndex.load(index.file());
        FolderScanResult again = scanner.scan(all(), reloaded);
        assertTrue(again.isEmpty(), again.toString());
        assertEquals(5, again.unchanged());
        assertEquals(0, again.hashesDone());
        assertEquals(List.of(), hashed, "no content read for unchanged files");
    }

    @Test
    void aFileRenamedOrMovedIsRecognisedByItsFileKeyWithoutReadingIt() throws Exception {
        write("dir/a.bin", "the content of a", 1000);
        write("dir/b.bin", "the content of b", 1000);
        FolderScanner scanner = countingScanner();
        index.apply(scanner.scan(all(), index), "m1");
        for (FolderEntry e : List.copyOf(index.entries())) {
            index.put(e.withBlocks(List.of(new FolderEntry.BlockRef(0, (int) e.size(), e.sha256Hex()))));
        }
        FolderEntry a = index.get("dir/a.bin");
        assertTrue(a.fileKey() != null, "the build's file system gives file keys (inodes)");
        hashed.clear();
        Files.createDirectories(root.resolve("other"));
        Files.move(root.resolve("dir/a.bin"), root.resolve("other/renamed.bin"));
        write("dir/new.bin", "the content of b", 1000); // same size and mtime as b, another file

        FolderScanResult r = scanner.scan(all(), index);
        assertEquals(List.of("dir/new.bin", "other/renamed.bin"), paths(r.added()));
        assertEquals(List.of("dir/new.bin"), hashed, "the moved file is not read; a look-alike is");
        FolderEntry moved = r.added().get(1);
        assertEquals(a.sha256Hex(), moved.sha256Hex());
        assertEquals(a.blocks(), moved.blocks());
        assertEquals(List.of("dir/a.bin"), r.deleted());
    }

    @Test
    void sameSizeNewContentNewMtimeIsChangedAndBumpsTheVersion() throws Exception {
        write("a.txt", "abc", 1000);
        write("b.txt", "bbb", 1000);
        FolderScanner scanner = countingScanner();
        index.apply(scanner.scan(all(), index), "m1");
        assertEquals(Map.of("m1", 1L), index.get("a.txt").versions());
        hashed.clear();

        write("a.txt", "xyz", 2000);
        FolderScanResult r = scanner.scan(all(), index);
        assertEquals(List.of("a.txt"), paths(r.changed()));
        assertEquals(List.of("a.txt"), hashed, "only the changed-looking file is read");
        index.apply(r, "m1");
        assertEquals(Map.of("m1", 2L), index.get("a.txt").versions());
        assertEquals(FolderScanner.sha256(root.resolve("a.txt")), index.get("a.txt").sha256Hex());
        assertEquals(2000, index.get("a.txt").mtimeMs());
    }

    @Test
    void newMtimeSameContentIsTouchedWithoutNewVersion() throws Exception {
        write("a.txt", "abc", 1000);
        FolderScanner scanner = countingScanner();
        index.apply(scanner.scan(all(), index), "m1");
        Files.setLastModifiedTime(root.resolve("a.txt"), FileTime.fromMillis(5000));
        FolderScanResult r = scanner.scan(all(), index);
        assertEquals(List.of("a.txt"), paths(r.touched()));
        assertTrue(r.changed().isEmpty());
        index.apply(r, "m1");
        assertEquals(5000, index.get("a.txt").mtimeMs());
        assertEquals(Map.of("m1", 1L), index.get("a.txt").versions());
        assertTrue(scanner.scan(all(), index).isEmpty());
    }

    @Test
    void deletedFileBecomesATombstone() throws Exception {
        write("a.txt", "abc", 1000);
        write("sub/b.txt", "b", 1000);
        FolderScanner scanner = countingScanner();
        index.apply(scanner.scan(all(), index), "m1");
        Files.delete(root.resolve("sub/b.txt"));
        Files.delete(root.resolve("sub"));
        FolderScanResult r = scanner.scan(all(), index);
        assertEquals(List.of("sub/b.txt"), r.deleted());
        index.apply(r, "m1");
        FolderEntry tomb = index.get("sub/b.txt");
        assertTrue(tomb.tombstone());
        assertEquals(Map.of("m1", 2L), tomb.versions());
        assertEquals(CLOCK.millis(), tomb.mtimeMs());
        assertTrue(scanner.scan(all(), index).isEmpty(), "a tombstone is not deleted twice");

        write("sub/b.txt", "back", 7000);
        FolderScanResult back = scanner.scan(all(), index);
        assertEquals(List.of("sub/b.txt"), paths(back.added()));
        index.apply(back, "m1");
        assertEquals(Map.of("m1", 3L), index.get("sub/b.txt").versions());
    }

    @Test
    void excludedPathsAndTempFilesAreSkippedAndExcludedDirectoriesNotEntered() throws Exception {
        write("keep/a.jpg", "a", 1000);
        write("keep/a.tmp", "t", 1000);
        write("cache/x/big.jpg", "c", 1000);
        write("keep/" + FolderIndex.TEMP_PREFIX + "a.jpg-123", "partial", 1000);
        write(FolderIndex.TEMP_PREFIX + "dir/inner", "partial", 1000);
        FolderScanResult r = countingScanner().scan(folder(List.of(), List.of("*.tmp", "cache"), 1 << 20), index);
        assertEquals(List.of("keep/a.jpg"), paths(r.added()));
        assertEquals(List.of("keep/a.jpg"), hashed);
    }

    @Test
    void includeGlobsLimitTheFolderAndExcludedIndexEntriesAreNotDeleted() throws Exception {
        write("img/a.png", "a", 1000);
        write("img/a.txt", "t", 1000);
        index.apply(countingScanner().scan(all(), index), "m1");
        FolderScanResult r = countingScanner().scan(folder(List.of("**/*.png"), List.of(), 1 << 20), index);
        assertTrue(r.isEmpty(), "a file the filter now leaves out is not a delete: " + r);
    }

    @Test
    void symlinksAreNotFollowed() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "s");
        Files.createSymbolicLink(root.resolve("dirlink"), outside);
        Files.createSymbolicLink(root.resolve("filelink"), outside.resolve("secret"));
        write("real", "r", 1000);
        FolderScanResult r = countingScanner().scan(all(), index);
        assertEquals(List.of("real"), paths(r.added()));
    }

    @Test
    void fileAboveTheSizeLimitIsRefusedNotAdded() throws Exception {
        write("big", "0123456789", 1000);
        write("small", "01", 1000);
        FolderScanResult r = countingScanner().scan(folder(List.of(), List.of(), 5), index);
        assertEquals(List.of("small"), paths(r.added()));
        assertEquals(1, r.refused().size());
        assertEquals("big", r.refused().get(0).path());
        assertTrue(r.refused().get(0).reason().contains("mirror.folder.u.max-file-bytes=5"), r.refused().toString());
    }

    @Test
    void fileChangedDuringTheScanIsStillBeingWrittenNotChanged() throws Exception {
        write("growing.log", "part1", 1000);
        write("steady", "s", 1000);
        // The writer appends while the scan reads the file.
        FolderScanner racing = new FolderScanner(file -> {
            String sha = FolderScanner.sha256(file);
            if (file.getFileName().toString().equals("growing.log")) {
                Files.writeString(file, "part2", StandardOpenOption.APPEND);
                Files.setLastModifiedTime(file, FileTime.fromMillis(2000));
            }
            return sha;
        }, CLOCK);
        FolderScanResult r = racing.scan(all(), index);
        assertEquals(List.of("growing.log"), r.stillWriting());
        assertEquals(List.of("steady"), paths(r.added()));
        index.apply(r, "m1");
        assertEquals(null, index.get("growing.log"));

        // Same for a known file: not reported as changed while it moves, and not as deleted.
        FolderScanResult settled = countingScanner().scan(all(), index);
        assertEquals(List.of("growing.log"), paths(settled.added()));
        index.apply(settled, "m1");
        FolderScanResult again = racing.scan(all(), index);
        assertTrue(again.isEmpty(), "unchanged file is not hashed, so not racing: " + again);
        Files.setLastModifiedTime(root.resolve("growing.log"), FileTime.fromMillis(3000));
        FolderScanResult moving = racing.scan(all(), index);
        assertEquals(List.of("growing.log"), moving.stillWriting());
        assertTrue(moving.changed().isEmpty() && moving.deleted().isEmpty() && moving.touched().isEmpty());
    }

    @Test
    void filesOfOneDirectoryAreReadOnSeveralThreadsAtOnce() throws Exception {
        for (int i = 0; i < 8; i++) {
            write("uploads/f" + i + ".bin", "content " + i, 1000);
        }
        // Each read waits until as many reads as the scan has threads (at most 2 here) are under
        // way: read one by one, as when a directory's files were all read by its walking thread,
        // the first read would give up waiting and the test fail.
        int cores = Runtime.getRuntime().availableProcessors();
        java.util.concurrent.CountDownLatch together = new java.util.concurrent.CountDownLatch(Math.min(2, cores));
        java.util.Set<String> readers = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.atomic.AtomicInteger alone = new java.util.concurrent.atomic.AtomicInteger();
        FolderScanner scanner = new FolderScanner(file -> {
            readers.add(Thread.currentThread().getName());
            together.countDown();
            try {
                if (!together.await(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    alone.incrementAndGet();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            return FolderScanner.sha256(file);
        }, CLOCK);
        FolderScanResult r = scanner.scan(all(), index);
        assertEquals(8, r.added().size());
        assertEquals(8, r.hashesDone());
        assertEquals(0, alone.get(), "a read waited in vain for another one beside it; read by " + readers);
        assertTrue(readers.size() >= Math.min(2, cores), "read by " + readers);
        assertTrue(awaitNoHashThreads(), "the scan's reading threads are stopped once it returned");
    }

    /** Six files in one directory, read by a hasher that fails on f3.bin with what {@code failure} makes. */
    private Exception scanFailingOnOneFile(java.util.function.Function<Path, Exception> failure) throws Exception {
        for (int i = 0; i < 6; i++) {
            write("d/f" + i + ".bin", "x" + i, 1000);
        }
        FolderScanner failing = new FolderScanner(file -> {
            if (file.getFileName().toString().equals("f3.bin")) {
                Exception e = failure.apply(file);
                if (e instanceof IOException io) {
                    throw io;
                }
                throw (RuntimeException) e;
            }
            return FolderScanner.sha256(file);
        }, CLOCK);
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> failing.scan(all(), index));
        assertTrue(awaitNoHashThreads(), "the scan's reading threads are stopped when it fails");
        return e;
    }

    @Test
    void aFileThatCannotBeReadFailsTheScanAndStopsItsThreads() throws Exception {
        Exception e = scanFailingOnOneFile(f -> new java.nio.file.AccessDeniedException(f.toString()));
        assertTrue(e instanceof java.nio.file.AccessDeniedException, e.toString());
    }

    @Test
    void anUncheckedFailureOfAReadFailsTheScan() throws Exception {
        // As when reads ran on the walking threads: the scan fails, it does not drop the file silently.
        Exception e = scanFailingOnOneFile(f -> new IllegalStateException("test: the hasher is broken"));
        assertTrue(e instanceof IllegalStateException && e.getMessage().equals("test: the hasher is broken"), e.toString());
    }

    /**
     * True once no thread of this thread's scans is alive (named after it: the pool has finished
     * when the scan returns, its threads exit right after), false after 10 s.
     */
    private static boolean awaitNoHashThreads() {
        String prefix = Thread.currentThread().getName() + "-hash-";
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith(prefix))) {
                return true;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        return false;
    }
}
