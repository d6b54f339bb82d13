package org.activemirroring.files.transfer;

import static org.activemirroring.files.transfer.TransferFixtures.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlockReaderTest {

    @TempDir
    Path dir;

    private static byte[] sha(byte[] data, int from, int to) {
        return HexFormat.of().parseHex(TransferFixtures.sha256Hex(Arrays.copyOfRange(data, from, to)));
    }

    @Test
    void readsVerifiedBlocksFromFilesItKeepsOpenAndSeesThemChange() throws Exception {
        byte[] data = random(10_000, 1);
        Path f = dir.resolve("f.bin");
        Files.write(f, data);
        byte[] buf = new byte[1000];
        try (BlockReader reader = new BlockReader()) {
            assertTrue(reader.read(new BlockPlace(f, 2000, 1000), sha(data, 2000, 3000), 1000, buf, 0));
            assertArrayEquals(Arrays.copyOfRange(data, 2000, 3000), buf);
            // a place naming other bytes, another length, or past the end: stale, not an error
            assertFalse(reader.read(new BlockPlace(f, 2001, 1000), sha(data, 2000, 3000), 1000, buf, 0));
            assertFalse(reader.read(new BlockPlace(f, 2000, 999), sha(data, 2000, 3000), 1000, buf, 0));
            assertFalse(reader.read(new BlockPlace(f, 9500, 1000), sha(data, 2000, 3000), 1000, buf, 0));
            // the file is rewritten in place while open: the open channel reads the new bytes, which fail the check
            byte[] other = random(10_000, 2);
            Files.write(f, other);
            assertFalse(reader.read(new BlockPlace(f, 2000, 1000), sha(data, 2000, 3000), 1000, buf, 0));
            assertTrue(reader.read(new BlockPlace(f, 2000, 1000), sha(other, 2000, 3000), 1000, buf, 0));
        }
    }

    @Test
    void neverReadsThroughASymlinkNorAMissingFile() throws Exception {
        byte[] data = random(4_000, 3);
        Path real = dir.resolve("real.bin");
        Files.write(real, data);
        Path link = Files.createSymbolicLink(dir.resolve("link.bin"), real);
        byte[] buf = new byte[1000];
        try (BlockReader reader = new BlockReader()) {
            assertFalse(reader.read(new BlockPlace(link, 0, 1000), sha(data, 0, 1000), 1000, buf, 0));
            assertFalse(reader.read(new BlockPlace(dir.resolve("gone.bin"), 0, 1000), sha(data, 0, 1000), 1000, buf, 0));
            assertTrue(reader.read(new BlockPlace(real, 0, 1000), sha(data, 0, 1000), 1000, buf, 0));
        }
    }

    @Test
    void readsFromMoreFilesThanItKeepsOpen() throws Exception {
        int files = BlockReader.OPEN_FILES * 3;
        byte[][] data = new byte[files][];
        for (int i = 0; i < files; i++) {
            data[i] = random(2_000, 10 + i);
            Files.write(dir.resolve("f" + i), data[i]);
        }
        byte[] buf = new byte[500];
        try (BlockReader reader = new BlockReader()) {
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < files; i++) {
                    assertTrue(reader.read(new BlockPlace(dir.resolve("f" + i), 500, 500), sha(data[i], 500, 1000), 500,
                            buf, 0), "file " + i + " round " + round);
                }
            }
        }
    }

    /** A block map that stamps {@code f} as it looks now, with one block at 0..1000 of {@code data}. */
    private static BlockMap indexedAsNow(Path root, Path f, byte[] data) throws Exception {
        var a = Files.readAttributes(f, java.nio.file.attribute.BasicFileAttributes.class);
        org.activemirroring.files.FolderEntry e = new org.activemirroring.files.FolderEntry(
                root.relativize(f).toString(), a.size(), a.lastModifiedTime().toMillis(), null, a.fileKey().toString(),
                TransferFixtures.sha256Hex(data), java.util.List.of(new org.activemirroring.files.FolderEntry.BlockRef(0, 1000,
                        HexFormat.of().formatHex(sha(data, 0, 1000)))), java.util.Map.of(), false);
        BlockMap map = new BlockMap();
        map.add(root, e);
        return map;
    }

    @Test
    void servingPeersTrustsAFileThatStillLooksAsIndexedAndChecksOneThatMoved() throws Exception {
        byte[] data = random(4_000, 4);
        Path f = dir.resolve("s.bin");
        Files.write(f, data);
        Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(1_700_000_000_000L));
        BlockMap map = indexedAsNow(dir, f, data);
        BlockPlace first = map.places(HexFormat.of().formatHex(sha(data, 0, 1000))).get(0);
        byte[] buf = new byte[1000];
        try (BlockReader serving = BlockReader.serving(map)) {
            assertTrue(serving.read(first, sha(data, 0, 1000), 1000, buf, 0));
            assertArrayEquals(Arrays.copyOfRange(data, 0, 1000), buf);
            assertTrue(serving.unchecked() == 1, "read without hashing: " + serving.unchecked());
        }
        // Rewritten with the same size: the mtime moved, so its blocks are checked again and the stale one refused.
        Files.write(f, random(4_000, 5));
        Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(1_700_000_001_000L));
        try (BlockReader serving = BlockReader.serving(map)) {
            assertFalse(serving.read(first, sha(data, 0, 1000), 1000, buf, 0));
            assertTrue(serving.unchecked() == 0, "checked: " + serving.unchecked());
        }
        // This mirror's own copies always check, whatever the stamp says.
        Files.write(f, data);
        Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(1_700_000_000_000L));
        try (BlockReader own = new BlockReader()) {
            assertTrue(own.read(first, sha(data, 0, 1000), 1000, buf, 0));
            assertTrue(own.unchecked() == 0, "checked: " + own.unchecked());
        }
        // Forgotten with the folder's places.
        assertTrue(map.stamp(first.file()) != null);
        map.clear(dir);
        assertTrue(map.stamp(first.file()) == null);
    }
}
