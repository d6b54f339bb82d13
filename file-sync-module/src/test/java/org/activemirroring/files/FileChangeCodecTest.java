package org.activemirroring.files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

class FileChangeCodecTest {
    private final FileChangeCodec codec = new FileChangeCodec();

    /** A live entry whose blocks are the chunker's cut of some random bytes. */
    private static FolderEntry live(String path, int size) {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        List<FolderEntry.BlockRef> blocks = Chunker.cutBytes(data).stream()
                .map(b -> new FolderEntry.BlockRef(b.offset(), b.length(), b.hex())).toList();
        String sha = HexFormat.of().formatHex(sha256(data));
        return new FolderEntry(path, size, 1_700_000_000_123L, 0644, "inode-7", sha, blocks,
                Map.of("web-1", 3L, "web-2", 1L), false);
    }

    private static byte[] sha256(byte[] data) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(data);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aLiveFileRoundTripsWithoutItsLocalFileKey() {
        FolderEntry e = live("images/2026/ä photo.jpg", 300_000);
        FileChange back = codec.decode(codec.encode(new FileChange("uploads", e)), "web-1");
        assertEquals("uploads", back.folder());
        FolderEntry b = back.entry();
        assertEquals(e.path(), b.path());
        assertEquals(e.size(), b.size());
        assertEquals(e.mtimeMs(), b.mtimeMs());
        assertEquals(e.mode(), b.mode());
        assertEquals(e.sha256Hex(), b.sha256Hex());
        assertEquals(e.blocks(), b.blocks());
        assertEquals(e.versions(), b.versions());
        assertNull(b.fileKey(), "the file key is this mirror's own");
        assertTrue(b.blocks().size() > 1, "several blocks: " + b.blocks().size());
    }

    @Test
    void anEmptyFileAndATombstoneRoundTrip() {
        FolderEntry empty = new FolderEntry("empty.txt", 0, 5, null, null,
                HexFormat.of().formatHex(sha256(new byte[0])), List.of(), Map.of("web-1", 1L), false);
        // The envelope's origin is the version's maker.
        assertEquals(empty.withModifiedBy("web-1"), codec.decode(codec.encode(new FileChange("u", empty)), "web-1").entry());
        FolderEntry gone = live("a/b.bin", 1000).toTombstone(99).bumped("web-2");
        FolderEntry back = codec.decode(codec.encode(new FileChange("u", gone)), "web-2").entry();
        assertTrue(back.tombstone());
        assertEquals(gone.versions(), back.versions());
        assertNull(back.sha256Hex());
        assertEquals(List.of(), back.blocks());
    }

    @Test
    void unsafePathsAreRefusedWithTheirOrigin() {
        for (String path : List.of("../etc/passwd", "/etc/passwd", "a//b", "a/./b", "nul\0byte")) {
            FolderEntry e = new FolderEntry(path, 0, 1, null, null, null, List.of(), Map.of("web-9", 1L), true);
            byte[] payload = codec.encode(new FileChange("uploads", e));
            FileChangeFormatException x = assertThrows(FileChangeFormatException.class,
                    () -> codec.decode(payload, "web-9"), path);
            assertTrue(x.getMessage().contains("web-9") && x.getMessage().contains("nothing of it is applied"),
                    x.getMessage());
        }
    }

    @Test
    void blocksThatDoNotAddUpToTheSizeAreRefused() {
        FolderEntry e = live("f.bin", 200_000);
        FolderEntry lying = new FolderEntry(e.path(), e.size() + 1, e.mtimeMs(), e.mode(), null, e.sha256Hex(),
                e.blocks(), e.versions(), false);
        byte[] payload = codec.encode(new FileChange("u", lying));
        FileChangeFormatException x = assertThrows(FileChangeFormatException.class, () -> codec.decode(payload, "w"));
        assertTrue(x.getMessage().contains("add up to"), x.getMessage());
    }

    @Test
    void truncatedOrLongerOrForeignPayloadsAreRefused() {
        byte[] good = codec.encode(new FileChange("u", live("f.bin", 50_000)));
        for (int cut : new int[] {0, 1, 5, good.length / 2, good.length - 1}) {
            byte[] part = Arrays.copyOf(good, cut);
            assertThrows(FileChangeFormatException.class, () -> codec.decode(part, "w"), "cut at " + cut);
        }
        byte[] longer = Arrays.copyOf(good, good.length + 3);
        assertTrue(assertThrows(FileChangeFormatException.class, () -> codec.decode(longer, "w")).getMessage()
                .contains("after the end"));
        byte[] other = good.clone();
        other[0] = 9;
        assertTrue(assertThrows(FileChangeFormatException.class, () -> codec.decode(other, "w")).getMessage()
                .contains("format 9"));
        assertArrayEquals(good, codec.encode(codec.decode(good, "w")), "re-encoding gives the same bytes");
    }

    @Test
    void aFolderNameOrVersionVectorThatCannotBeIsRefused() {
        FolderEntry e = new FolderEntry("x", 0, 1, null, null, null, List.of(), Map.of(), true);
        assertTrue(assertThrows(FileChangeFormatException.class,
                () -> codec.decode(codec.encode(new FileChange("u", e)), "w")).getMessage().contains("version vector"));
        FolderEntry ok = e.bumped("w");
        assertTrue(assertThrows(FileChangeFormatException.class,
                () -> codec.decode(codec.encode(new FileChange("Bad Name", ok)), "w")).getMessage()
                .contains("folder name"));
    }

    @Test
    void aRenamedFileTravelsWithoutItsBlockList() {
        FolderEntry moved = live("b/moved.bin", 70_000).withBlocks(List.of());
        assertTrue(moved.blocksElided());
        byte[] bytes = codec.encode(new FileChange("u", moved));
        FolderEntry back = codec.decode(bytes, "web-1").entry();
        assertTrue(back.blocksElided());
        assertEquals(moved.sha256Hex(), back.sha256Hex());
        assertEquals(70_000, back.size());
        assertTrue(bytes.length < 200, "no block list: " + bytes.length + " bytes");
        // Both flags at once is no state a file can be in.
        byte[] both = bytes.clone();
        int flagsAt = 1 + 2 + "u".length() + 2 + "b/moved.bin".length();
        both[flagsAt] = 3;
        assertThrows(FileChangeFormatException.class, () -> codec.decode(both, "web-1"));
    }
}
