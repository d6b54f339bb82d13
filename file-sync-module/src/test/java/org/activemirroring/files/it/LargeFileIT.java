package org.activemirroring.files.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.SplittableRandom;

import org.activemirroring.files.sync.FileSyncOptions;
import org.activemirroring.testsupport.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One large file (1 GiB by default; {@code -Dfiles.large.mb=N} for another size): it reaches the
 * other mirror intact, and changing 1 MiB in its middle sends about that much again, not the file
 * (content-defined blocks; the unchanged ones are copied from the old version on the receiver).
 * The file is written and compared streaming, never held in memory.
 */
class LargeFileIT {
    static final long MB = 1024 * 1024;
    static final long SIZE = Long.getLong("files.large.mb", 1024) * MB;
    static final long MAX_REFETCH = 64 * MB;
    /** About 15 s per GiB here for writing, scanning, sending and verifying; generous for slow disks. */
    static final Duration WAIT = Duration.ofSeconds(30 + SIZE / MB / 10);

    @TempDir
    Path tmp;
    FolderNetwork net;

    @AfterEach
    void stop() {
        if (net != null) {
            net.close();
        }
    }

    @Test
    void aLargeFileArrivesIntactAndAnEditInItsMiddleSendsLittle() throws Exception {
        net = FolderNetwork.start(tmp, 2, FileSyncOptions.defaults().withScanIntervalMs(5_000), Duration.ofSeconds(60));
        FolderMirror a = net.get(0);
        FolderMirror b = net.get(1);

        long t0 = System.nanoTime();
        // Written beside the folder and moved in, as an upload is: the scanner then reads it once.
        Path staged = tmp.resolve("big.bin");
        writeRandom(staged, SIZE, 42);
        Files.move(staged, a.folder.resolve("big.bin"));
        String sha = FolderDigest.sha256(a.folder.resolve("big.bin"));
        long t1 = System.nanoTime();
        awaitCopy(a, b, sha);
        long t2 = System.nanoTime();
        System.out.printf("LargeFileIT: %d MiB written and hashed in %d ms, on the other mirror after %d ms more%n",
                SIZE / MB, ms(t1 - t0), ms(t2 - t1));

        long before = b.files.status().bytesFetched();
        try (FileChannel ch = FileChannel.open(a.folder.resolve("big.bin"), StandardOpenOption.WRITE)) {
            ByteBuffer mib = ByteBuffer.allocate((int) MB);
            new SplittableRandom(43).nextBytes(mib.array());
            long at = SIZE / 2;
            while (mib.hasRemaining()) {
                at += ch.write(mib, at);
            }
        }
        String edited = FolderDigest.sha256(a.folder.resolve("big.bin"));
        assertTrue(!edited.equals(sha), "the edit changed the content");
        long t3 = System.nanoTime();
        awaitCopy(a, b, edited);
        long refetched = b.files.status().bytesFetched() - before;
        System.out.printf("LargeFileIT: 1 MiB edit on the other mirror after %d ms, %d bytes fetched%n",
                ms(System.nanoTime() - t3), refetched);
        assertTrue(refetched < MAX_REFETCH, "a 1 MiB edit of a " + SIZE / MB + " MiB file fetched " + refetched
                + " bytes; expected < " + MAX_REFETCH + " (only the changed blocks)");
        assertTrue(refetched >= MB / 2, "the edit was fetched (" + refetched + " bytes), not found locally");
        assertEquals(1, FolderDigest.of(b.folder).size(), "no temp or conflict files on " + b.id);
    }

    /** Waits until {@code to} holds the file with {@code sha}; cheap checks first. */
    private void awaitCopy(FolderMirror from, FolderMirror to, String sha) {
        Path original = from.folder.resolve("big.bin");
        Path file = to.folder.resolve("big.bin");
        // The copy gets the original's mtime (in ms) when it is put in place: compare that before hashing 1 GiB.
        Await.until(WAIT, () -> from.files.status().settled() && to.files.status().settled()
                        && Files.exists(file) && Files.size(file) == SIZE
                        && Files.getLastModifiedTime(file).toMillis() == Files.getLastModifiedTime(original).toMillis()
                        && FolderDigest.sha256(file).equals(sha),
                () -> "expected " + sha + " on " + to.id + ": " + net.describe());
    }

    /** Writes {@code size} seeded random bytes, 1 MiB at a time. */
    static void writeRandom(Path file, long size, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        ByteBuffer buf = ByteBuffer.allocate((int) MB);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long left = size; left > 0; ) {
                buf.clear();
                random.nextBytes(buf.array());
                buf.limit((int) Math.min(MB, left));
                left -= buf.remaining();
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
            }
        }
    }

    private static long ms(long nanos) {
        return nanos / 1_000_000;
    }
}
