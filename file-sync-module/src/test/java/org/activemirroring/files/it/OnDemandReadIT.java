package org.activemirroring.files.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import org.activemirroring.files.sync.FileSyncOptions;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A page whose database row arrived before its image still shows the image: reading a file whose
 * change has not arrived here yet asks the peers, fetches it first and returns it within the wait.
 */
class OnDemandReadIT {
    @TempDir
    Path tmp;
    FolderMirror a;
    FolderMirror b;

    @AfterEach
    void stop() {
        FolderMirror.HELD.clear();
        if (b != null) {
            b.close();
        }
        if (a != null) {
            a.close();
        }
    }

    @Test
    void aFileWhoseChangeHasNotArrivedIsFetchedOnRead() throws Exception {
        int pa = MirrorSettings.freeTransportPort();
        int pb = MirrorSettings.freeTransportPort();
        String cluster = "read-" + System.nanoTime();
        a = FolderMirror.start(FolderMirror.settings("a", tmp, pa, List.of(pa, pb), cluster), FileSyncOptions.defaults());
        b = FolderMirror.start(FolderMirror.settings("b", tmp, pb, List.of(pa, pb), cluster), FileSyncOptions.defaults());
        Await.until(Duration.ofSeconds(60), () -> b.files.synced() && b.transport.members().size() == 2,
                () -> "b " + b.files.status());
        FolderMirror.HELD.add("b"); // b's delivery lags: a's file change does not reach it

        byte[] image = new byte[700_000];
        new Random(7).nextBytes(image);
        Files.createDirectories(a.folder.resolve("items/42"));
        Files.write(a.folder.resolve("items/42/photo.jpg"), image);
        Await.until(Duration.ofSeconds(30), () -> a.files.status().folders().get(0).published() > 0,
                () -> "a has not published the new file: " + a.files.status());
        Path read = b.files.open("u", "items/42/photo.jpg", Duration.ofSeconds(20));
        assertArrayEquals(image, Files.readAllBytes(read));
        assertTrue(read.startsWith(b.folder));

        assertThrows(FileNotFoundException.class, () -> b.files.open("u", "items/43/none.jpg", Duration.ofMillis(500)));
        assertThrows(FileNotFoundException.class, () -> b.files.open("u", "../escape", Duration.ofMillis(500)));

        // The change arrives later and changes nothing: the same version is here already.
        FolderMirror.HELD.clear();
        Await.until(Duration.ofSeconds(30), () -> b.delivery.applied().getOrDefault("a", 0L) >= 1
                && b.files.status().settled(), () -> "b " + b.files.status() + " applied " + b.delivery.applied());
        assertArrayEquals(image, Files.readAllBytes(b.folder.resolve("items/42/photo.jpg")));
    }
}
