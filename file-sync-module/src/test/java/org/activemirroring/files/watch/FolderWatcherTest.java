package org.activemirroring.files.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderWatcherTest {

    private static final Duration DEBOUNCE = Duration.ofMillis(40);
    private static final Duration DEADLINE = Duration.ofSeconds(3);

    @TempDir
    Path root;
    final AtomicInteger calls = new AtomicInteger();
    FolderWatcher watcher;

    @AfterEach
    void tearDown() {
        if (watcher != null) {
            watcher.close();
        }
    }

    private FolderWatcher start(String name) {
        watcher = new FolderWatcher(name, root, dir -> dir.getFileName().toString().equals("skipped"), DEBOUNCE,
                calls::incrementAndGet);
        watcher.start();
        assertTrue(watcher.watching(), "the JDK watch service should be available on the test machine");
        return watcher;
    }

    /** Waits for a condition with a deadline; the pause is the polling interval, not a guess. */
    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Not within " + DEADLINE + ": " + what);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
        }
    }

    private void awaitCallAfter(int before, String what) {
        await(() -> calls.get() > before, what + " (onChange calls: " + calls.get() + ")");
    }

    @Test
    void aCreatedFileLeadsToOnChange() throws IOException {
        start("create");
        Files.writeString(root.resolve("a.txt"), "a");
        awaitCallAfter(0, "onChange after a file was created");
    }

    @Test
    void aFileInANewSubdirectoryLeadsToOnChange() throws IOException {
        start("subdir");
        Path dir = Files.createDirectories(root.resolve("new/deeper"));
        awaitCallAfter(0, "onChange after directories were created");
        // The watcher registers new directories before it calls onChange, so this write is seen
        // through the registration of new/deeper and not through the creation seen in the root.
        int before = calls.get();
        Files.writeString(dir.resolve("b.txt"), "b");
        awaitCallAfter(before, "onChange after a file was written in a new subdirectory");
    }

    @Test
    void eventsAboutKnownFilesAloneLeadToNoOnChange() throws IOException {
        // Files whose name starts with "known" stand for files the index describes as they are on disk.
        watcher = new FolderWatcher("known", root, dir -> false, DEBOUNCE, calls::incrementAndGet,
                file -> file.getFileName().toString().startsWith("known"));
        watcher.start();
        assertTrue(watcher.watching());
        Files.writeString(root.resolve("known-1.bin"), "1");
        Files.writeString(root.resolve("known-2.bin"), "2");
        await(() -> watcher.knownOnly() >= 1, "a quiet period of known files only");
        long written = watcher.knownOnly();
        Files.delete(root.resolve("known-1.bin"));
        await(() -> watcher.knownOnly() > written, "a delete of a known file");
        long known = watcher.knownOnly();
        assertEquals(0, calls.get(), "no scan for files as indexed");

        // One file not as indexed among known ones: a scan.
        Files.writeString(root.resolve("known-3.bin"), "3");
        Files.writeString(root.resolve("site-upload.jpg"), "x");
        awaitCallAfter(0, "onChange for a file the index does not describe");
        // A new directory is scanned too, even when the files named are known.
        int before = calls.get();
        Files.createDirectories(root.resolve("known-dir"));
        awaitCallAfter(before, "onChange for a new directory");
        assertEquals(known, watcher.knownOnly());
    }

    @Test
    void aRenameAndADeleteEachLeadToOnChange() throws IOException {
        Path file = Files.writeString(root.resolve("c.txt"), "c");
        start("rename");
        Path renamed = Files.move(file, root.resolve("d.txt"));
        awaitCallAfter(0, "onChange after a rename");
        int before = calls.get();
        Files.delete(renamed);
        awaitCallAfter(before, "onChange after a delete");
    }

    @Test
    void aBurstOfEventsCoalescesIntoFewCalls() throws IOException {
        start("burst");
        int files = 300;
        for (int i = 0; i < files; i++) {
            Files.writeString(root.resolve("f" + i), "x");
        }
        await(() -> watcher.events() >= files && calls.get() >= 1,
                "events for all " + files + " files and one call (events " + watcher.events() + ")");
        assertTrue(calls.get() < watcher.events() / 10,
                "calls " + calls.get() + " should be far fewer than events " + watcher.events());
    }

    @Test
    void eventsThatKeepComingStillLeadToOnChangeAfterFiveDebounces() throws IOException {
        start("steady");
        Path file = root.resolve("log.txt");
        long startedAt = System.nanoTime();
        long deadline = startedAt + DEADLINE.toNanos();
        int writes = 0;
        // A write every 5 ms never leaves the 40 ms quiet time, so only the 200 ms cap can fire.
        // The pause paces the writer; the result is waited for by the loop's condition.
        while (calls.get() == 0 && System.nanoTime() < deadline) {
            Files.writeString(file, "line " + writes++ + "\n", StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
        assertTrue(calls.get() > 0, "onChange while events kept coming, after " + writes + " writes");
    }

    @Test
    void skippedAndTempDirectoriesAreNotWatched() throws IOException {
        Files.createDirectories(root.resolve("skipped"));
        Files.createDirectories(root.resolve(".am-tmp-x"));
        start("skip");
        Files.createFile(root.resolve("skipped/a"));
        Files.createFile(root.resolve(".am-tmp-x/a"));
        Files.createFile(root.resolve(".am-tmp-file"));
        Files.createFile(root.resolve("seen"));
        awaitCallAfter(0, "onChange after a file was created in the root");
        assertEquals(1, watcher.events(), "only the root's own file counts");
    }

    @Test
    void anExceptionFromOnChangeDoesNotStopTheWatcher() throws IOException {
        watcher = new FolderWatcher("throws", root, dir -> false, DEBOUNCE, () -> {
            calls.incrementAndGet();
            throw new IllegalStateException("test: the scan loop is broken");
        });
        watcher.start();
        Files.createFile(root.resolve("one"));
        awaitCallAfter(0, "first onChange");
        int before = calls.get();
        Files.createFile(root.resolve("two"));
        awaitCallAfter(before, "onChange after the first one threw");
        assertTrue(watcher.watching());
    }

    @Test
    void aRootThatCannotBeWatchedLeavesWatchingFalseWithoutThrowing() {
        watcher = new FolderWatcher("missing", root.resolve("does-not-exist"), dir -> false, DEBOUNCE,
                calls::incrementAndGet);
        watcher.start();
        assertFalse(watcher.watching());
        assertFalse(threadAlive("am-watch-missing"));
    }

    @Test
    void closeStopsTheThreadAndIsIdempotent() {
        start("closing");
        assertTrue(threadAlive("am-watch-closing"));
        watcher.close();
        assertFalse(threadAlive("am-watch-closing"), "the watcher thread is gone after close");
        assertFalse(watcher.watching());
        watcher.close();
        assertThrows(IllegalStateException.class, watcher::start);
    }

    @Test
    void aNonPositiveDebounceIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new FolderWatcher("bad", root, dir -> false, Duration.ZERO, () -> { }));
        assertTrue(e.getMessage().contains("positive"), e.getMessage());
    }

    private static boolean threadAlive(String name) {
        return Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals(name) && t.isAlive());
    }
}
