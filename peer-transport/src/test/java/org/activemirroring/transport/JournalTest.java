package org.activemirroring.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalTest {

    @TempDir
    Path dir;

    /** A hash-chained history of {@code n} envelopes of {@code origin}. */
    static List<Envelope> chain(String origin, int n) {
        List<Envelope> out = new ArrayList<>();
        byte[] prev = EnvelopeCodec.zeroHash();
        for (int i = 1; i <= n; i++) {
            Envelope e = EnvelopeCodecTest.envelope(origin, i, prev, origin + "-" + i);
            out.add(e);
            prev = EnvelopeCodec.hash(e);
        }
        return out;
    }

    @Test
    void reopenKeepsEverything() throws IOException {
        List<Envelope> a = chain("a", 5);
        List<Envelope> b = chain("b", 3);
        try (Journal j = Journal.open(dir)) {
            for (Envelope e : a) {
                assertTrue(j.append(e, true));
            }
            for (Envelope e : b) {
                assertTrue(j.append(e, false));
            }
        }
        try (Journal j = Journal.open(dir)) {
            assertEquals(Map.of("a", 5L, "b", 3L), j.heads());
            assertEquals(a, j.read("a", 1, 100));
            assertEquals(b.subList(1, 3), j.read("b", 2, 100));
            assertEquals(a.subList(3, 5), j.tail("a", 2));
            assertEquals(a.subList(1, 3), j.read("a", 2, 2));
            assertEquals(List.of(), j.read("a", 6, 10));
            assertEquals(List.of(), j.read("zzz", 1, 10));
            assertEquals(0, j.head("zzz"));
        }
    }

    @Test
    void duplicatesAndOldSeqsAreIgnored() throws IOException {
        List<Envelope> a = chain("a", 3);
        try (Journal j = Journal.open(dir)) {
            for (Envelope e : a) {
                j.append(e, false);
            }
            assertFalse(j.append(a.get(2), false));
            assertFalse(j.append(a.get(0), false));
            assertEquals(3, j.head("a"));
            assertEquals(a, j.read("a", 1, 10));
        }
    }

    @Test
    void forwardJumpIsAllowedAndReadStopsAtTheGap() throws IOException {
        List<Envelope> a = chain("a", 10);
        try (Journal j = Journal.open(dir)) {
            j.append(a.get(0), false);
            j.append(a.get(1), false);
            assertTrue(j.append(a.get(6), false));
            assertEquals(7, j.head("a"));
            assertEquals(a.subList(0, 2), j.read("a", 1, 10));
            assertEquals(List.of(), j.read("a", 3, 10));
            assertEquals(List.of(a.get(6)), j.read("a", 7, 10));
        }
    }

    @Test
    void tornTailIsCutAndEarlierRecordsSurvive() throws IOException {
        List<Envelope> a = chain("a", 4);
        try (Journal j = Journal.open(dir)) {
            for (Envelope e : a) {
                j.append(e, false);
            }
        }
        Path file = onlySegment("a");
        long size = Files.size(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size - 5); // the last record is torn mid-body
        }
        try (Journal j = Journal.open(dir)) {
            assertEquals(3, j.head("a"));
            assertEquals(a.subList(0, 3), j.read("a", 1, 10));
            // the cut seq can be written again
            assertTrue(j.append(a.get(3), false));
        }
        try (Journal j = Journal.open(dir)) {
            assertEquals(a, j.read("a", 1, 10));
        }
    }

    @Test
    void garbageAppendedIsCut() throws IOException {
        List<Envelope> a = chain("a", 3);
        try (Journal j = Journal.open(dir)) {
            for (Envelope e : a) {
                j.append(e, false);
            }
        }
        Path file = onlySegment("a");
        long size = Files.size(file);
        Files.write(file, new byte[] {0, 0, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                21, 22, 23}, StandardOpenOption.APPEND);
        try (Journal j = Journal.open(dir)) {
            assertEquals(a, j.read("a", 1, 10));
        }
        assertEquals(size, Files.size(file));
    }

    @Test
    void flippedByteInTheMiddleCutsFromThere() throws IOException {
        List<Envelope> a = chain("a", 3);
        try (Journal j = Journal.open(dir)) {
            for (Envelope e : a) {
                j.append(e, false);
            }
        }
        Path file = onlySegment("a");
        byte[] bytes = Files.readAllBytes(file);
        int recordLen = bytes.length / 3;
        bytes[recordLen + 20] ^= 0x55; // inside the second record
        Files.write(file, bytes);
        try (Journal j = Journal.open(dir)) {
            assertEquals(a.subList(0, 1), j.read("a", 1, 10));
        }
    }

    @Test
    void originNamesAreFileSafe() {
        assertEquals("node-1", Journal.encodeName("node-1"));
        String odd = "../Etc/ä b";
        String enc = Journal.encodeName(odd);
        assertTrue(enc.matches("[a-z0-9_\\-]+"), enc);
        assertEquals(odd, Journal.decodeName(enc));
        assertEquals(null, Journal.decodeName("bad_z"));
        assertEquals(null, Journal.decodeName("Upper"));
    }

    @Test
    void readStopsAtByteLimit() throws IOException {
        List<Envelope> a = chain("a", 5);
        try (Journal j = Journal.open(dir)) {
            for (Envelope e : a) {
                j.append(e, false);
            }
            assertEquals(1, j.read("a", 1, 10, 1).size());
        }
    }

    /** The one segment file of {@code origin} (tests that write less than a segment). */
    private Path onlySegment(String origin) throws IOException {
        try (var files = Files.list(dir)) {
            List<Path> segs = files.filter(f -> f.getFileName().toString().startsWith(origin + "@")).toList();
            assertEquals(1, segs.size(), "segments of " + origin + ": " + segs);
            return segs.get(0);
        }
    }

    @Test
    void segmentsRollAndRetentionDeletesOldOnesButNeverUndeliveredOrTheCurrentOne() throws IOException {
        List<Envelope> a = chain("a", 40);
        try (Journal j = Journal.open(dir, 400)) { // a few envelopes per segment
            for (Envelope e : a) {
                j.append(e, false);
            }
            long segments;
            try (var files = Files.list(dir)) {
                segments = files.filter(f -> f.getFileName().toString().startsWith("a@")).count();
            }
            assertTrue(segments > 3, "segments: " + segments);
            // Nothing delivered past 10: only segments ending at or below 10 may go.
            int removed = j.prune(0, java.time.Duration.ofDays(1), java.time.Instant.now(), Map.of("a", 10L));
            assertTrue(removed > 0 && removed <= 10, "removed " + removed);
            long first = j.first("a");
            assertTrue(first > 1 && first <= 11, "first " + first);
            assertEquals(List.of(), j.read("a", 1, 5), "pruned envelopes are gone");
            assertEquals(a.get((int) first - 1), j.read("a", first, 1).get(0));
            // Everything delivered: all but the segment being written go.
            j.prune(0, java.time.Duration.ofDays(1), java.time.Instant.now(), Map.of());
            assertEquals(40, j.head("a"));
            assertEquals(a.subList((int) j.first("a") - 1, 40), j.read("a", j.first("a"), 100));
            // Age: young segments stay when the size is within bounds.
            assertEquals(0, j.prune(Long.MAX_VALUE, java.time.Duration.ofDays(1), java.time.Instant.now(), Map.of()));
        }
        try (Journal j = Journal.open(dir, 400)) { // reopening finds the remaining segments in order
            assertEquals(40, j.head("a"));
            assertTrue(j.first("a") > 1);
            Envelope next = chain("a", 41).get(40);
            assertTrue(j.append(next, true));
            assertEquals(41, j.head("a"));
        }
    }

    @Test
    void aSecondJournalOnTheSameDirectoryIsRefused() throws IOException {
        try (Journal j = Journal.open(dir)) {
            IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> Journal.open(dir));
            assertTrue(e.getMessage().contains("mirror.data.dir"), e.getMessage());
        }
        Journal.open(dir).close(); // free again once closed
    }
}
