package org.activemirroring.files.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.activemirroring.files.sync.FileSyncOptions;
import org.activemirroring.testsupport.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many small files: 10,000 files of 0..8 KiB in 100 directories made on one mirror reach the two
 * others, and deleting half of them on another mirror deletes them everywhere. Catches what only
 * shows at scale: per-file costs, lost or reordered changes in a burst, directories created while
 * the watcher registers them.
 */
class ManyFilesIT {
    static final int FILES = 10_000;
    static final int DIRS = 100;
    static final Duration WAIT = Duration.ofSeconds(60);

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
    void tenThousandFilesReachEveryMirrorAndHalfAreDeletedEverywhere() throws Exception {
        net = FolderNetwork.start(tmp, 3, FileSyncOptions.defaults().withScanIntervalMs(2_000), WAIT);
        long seed = 20_261_206L;
        Random random = new Random(seed);
        List<String> paths = new ArrayList<>();
        for (int d = 0; d < DIRS; d++) {
            Files.createDirectories(net.get(0).folder.resolve("d" + d));
        }
        for (int i = 0; i < FILES; i++) {
            String rel = "d" + (i % DIRS) + "/f" + i + ".bin";
            byte[] content = new byte[random.nextInt(8 * 1024 + 1)];
            random.nextBytes(content);
            Files.write(net.get(0).folder.resolve(rel), content);
            paths.add(rel);
        }
        long created = System.nanoTime();
        awaitFileCount(FILES);
        net.awaitSame(WAIT, false);
        System.out.printf("ManyFilesIT: %d files on 3 mirrors in %d ms%n", FILES, (System.nanoTime() - created) / 1_000_000);

        Collections.shuffle(paths, random);
        List<String> deleted = paths.subList(0, FILES / 2);
        for (String rel : deleted) {
            Files.delete(net.get(1).folder.resolve(rel));
        }
        long deletedAt = System.nanoTime();
        awaitFileCount(FILES - FILES / 2);
        net.awaitSame(WAIT, false);
        System.out.printf("ManyFilesIT: %d deletes on 3 mirrors in %d ms%n", deleted.size(),
                (System.nanoTime() - deletedAt) / 1_000_000);
        for (FolderMirror m : net.mirrors) {
            assertEquals(FILES - FILES / 2, FolderDigest.of(m.folder).size(), m.id + " (seed " + seed + ")");
            assertEquals(0, m.files.status().folders().get(0).conflictCopies(), m.id + " made conflict copies");
        }
    }

    /** Cheap first: the index's file count on every mirror, before digests of 10,000 files. */
    private void awaitFileCount(int n) {
        Await.until(WAIT, () -> net.mirrors.stream()
                        .allMatch(m -> m.files.status().settled() && m.files.status().folders().get(0).files() == n),
                () -> "expected " + n + " files everywhere: " + net.describe());
    }
}
