package org.activemirroring.files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkerTest {

    private static final int MiB = 1024 * 1024;
    private static final int KiB = 1024;

    private static byte[] random(long seed, int size) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }

    private static Set<String> hashes(List<Block> blocks) {
        return blocks.stream().map(Block::hex).collect(Collectors.toSet());
    }

    /** Blocks tile the input in order, each hash is the SHA-256 of its bytes, sizes respect the bounds. */
    private static void assertWellFormed(byte[] data, List<Block> blocks, ChunkSizes sizes) throws Exception {
        long offset = 0;
        for (int i = 0; i < blocks.size(); i++) {
            Block b = blocks.get(i);
            assertEquals(offset, b.offset(), "block " + i + " starts where the previous one ended");
            assertTrue(b.length() <= sizes.max(), "block " + i + " is at most max: " + b);
            if (i < blocks.size() - 1) {
                assertTrue(b.length() >= sizes.min(), "block " + i + " is at least min: " + b);
            }
            byte[] bytes = Arrays.copyOfRange(data, (int) b.offset(), (int) b.end());
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(bytes), b.sha256(), "hash of block " + i);
            offset = b.end();
        }
        assertEquals(data.length, offset, "blocks cover the whole input");
    }

    @Test
    void sameInputGivesSameBlocks() {
        byte[] data = random(1, 3 * MiB);
        assertEquals(Chunker.cutBytes(data), Chunker.cutBytes(data.clone()));
    }

    @Test
    void blocksCoverInputExactlyWithMatchingHashesAndBoundedSizes() throws Exception {
        for (int size : new int[] {5 * KiB, 100 * KiB, MiB + 17, 8 * MiB + 3}) {
            byte[] data = random(size, size);
            Chunker chunker = Chunker.forFileSize(size);
            List<Block> blocks = chunker.cut(data);
            assertWellFormed(data, blocks, chunker.sizes());
        }
    }

    @Test
    void boundsHoldOnLowEntropyInput() throws Exception {
        // All zeros never matches the mask the same way random data does: max must still cut.
        byte[] zeros = new byte[3 * MiB];
        Chunker chunker = Chunker.forFileSize(zeros.length);
        List<Block> blocks = chunker.cut(zeros);
        assertWellFormed(zeros, blocks, chunker.sizes());
        assertEquals(1, hashes(blocks.subList(0, blocks.size() - 1)).size(), "repeated content gives one block hash");
    }

    @Test
    void averageBlockSizeIsNearTheTarget() {
        byte[] data = random(7, 16 * MiB);
        Chunker chunker = Chunker.forFileSize(data.length);
        List<Block> blocks = chunker.cut(data);
        double mean = (double) data.length / blocks.size();
        int avg = chunker.sizes().avg();
        assertTrue(mean > avg * 0.75 && mean < avg * 1.5, "mean block " + mean + " vs avg " + avg);
    }

    @Test
    void insertingNearTheStartKeepsMostBlocks() {
        byte[] original = random(42, 8 * MiB);
        byte[] inserted = new byte[original.length + 7];
        int at = 1000;
        System.arraycopy(original, 0, inserted, 0, at);
        System.arraycopy("INSERT!".getBytes(), 0, inserted, at, 7);
        System.arraycopy(original, at, inserted, at + 7, original.length - at);

        List<Block> before = Chunker.cutBytes(original);
        List<Block> after = Chunker.cutBytes(inserted);
        Set<String> old = hashes(before);
        long changed = after.stream().filter(b -> !old.contains(b.hex())).count();
        assertTrue(before.size() >= 12, "enough blocks to judge: " + before.size());
        assertTrue(changed <= 2, changed + " of " + after.size() + " blocks changed after inserting 7 bytes");
    }

    @Test
    void changingBytesInTheMiddleChangesOnlyNearbyBlocks() {
        byte[] original = random(43, 8 * MiB);
        byte[] modified = original.clone();
        int at = 4 * MiB + 12345;
        for (int i = 0; i < 100; i++) {
            modified[at + i] ^= (byte) 0x5A;
        }
        List<Block> before = Chunker.cutBytes(original);
        List<Block> after = Chunker.cutBytes(modified);
        Set<String> old = hashes(before);
        List<Block> changed = after.stream().filter(b -> !old.contains(b.hex())).toList();
        assertTrue(changed.size() <= 2, changed.size() + " of " + after.size() + " blocks changed");
        int max = Chunker.forFileSize(modified.length).sizes().max();
        for (Block b : changed) {
            assertTrue(b.end() > at - max && b.offset() < at + 100 + max, "changed block near the change: " + b);
        }
    }

    @Test
    void emptyInputHasNoBlocks(@TempDir Path dir) throws IOException {
        assertEquals(List.of(), Chunker.cutBytes(new byte[0]));
        Path empty = Files.createFile(dir.resolve("empty"));
        assertEquals(List.of(), Chunker.cutFile(empty));
    }

    @Test
    void inputBelowMinimumIsOneBlock() throws Exception {
        ChunkSizes sizes = ChunkSizes.forFileSize(3000);
        byte[] data = random(3, sizes.min() - 1);
        List<Block> blocks = Chunker.cutBytes(data);
        assertEquals(1, blocks.size());
        assertEquals(new Block(0, data.length, MessageDigest.getInstance("SHA-256").digest(data)), blocks.get(0));
        assertEquals(1, Chunker.cutBytes(new byte[] {1}).size());
    }

    @Test
    void streamingFromAFileGivesTheSameBlocksAsTheByteArray(@TempDir Path dir) throws IOException {
        for (int size : new int[] {1, 4 * KiB, 300 * KiB + 1, 9 * MiB + 5}) {
            byte[] data = random(size + 1L, size);
            Path file = dir.resolve("f" + size);
            Files.write(file, data);
            List<Block> expected = Chunker.cutBytes(data);
            assertEquals(expected, Chunker.cutFile(file), "file of " + size + " bytes");
            assertEquals(expected, Chunker.forFileSize(size).cut(new ByteArrayInputStream(data)), "stream of " + size);
        }
    }

    @Test
    void streamingDoesNotDependOnHowReadsAreSplit() throws IOException {
        byte[] data = random(11, 5 * MiB);
        Chunker chunker = Chunker.forFileSize(data.length);
        // A stream that returns at most 1000 bytes per read, like a slow pipe.
        ByteArrayInputStream trickle = new ByteArrayInputStream(data) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
                return super.read(b, off, Math.min(len, 1000));
            }
        };
        assertEquals(chunker.cut(data), chunker.cut(trickle));
    }

    @Test
    void sizesFollowTheFileSize() {
        assertEquals(new ChunkSizes(16 * KiB, 64 * KiB, 256 * KiB), ChunkSizes.forFileSize(0));
        assertEquals(new ChunkSizes(16 * KiB, 64 * KiB, 256 * KiB), ChunkSizes.forFileSize(100));
        assertEquals(new ChunkSizes(16 * KiB, 64 * KiB, 256 * KiB), ChunkSizes.forFileSize(2L * MiB - 1));
        assertEquals(new ChunkSizes(32 * KiB, 128 * KiB, 512 * KiB), ChunkSizes.forFileSize(2L * MiB));
        assertEquals(new ChunkSizes(128 * KiB, 512 * KiB, 2 * MiB), ChunkSizes.forFileSize(8L * MiB + 7));
        assertEquals(new ChunkSizes(128 * KiB, 512 * KiB, 2 * MiB), ChunkSizes.forFileSize(16L * MiB - 1));
        assertEquals(new ChunkSizes(256 * KiB, MiB, 4 * MiB), ChunkSizes.forFileSize(16L * MiB));
        assertEquals(new ChunkSizes(256 * KiB, MiB, 4 * MiB), ChunkSizes.forFileSize(1L << 40));
    }

    @Test
    void badSizesAreRefusedWithTheReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ChunkSizes(10, 3000, 100));
        assertTrue(e.getMessage().contains("min 10 is below 64"), e.getMessage());
        assertTrue(e.getMessage().contains("avg 3000 is not a power of two"), e.getMessage());
        assertTrue(e.getMessage().contains("not ordered"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ChunkSizes.forFileSize(-1));
    }

    @Test
    void blockHasHexFormAndValueEquality() {
        byte[] hash = new byte[32];
        hash[0] = (byte) 0xAB;
        hash[31] = 0x01;
        Block b = new Block(5, 10, hash);
        assertEquals("ab" + "00".repeat(30) + "01", b.hex());
        hash[0] = 0;
        assertEquals("ab", b.hex().substring(0, 2), "the block copied its hash");
        assertEquals(new Block(5, 10, b.sha256()), b);
        assertEquals(15, b.end());
        assertThrows(IllegalArgumentException.class, () -> new Block(0, 0, new byte[32]));
        assertThrows(IllegalArgumentException.class, () -> new Block(0, 1, new byte[31]));
    }

    @Test
    void gearTableIsPinned() {
        // The table is part of the protocol: every mirror, every version must cut alike.
        long[] gear = Chunker.gearTable(Chunker.GEAR_SEED);
        assertEquals(0xE220A8397B1DCDAFL, Chunker.gearTable(0)[0], "SplitMix64's reference first output");
        assertEquals(256, gear.length);
        assertEquals(256, Arrays.stream(gear).distinct().count());
        assertEquals(PINNED_GEAR_0, gear[0]);
        assertEquals(PINNED_GEAR_255, gear[255]);
    }

    @Test
    void cutPointsArePinned() {
        // Fails if the gear table, masks or sizes change: that would re-cut every file on every mirror.
        List<Block> blocks = Chunker.cutBytes(random(2026, 2 * MiB));
        assertEquals(PINNED_CUTS, blocks.stream().limit(5).map(b -> b.offset() + "+" + b.length()).toList().toString());
        assertEquals(PINNED_FIRST_HASH, blocks.get(0).hex());
    }

    private static final long PINNED_GEAR_0 = 4422147408358251497L;
    private static final long PINNED_GEAR_255 = -3587032858907371071L;
    private static final String PINNED_CUTS = "[0+133337, 133337+140568, 273905+141014, 414919+153192, 568111+151246]";
    private static final String PINNED_FIRST_HASH = "b59340cc629aa1b52bc3d632824f501442a3dfbda80598fb85535738c79163ca";
}
