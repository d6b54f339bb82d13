package org.activemirroring.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderIndexTest {

    private static final String SHA_A = "a".repeat(64);
    private static final String SHA_B = "0123456789abcdef".repeat(4);

    @TempDir
    Path dataDir;

    private static FolderEntry entry(String path) {
        return new FolderEntry(path, 3, 1_700_000_000_123L, 0644, "(dev=803,ino=42)", SHA_A,
                List.of(new FolderEntry.BlockRef(0, 2, SHA_B), new FolderEntry.BlockRef(2, 1, SHA_A)),
                Map.of("web-1", 3L, "web 2=,%", 1L), false);
    }

    @Test
    void roundTripKeepsEveryField() throws Exception {
        Path file = FolderIndex.fileFor(dataDir, "uploads");
        FolderIndex index = FolderIndex.load(file);
        assertEquals(0, index.size());
        FolderEntry weird = entry("dir with space/ünï %20 -/line");
        FolderEntry tomb = new FolderEntry("gone-", 0, 5, null, null, null, List.of(), Map.of("x", 9L), true);
        FolderEntry bare = new FolderEntry("-", 0, 0, null, null, SHA_B, List.of(), Map.of(), false);
        index.put(weird);
        index.put(tomb);
        index.put(bare);
        index.save();

        FolderIndex again = FolderIndex.load(file);
        assertEquals(3, again.size());
        assertEquals(weird, again.get(weird.path()));
        assertEquals(tomb, again.get("gone-"));
        assertEquals(bare, again.get("-"));
        assertNull(again.get("nope"));
    }

    @Test
    void iteratesSortedByPath() throws Exception {
        Path file = FolderIndex.fileFor(dataDir, "u");
        FolderIndex index = FolderIndex.empty(file);
        for (String p : List.of("b/x", "a", "c", "a/b", "B")) {
            index.put(entry(p));
        }
        index.save();
        List<String> paths = FolderIndex.load(file).entries().stream().map(FolderEntry::path).toList();
        assertEquals(List.of("B", "a", "a/b", "b/x", "c"), paths);
    }

    @Test
    void aSaveAppendsWhatChangedAndTheLogIsFoldedInOnceLong() throws Exception {
        Path file = FolderIndex.fileFor(dataDir, "u");
        FolderIndex index = FolderIndex.empty(file);
        index.put(entry("a"));
        index.put(entry("b"));
        index.saveAll();
        index.put(entry("c"));
        index.remove("a");
        index.save();
        assertEquals(2, Files.readAllLines(index.logFile()).size(), "one line per changed path");
        FolderIndex again = FolderIndex.load(file);
        assertEquals(List.of("b", "c"), again.entries().stream().map(FolderEntry::path).toList());

        // A crash cut the last append: that line was never acknowledged and is left out; the next
        // append starts on a line of its own.
        Files.writeString(index.logFile(), "f half", java.nio.file.StandardOpenOption.APPEND);
        FolderIndex cut = FolderIndex.load(file);
        assertEquals(List.of("b", "c"), cut.entries().stream().map(FolderEntry::path).toList());
        cut.put(entry("d"));
        cut.save();
        assertEquals(List.of("b", "c", "d"), FolderIndex.load(file).entries().stream().map(FolderEntry::path).toList());

        for (int i = 0; i < FolderIndex.MIN_COMPACT_LINES; i++) {
            cut.put(entry("many/" + i));
            cut.save();
        }
        assertTrue(Files.notExists(cut.logFile()) || Files.readAllLines(cut.logFile()).size() < 10,
                "the log was folded into the index once it was as long");
        assertEquals(3 + FolderIndex.MIN_COMPACT_LINES, FolderIndex.load(file).size());
    }

    @Test
    void formatIsLineBasedAndVersioned() throws Exception {
        Path file = FolderIndex.fileFor(dataDir, "u");
        FolderIndex index = FolderIndex.empty(file);
        index.put(new FolderEntry("a b.txt", 3, 7, 0644, null, SHA_A, List.of(new FolderEntry.BlockRef(0, 3, SHA_A)),
                Map.of("m1", 2L), false));
        index.saveAll();
        assertEquals("activemirroring-folder-index 1\n"
                + "f a%20b.txt 3 7 644 - " + SHA_A + " live m1=2 0:3:" + SHA_A + " -\n"
                + "end 1\n", Files.readString(file));
    }

    @Test
    void leftoverTempFileIsIgnoredAndRemoved() throws Exception {
        Path file = FolderIndex.fileFor(dataDir, "u");
        FolderIndex index = FolderIndex.empty(file);
        index.put(entry("kept"));
        index.saveAll();
        // A crash mid-save leaves a half-written temp file beside the index.
        Path leftover = file.resolveSibling(FolderIndex.TEMP_PREFIX + file.getFileName() + "-deadbeef");
        Files.writeString(leftover, "activemirroring-folder-index 1\nf half");
        FolderIndex loaded = FolderIndex.load(file);
        assertEquals(1, loaded.size());
        assertEquals(entry("kept"), loaded.get("kept"));
        assertTrue(Files.notExists(leftover));
        try (var s = Files.list(file.getParent())) {
            assertEquals(List.of(file), s.toList(), "save leaves no temp file");
        }
    }

    @Test
    void truncatedIndexGivesAClearErrorNamingTheFile() throws Exception {
        Path file = FolderIndex.fileFor(dataDir, "u");
        FolderIndex index = FolderIndex.empty(file);
        index.put(entry("a"));
        index.put(entry("b"));
        index.saveAll();
        byte[] full = Files.readAllBytes(file);
        for (int cut : new int[] {full.length - 1, full.length - 4, full.length / 2, 10}) {
            Files.write(file, Arrays.copyOf(full, cut));
            FolderIndexException e = assertThrows(FolderIndexException.class, () -> FolderIndex.load(file),
                    "cut at " + cut);
            assertTrue(e.getMessage().startsWith("Folder index " + file + " is unreadable at line"), e.getMessage());
            assertTrue(e.getMessage().contains("move the file away"), e.getMessage());
            assertEquals(file, e.file());
        }
    }

    @Test
    void corruptIndexGivesAClearError() throws Exception {
        Path file = FolderIndex.fileFor(dataDir, "u");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "activemirroring-folder-index 1\nf a 1 2 - - xyz live - - -\nend 1\n");
        FolderIndexException e = assertThrows(FolderIndexException.class, () -> FolderIndex.load(file));
        assertTrue(e.getMessage().contains("line 2") && e.getMessage().contains("not a SHA-256"), e.getMessage());

        Files.writeString(file, "activemirroring-folder-index 2\nend 0\n");
        e = assertThrows(FolderIndexException.class, () -> FolderIndex.load(file));
        assertTrue(e.getMessage().contains("format version '2'"), e.getMessage());

        Files.writeString(file, "activemirroring-folder-index 1\nf ../x 1 2 - - - live - - -\nend 1\n");
        e = assertThrows(FolderIndexException.class, () -> FolderIndex.load(file));
        assertTrue(e.getMessage().contains("'..' segment"), e.getMessage());

        Files.writeString(file, "activemirroring-folder-index 1\nend 3\n");
        e = assertThrows(FolderIndexException.class, () -> FolderIndex.load(file));
        assertTrue(e.getMessage().contains("counts 3 entries but there are 0"), e.getMessage());

        Files.write(file, new byte[] {(byte) 0xff, (byte) 0xfe, 0});
        e = assertThrows(FolderIndexException.class, () -> FolderIndex.load(file));
        assertTrue(e.getMessage().contains("not UTF-8"), e.getMessage());
    }

    @Test
    void escapingRoundTripsAnyText() {
        for (String s : List.of("a", "-", "%", "a b,c=d;e:f", "ü\u0001\n文", "~._/")) {
            assertEquals(s, FolderIndex.dec(FolderIndex.enc(s)));
            assertTrue(FolderIndex.enc(s).chars().noneMatch(c -> c == ' ' || c == '\n' || c == ',' || c == '-'),
                    FolderIndex.enc(s));
        }
        assertEquals("%2D", FolderIndex.enc("-"));
        assertEquals("a", new String(FolderIndex.dec("a").getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
    }
}
