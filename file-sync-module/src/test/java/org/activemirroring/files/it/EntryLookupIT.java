package org.activemirroring.files.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import org.activemirroring.testsupport.Await;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mirror that takes a change without its block list asks the peers for the list of the version it
 * wants, not for whatever version a peer holds of the path: a peer that lags (and holds an older
 * version) is passed over for the next one. Three mirrors that scan when told ({@link ConflictIT#BY_HAND});
 * m3 asks m1 first (peers are asked in the order of their ids).
 */
class EntryLookupIT {
    static final Duration WAIT = Duration.ofSeconds(30);
    static final Instant T = Instant.parse("2026-01-02T03:04:05.100Z");

    @TempDir
    Path tmp;
    FolderNetwork net;

    @BeforeEach
    void start() throws Exception {
        net = FolderNetwork.start(tmp, 3, ConflictIT.BY_HAND, WAIT);
        for (FolderMirror m : net.mirrors) {
            m.files.scanNow(); // the start's own first scans are done: from here on, scans are the test's
        }
    }

    @AfterEach
    void stop() {
        FolderMirror.HELD.clear();
        net.close();
    }

    /**
     * m2's edit arrives at m3 as a delta against v0, which m3 no longer holds (it scanned its own,
     * older, concurrent edit first), so m3 asks a peer for the list. m1 lags and still holds v0:
     * the list comes from m2, and m3 writes m2's version while m1 still lags.
     */
    @Test
    void aPeerHoldingAnotherVersionIsPassedOverForTheNext() throws Exception {
        FolderMirror m1 = net.get(0);
        FolderMirror m2 = net.get(1);
        FolderMirror m3 = net.get(2);
        byte[] v0 = new byte[1_200_000]; // about 18 blocks of 64 KiB
        new Random(11).nextBytes(v0);
        write(m2, "big.bin", v0, T);
        m2.files.scanNow();
        net.awaitSame(WAIT, false);
        long fetchedBefore = m3.files.status().bytesFetched();

        FolderMirror.HELD.add(m1.id); // m1 lags from here: it holds v0 of big.bin
        byte[] v3 = v0.clone();
        byte[] v2 = v0.clone();
        Arrays.fill(v3, 100_000, 103_000, (byte) 3);
        Arrays.fill(v2, 200_000, 203_000, (byte) 2);
        write(m2, "big.bin", v2, T.plusSeconds(60));
        write(m3, "big.bin", v3, T.plusSeconds(30));
        m3.files.scanNow();
        // m2 takes m3's edit as a delta against v0, then scans its own newer edit: a delta against v0.
        Await.until(WAIT, () -> m2.files.status().deltas().applied() >= 1, net::describe);
        m2.files.scanNow();

        Path file = m3.folder.resolve("big.bin");
        Await.until(WAIT, () -> m3.files.status().deltas().withoutBase() >= 1
                && Arrays.equals(v2, Files.readAllBytes(file)) && m3.files.status().settled(),
                () -> "m3 has not written m2's version while m1 lags (m1 holds "
                        + m1.delivery.applied() + "): " + net.describe());
        assertEquals(0, m1.files.status().deltas().applied() + m1.files.status().deltas().withoutBase(),
                "m1 took nothing meanwhile");

        FolderMirror.HELD.clear();
        net.awaitSame(WAIT, true);
        for (FolderMirror m : net.mirrors) {
            assertEquals(Map.of("big.bin", FolderDigest.sha256(v2),
                    "big.sync-conflict-20260102-030435-m3.bin", FolderDigest.sha256(v3)), FolderDigest.of(m.folder),
                    m.id + ": the newer edit wins, the older is the conflict copy");
            assertEquals(0, m.files.status().deltas().refused(), m.id);
        }
        long fetched = m3.files.status().bytesFetched() - fetchedBefore;
        assertTrue(fetched < v0.length / 4, "m3 fetched only the blocks around m2's edit, not the whole file: " + fetched);
    }

    private static void write(FolderMirror m, String rel, byte[] content, Instant mtime) throws Exception {
        Path file = m.folder.resolve(rel);
        Files.createDirectories(file.getParent());
        Files.write(file, content);
        Files.setLastModifiedTime(file, FileTime.from(mtime));
    }
}
