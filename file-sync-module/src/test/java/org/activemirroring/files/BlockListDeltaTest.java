package org.activemirroring.files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Block-list deltas: a delta made between two lists rebuilds the second from the first, names its
 * base exactly, travels in {@link FileChangeCodec}'s format 2, and is refused whole when it is
 * malformed or does not fit the base it is applied to.
 */
class BlockListDeltaTest {
    private static final Chunker SMALL = new Chunker(new ChunkSizes(2 * 1024, 8 * 1024, 32 * 1024));
    private final FileChangeCodec codec = new FileChangeCodec();

    /**
     * Blocks of {@code data} as an index holds them, cut small (8 KiB on average) so a 1 MiB file
     * has over a hundred: what a block-list delta does does not depend on the sizes.
     */
    private static List<FolderEntry.BlockRef> cut(byte[] data) {
        return SMALL.cut(data).stream().map(b -> new FolderEntry.BlockRef(b.offset(), b.length(), b.hex()))
                .toList();
    }

    private static String sha(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** {@code data} with {@code len} new bytes written over it at {@code at}. */
    private static byte[] overwrite(byte[] data, int at, int len, long seed) {
        byte[] out = data.clone();
        System.arraycopy(random(len, seed), 0, out, at, len);
        return out;
    }

    /** {@code data} with {@code len} new bytes inserted at {@code at}. */
    private static byte[] insert(byte[] data, int at, int len, long seed) {
        byte[] out = new byte[data.length + len];
        System.arraycopy(data, 0, out, 0, at);
        System.arraycopy(random(len, seed), 0, out, at, len);
        System.arraycopy(data, at, out, at + len, data.length - at);
        return out;
    }

    private static FolderEntry entry(byte[] data) {
        return new FolderEntry("docs/f.bin", data.length, 1_700_000_000_000L, 0644, null, sha(data), cut(data),
                Map.of("web-1", 2L), false, "web-1");
    }

    /** Asserts the delta from {@code before} to {@code after} rebuilds {@code after}'s list, and returns it. */
    private static BlockListDelta roundTrip(byte[] before, byte[] after) {
        FolderEntry base = entry(before);
        FolderEntry target = entry(after);
        BlockListDelta d = BlockListDelta.between(base.sha256Hex(), base.blocks(), target.blocks());
        assertTrue(d.hasBase(base));
        assertEquals(target.blocks(), d.apply(base.blocks(), after.length));
        return d;
    }

    @Test
    void editsOfEveryKindAreRebuiltFromTheBase() {
        byte[] v0 = random(1 << 20, 1);
        BlockListDelta inPlace = roundTrip(v0, overwrite(v0, 500_000, 10_000, 2));
        int blocks = cut(v0).size();
        assertTrue(blocks > 100, blocks + " blocks");
        // An edit of 1% of the file changes the few blocks around it, whatever the chunk sizes.
        assertTrue(inPlace.newBlocks().size() <= blocks / 20, "an edit of 10 KB: " + inPlace);
        assertTrue(inPlace.runs().size() <= 3, "copy, new, copy: " + inPlace.runs());

        BlockListDelta inserted = roundTrip(v0, insert(v0, 300_000, 10_000, 3));
        assertTrue(inserted.newBlocks().size() <= blocks / 20, inserted.toString());
        roundTrip(v0, insert(v0, 0, 5_000, 4)); // at the start
        roundTrip(v0, Arrays.copyOf(v0, v0.length + 20_000)); // appended
        roundTrip(v0, Arrays.copyOfRange(v0, 100_000, v0.length)); // the head cut off
        byte[] cutOut = new byte[v0.length - 50_000];
        System.arraycopy(v0, 0, cutOut, 0, 400_000);
        System.arraycopy(v0, 450_000, cutOut, 400_000, v0.length - 450_000);
        roundTrip(v0, cutOut); // a range removed
        byte[] swapped = new byte[v0.length];
        System.arraycopy(v0, 600_000, swapped, 0, v0.length - 600_000);
        System.arraycopy(v0, 0, swapped, v0.length - 600_000, 600_000);
        BlockListDelta moved = roundTrip(v0, swapped); // halves swapped: copies from anywhere in the base
        assertTrue(moved.newBlocks().size() <= 6, "new blocks only around the seams: " + moved);
        byte[] twice = new byte[2 * v0.length];
        System.arraycopy(v0, 0, twice, 0, v0.length);
        System.arraycopy(v0, 0, twice, v0.length, v0.length);
        roundTrip(v0, twice); // every base block used twice
        BlockListDelta fresh = roundTrip(v0, random(1 << 20, 5)); // nothing in common
        assertEquals(cut(random(1 << 20, 5)).size(), fresh.newBlocks().size());
    }

    @Test
    void anEditTravelsInAFractionOfTheWholeList() {
        byte[] v0 = random(1 << 20, 6);
        byte[] v1 = overwrite(v0, 700_000, 10_000, 7);
        FolderEntry base = entry(v0);
        FolderEntry target = entry(v1).bumped("web-2");
        BlockListDelta d = BlockListDelta.between(base.sha256Hex(), base.blocks(), target.blocks());
        byte[] full = codec.encode(new FileChange("u", target));
        byte[] delta = codec.encode(new FileChange("u", target.withBlocks(List.of()), d));
        assertEquals(FileChangeCodec.DELTA_FORMAT, delta[0]);
        assertTrue(delta.length * 5 < full.length, "delta " + delta.length + " bytes, full " + full.length);

        FileChange back = codec.decode(delta, "web-2");
        assertEquals(d, back.delta());
        assertTrue(back.entry().blocksElided(), "the entry itself carries no blocks");
        assertEquals(target.sha256Hex(), back.entry().sha256Hex());
        assertEquals(target.versions(), back.entry().versions());
        assertEquals(target.blocks(), back.delta().apply(base.blocks(), back.entry().size()));
        assertArrayEquals(delta, codec.encode(back), "re-encoding gives the same bytes");
    }

    @Test
    void aListOtherThanTheBaseIsNotTakenForIt() {
        byte[] v0 = random(300_000, 8);
        FolderEntry base = entry(v0);
        BlockListDelta d = BlockListDelta.between(base.sha256Hex(), base.blocks(),
                entry(overwrite(v0, 1000, 100, 9)).blocks());
        assertTrue(d.hasBase(base));
        assertFalse(d.hasBase(null));
        assertFalse(d.hasBase(entry(random(300_000, 10))), "other content");
        assertFalse(d.hasBase(base.toTombstone(5)), "a tombstone");
        // The same content hash with another cut (other chunk sizes): the list check tells them apart.
        List<FolderEntry.BlockRef> other = new Chunker(new ChunkSizes(64, 1024, 4096)).cut(v0).stream()
                .map(b -> new FolderEntry.BlockRef(b.offset(), b.length(), b.hex())).toList();
        assertFalse(d.hasBase(base.withBlocks(other)));
        List<FolderEntry.BlockRef> sameCount = new ArrayList<>(base.blocks());
        FolderEntry.BlockRef last = sameCount.remove(sameCount.size() - 1);
        sameCount.add(new FolderEntry.BlockRef(last.offset(), last.length(), "0".repeat(64)));
        assertFalse(d.hasBase(base.withBlocks(sameCount)), "as many blocks, one other");
        assertThrows(FileChangeFormatException.class, () -> d.apply(base.blocks().subList(1, base.blocks().size()),
                300_000), "a base of another length is refused");
    }

    @Test
    void aDeltaThatDoesNotAddUpToTheFileIsRefusedWhole() {
        byte[] v0 = random(300_000, 11);
        FolderEntry base = entry(v0);
        byte[] v1 = overwrite(v0, 5000, 100, 12);
        BlockListDelta d = BlockListDelta.between(base.sha256Hex(), base.blocks(), entry(v1).blocks());
        FileChangeFormatException shorter = assertThrows(FileChangeFormatException.class,
                () -> d.apply(base.blocks(), v1.length + 1));
        assertTrue(shorter.getMessage().contains("add up to"), shorter.getMessage());
        assertThrows(FileChangeFormatException.class, () -> d.apply(base.blocks(), v1.length - 1));
        // A run reaching past the base, made by hand (the reader refuses it too, see below).
        BlockListDelta past = new BlockListDelta(base.sha256Hex(), base.blocks().size(), BlockListDelta.listCheck(
                base.blocks()), List.of(new BlockListDelta.Run(1, base.blocks().size(), List.of())));
        assertTrue(assertThrows(FileChangeFormatException.class, () -> past.apply(base.blocks(), v0.length))
                .getMessage().contains("of a base of"));
    }

    private byte[] payload(DeltaBody delta) throws IOException {
        return payload(100_000, delta);
    }

    /** A format-2 payload for a file of {@code size} bytes with {@code delta} written by hand after the content hash. */
    private byte[] payload(long size, DeltaBody delta) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(FileChangeCodec.DELTA_FORMAT);
            out.writeUTF("u");
            out.writeUTF("f.bin");
            out.writeByte(0);
            out.writeLong(size);
            out.writeLong(5);
            out.writeInt(-1);
            out.write(new byte[32]);
            delta.write(out);
            out.writeInt(1);
            out.writeUTF("web-1");
            out.writeLong(1);
        }
        return bytes.toByteArray();
    }

    @FunctionalInterface
    private interface DeltaBody {
        void write(DataOutputStream out) throws IOException;
    }

    /** Base hash, a base of 10 blocks, a check, then {@code runs}. */
    private static DeltaBody delta(long runCount, long... varints) {
        return out -> {
            out.write(new byte[32]);
            BlockListDelta.writeVarint(out, 10);
            out.writeLong(42);
            BlockListDelta.writeVarint(out, runCount);
            for (long v : varints) {
                BlockListDelta.writeVarint(out, v);
            }
        };
    }

    private String refusal(byte[] payload) {
        return assertThrows(FileChangeFormatException.class, () -> codec.decode(payload, "evil")).getMessage();
    }

    @Test
    void malformedDeltasFromTheNetworkAreRefusedWhole() throws IOException {
        // A well-formed one first: copy 10 blocks from 0.
        FileChange ok = codec.decode(payload(delta(1, 10 << 1, 0)), "web-1");
        assertEquals(List.of(new BlockListDelta.Run(0, 10, List.of())), ok.delta().runs());

        assertTrue(refusal(payload(delta(0))).contains("0 runs"));
        assertTrue(refusal(payload(delta(1, 0, 0))).contains("holds 0 blocks"), "an empty run");
        assertTrue(refusal(payload(delta(1, 4 << 1, 7))).contains("of a base of 10"), "copies past the base");
        assertTrue(refusal(payload(out -> {
            out.write(new byte[32]);
            BlockListDelta.writeVarint(out, 0);
        })).contains("base of 0 blocks"));
        // A new block of length 0, and new blocks longer than the file.
        assertTrue(refusal(payload(delta(1, 1 << 1 | 1, 0))).contains("has length 0"));
        assertTrue(refusal(payload(delta(1, 1 << 1 | 1, 100_001))).contains("100000-byte file"));
        // A varint that never ends, and every cut of a good payload.
        assertTrue(refusal(payload(out -> {
            out.write(new byte[32]);
            out.write(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 1});
        })).contains("varint"));
        byte[] whole = codec.encode(new FileChange("u", new FolderEntry("f.bin", 100_000, 5, null, null, "0".repeat(64),
                List.of(), Map.of("web-1", 1L), false), new BlockListDelta("0".repeat(64), 10, 42, List.of(
                new BlockListDelta.Run(0, 9, List.of()),
                new BlockListDelta.Run(-1, 1, List.of(new BlockListDelta.NewBlock(777, "1".repeat(64))))))));
        codec.decode(whole, "web-1");
        for (int cut = 1; cut < whole.length; cut++) {
            byte[] part = Arrays.copyOf(whole, cut);
            assertThrows(FileChangeFormatException.class, () -> codec.decode(part, "w"), "cut at " + cut);
        }
        // A delta never marks a tombstone or a left-out list, and never describes an empty file.
        byte[] flagged = whole.clone();
        flagged[1 + 2 + 1 + 2 + "f.bin".length()] = 2;
        assertTrue(refusal(flagged).contains("flags"));
        assertTrue(refusal(payload(0, delta(1, 10 << 1, 0))).contains("empty file"));
    }
}
