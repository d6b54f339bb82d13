package org.activemirroring.files.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.activemirroring.files.FolderEntry;
import org.junit.jupiter.api.Test;

class BlockMapTest {

    private static final Path ROOT = Path.of("/srv/uploads").toAbsolutePath();
    private static final Path OTHER = Path.of("/srv/other").toAbsolutePath();
    private static final String H = "ab".repeat(32);

    private static FolderEntry entry(String path, String... hashes) {
        List<FolderEntry.BlockRef> refs = new java.util.ArrayList<>();
        for (int i = 0; i < hashes.length; i++) {
            refs.add(new FolderEntry.BlockRef(i * 100L, 100, hashes[i]));
        }
        return new FolderEntry(path, hashes.length * 100L, 1, null, null, "00".repeat(32), refs, Map.of(), false);
    }

    @Test
    void addRemoveAndClear() {
        BlockMap map = new BlockMap();
        map.add(ROOT, entry("a/x.bin", H, "cd".repeat(32)));
        map.add(OTHER, entry("y.bin", H));
        assertEquals(2, map.size());
        assertEquals(List.of(new BlockPlace(OTHER.resolve("y.bin"), 0, 100), new BlockPlace(ROOT.resolve("a/x.bin"), 0, 100)),
                map.places(H), "newest first");
        assertEquals(List.of(new BlockPlace(ROOT.resolve("a/x.bin"), 100, 100)), map.places("CD".repeat(32)));

        map.remove(ROOT, entry("a/x.bin", H, "cd".repeat(32)));
        assertEquals(1, map.size());
        assertEquals(List.of(new BlockPlace(OTHER.resolve("y.bin"), 0, 100)), map.places(H));

        map.add(ROOT, entry("z.bin", H));
        map.clear(OTHER);
        assertEquals(List.of(new BlockPlace(ROOT.resolve("z.bin"), 0, 100)), map.places(H));
        assertTrue(map.places("ee".repeat(32)).isEmpty());
    }

    @Test
    void keepsOnlyTheNewestPlacesOfAHash() {
        BlockMap map = new BlockMap();
        for (int i = 0; i < 10; i++) {
            map.add(ROOT, entry("f" + i, H));
        }
        List<BlockPlace> places = map.places(H);
        assertEquals(BlockMap.MAX_PLACES_PER_HASH, places.size());
        assertEquals(ROOT.resolve("f9"), places.get(0).file());
        assertEquals(ROOT.resolve("f6"), places.get(3).file());
        map.add(ROOT, entry("f9", H));
        assertEquals(BlockMap.MAX_PLACES_PER_HASH, map.places(H).size(), "the same place is not kept twice");
    }

    @Test
    void tombstonesHoldNothingAndUnsafePathsAreRefused() {
        BlockMap map = new BlockMap();
        map.add(ROOT, entry("gone", H).toTombstone(5));
        assertEquals(0, map.size());
        assertThrows(IllegalArgumentException.class, () -> map.add(ROOT, entry("../escape", H)));
    }

    private static FolderEntry stamped(String path, long size, long mtimeMs, String fileKey) {
        return new FolderEntry(path, size, mtimeMs, null, fileKey, "00".repeat(32),
                List.of(new FolderEntry.BlockRef(0, (int) size, H)), Map.of(), false);
    }

    @Test
    void keepsTheStampOfAFilesCurrentEntry() {
        BlockMap map = new BlockMap();
        Path file = ROOT.resolve("p.bin");
        FolderEntry first = stamped("p.bin", 100, 1_000, "(dev=1,ino=7)");
        FolderEntry second = stamped("p.bin", 100, 2_000, "(dev=1,ino=8)");
        map.add(ROOT, first);
        assertEquals(new FileStamp(100, 1_000, "(dev=1,ino=7)"), map.stamp(file));
        // The next version is added before the one it replaces is removed: its stamp stays.
        map.add(ROOT, second);
        map.remove(ROOT, first);
        assertEquals(new FileStamp(100, 2_000, "(dev=1,ino=8)"), map.stamp(file));
        map.remove(ROOT, second);
        assertEquals(null, map.stamp(file));
        // An entry without a file key (none on this file system) leaves the file unstamped: its blocks are checked.
        map.add(ROOT, first);
        map.add(ROOT, stamped("p.bin", 100, 3_000, null));
        assertEquals(null, map.stamp(file));
    }
}
