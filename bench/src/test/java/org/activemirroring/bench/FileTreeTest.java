package org.activemirroring.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTreeTest {

    @TempDir
    Path tmp;

    @Test
    void theSameSeedGivesTheSameTreeAndAnotherSeedAnotherOne() throws Exception {
        assertEquals(250L * 1000, FileTree.create(tmp.resolve("a"), 250, 1000, 7));
        FileTree.create(tmp.resolve("b"), 250, 1000, 7);
        FileTree.create(tmp.resolve("c"), 250, 1000, 8);
        assertEquals(FileTree.digest(tmp.resolve("a")), FileTree.digest(tmp.resolve("b")));
        assertNotEquals(FileTree.digest(tmp.resolve("a")), FileTree.digest(tmp.resolve("c")));
        List<Path> files = FileTree.regularFiles(tmp.resolve("a"));
        assertEquals(250, files.size());
        assertEquals(3, files.stream().map(Path::getParent).distinct().count(), "100 files per subdirectory");
        assertTrue(Files.isRegularFile(tmp.resolve("a/d00002/f0000249.bin")));
    }

    @Test
    void changeInPlaceKeepsSizesAndRewritesARunOfBytes() throws Exception {
        Path dir = tmp.resolve("t");
        FileTree.create(dir, 10, 10_000, 1);
        Path copy = tmp.resolve("copy");
        FileTree.create(copy, 10, 10_000, 1);
        FileTree.Change change = FileTree.changeInPlace(dir, 0.5, 0.1, 2);
        assertEquals(new FileTree.Change(5, 5 * 1000), change);
        int differing = 0;
        for (Path f : FileTree.regularFiles(dir)) {
            byte[] now = Files.readAllBytes(f);
            byte[] before = Files.readAllBytes(copy.resolve(dir.relativize(f)));
            assertEquals(before.length, now.length, "same size");
            int first = 0;
            while (first < now.length && now[first] == before[first]) {
                first++;
            }
            if (first < now.length) {
                differing++;
                int last = now.length - 1;
                while (now[last] == before[last]) {
                    last--;
                }
                assertTrue(last - first < 1000, "one contiguous run of at most 10% differs, got " + (last - first + 1));
            }
        }
        assertEquals(5, differing);
    }

    @Test
    void insertShiftsTheRestOfTheFile() throws Exception {
        Path dir = tmp.resolve("t");
        FileTree.create(dir, 1, 3_000_000, 3);
        Path file = FileTree.regularFiles(dir).get(0);
        byte[] before = Files.readAllBytes(file);
        assertEquals(new FileTree.Change(1, 300_000), FileTree.insert(dir, 1.0, 0.1, 4));
        byte[] now = Files.readAllBytes(file);
        assertEquals(before.length + 300_000, now.length);
        int prefix = 0;
        while (prefix < before.length && now[prefix] == before[prefix]) {
            prefix++;
        }
        // Past the inserted bytes the old content continues unchanged (a chance match of the first
        // inserted byte may move the split point by a byte or two).
        int offset = Math.min(prefix, before.length);
        for (int o = Math.max(0, offset - 4); o <= offset; o++) {
            if (Arrays.equals(Arrays.copyOfRange(now, o + 300_000, now.length), Arrays.copyOfRange(before, o, before.length))) {
                assertArrayEquals(Arrays.copyOf(before, o), Arrays.copyOf(now, o));
                return;
            }
        }
        throw new AssertionError("the file is not the old content with 300000 bytes inserted at " + offset);
    }

    @Test
    void smallFilesAreOneToFourKib() throws Exception {
        long bytes = FileTree.createSmall(tmp.resolve("s"), 300, 5);
        List<Path> files = FileTree.regularFiles(tmp.resolve("s"));
        assertEquals(300, files.size());
        long sum = 0;
        for (Path f : files) {
            long size = Files.size(f);
            assertTrue(size >= 1024 && size <= 4096, f + " has " + size + " bytes");
            sum += size;
        }
        assertEquals(bytes, sum);
    }

    @Test
    void editingAnEmptyFolderSaysToCreateTheTreeFirst() throws Exception {
        Files.createDirectories(tmp.resolve("empty"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FileTree.changeInPlace(tmp.resolve("empty"), 0.1, 0.1, 1));
        assertTrue(e.getMessage().contains("create the tree first"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> FileTree.insert(tmp.resolve("empty"), 0, 0.1, 1));
    }
}
