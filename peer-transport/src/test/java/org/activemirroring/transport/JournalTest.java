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
        Path file = dir.resolve("a.journal");
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
        Path file = dir.resolve("a.journal");
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
        Path file = dir.resolve("a.journal");
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
}
