package org.activemirroring.files;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * A file's block list written against the block list of an earlier version of it (the base): runs
 * of blocks copied from the base, and the blocks the base does not have. An edit of a few bytes
 * of a large file changes one or two of its blocks (of ~1,000 for 1 GiB), so its change carries
 * those and a few runs instead of every block's length and hash (~36 bytes each).
 *
 * <p>The base is named by its content's SHA-256, and checked by its block count and the first 8
 * bytes of a SHA-256 over its list ({@link #listCheck}): a receiver applies a delta only to a list
 * that is exactly the base's, so a base cut by other chunk sizes (another release) or any other
 * mix-up is caught before a block is fetched. A receiver that holds no such list asks a peer for
 * the full one, as for a change that came without its list ({@link FolderEntry#blocksElided()}).
 *
 * <p>Wire form (inside {@link FileChangeCodec}'s format 2): base SHA-256 (32 bytes), base block
 * count (varint), list check (8 bytes), run count (varint), then per run a varint
 * {@code count << 1 | kind}: kind 0 copies {@code count} blocks of the base from the index that
 * follows (varint); kind 1 is {@code count} new blocks, each a length (varint) and a SHA-256.
 * Reading checks every count and bound against the announced base and file size; {@link #apply}
 * checks the rest (runs inside the base, blocks adding up to the file's size). Immutable.
 */
public final class BlockListDelta {
    /** A block of the new list that the base does not hold. */
    public record NewBlock(int length, String sha256Hex) {
        public NewBlock {
            Objects.requireNonNull(sha256Hex);
            if (length <= 0) {
                throw new IllegalArgumentException("block length " + length);
            }
        }
    }

    /** A run of the new list: {@code count} blocks of the base from {@code from}, or the given new blocks. */
    public record Run(int from, int count, List<NewBlock> blocks) {
        public Run {
            blocks = List.copyOf(blocks);
        }

        static Run copy(int from, int count) {
            return new Run(from, count, List.of());
        }

        static Run literal(List<NewBlock> blocks) {
            return new Run(-1, blocks.size(), blocks);
        }

        public boolean isCopy() {
            return from >= 0;
        }
    }

    private static final HexFormat HEX = HexFormat.of();
    private static final int HASH_BYTES = 32;

    private final String baseSha256Hex;
    private final int baseCount;
    private final long baseCheck;
    private final List<Run> runs;

    public BlockListDelta(String baseSha256Hex, int baseCount, long baseCheck, List<Run> runs) {
        this.baseSha256Hex = Objects.requireNonNull(baseSha256Hex);
        this.baseCount = baseCount;
        this.baseCheck = baseCheck;
        this.runs = List.copyOf(runs);
    }

    /**
     * The delta that turns {@code base} (the list of the content {@code baseSha256Hex}) into
     * {@code target}: each target block found in the base extends a copy run, preferring the base
     * block right after the previous one; the rest are new blocks.
     */
    public static BlockListDelta between(String baseSha256Hex, List<FolderEntry.BlockRef> base,
                                         List<FolderEntry.BlockRef> target) {
        Map<String, Integer> firstAt = new HashMap<>(base.size() * 2);
        for (int i = base.size() - 1; i >= 0; i--) {
            firstAt.put(key(base.get(i)), i);
        }
        List<Run> runs = new ArrayList<>();
        List<NewBlock> fresh = new ArrayList<>();
        int i = 0;
        int next = -1; // the base index after the last copy run
        while (i < target.size()) {
            FolderEntry.BlockRef t = target.get(i);
            String k = key(t);
            Integer at = next >= 0 && next < base.size() && key(base.get(next)).equals(k) ? Integer.valueOf(next)
                    : firstAt.get(k);
            if (at == null) {
                fresh.add(new NewBlock(t.length(), t.sha256Hex()));
                i++;
                continue;
            }
            if (!fresh.isEmpty()) {
                runs.add(Run.literal(fresh));
                fresh = new ArrayList<>();
            }
            int n = 1;
            while (i + n < target.size() && at + n < base.size() && key(target.get(i + n)).equals(key(base.get(at + n)))) {
                n++;
            }
            runs.add(Run.copy(at, n));
            i += n;
            next = at + n;
        }
        if (!fresh.isEmpty()) {
            runs.add(Run.literal(fresh));
        }
        return new BlockListDelta(baseSha256Hex, base.size(), listCheck(base), runs);
    }

    private static String key(FolderEntry.BlockRef b) {
        return b.sha256Hex() + ':' + b.length();
    }

    /** The first 8 bytes of the SHA-256 over each block's length (4 bytes) and hash: names a list exactly. */
    public static long listCheck(List<FolderEntry.BlockRef> blocks) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer len = ByteBuffer.allocate(Integer.BYTES);
            for (FolderEntry.BlockRef b : blocks) {
                md.update(len.clear().putInt(b.length()).array());
                md.update(HEX.parseHex(b.sha256Hex()));
            }
            return ByteBuffer.wrap(md.digest()).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    public String baseSha256Hex() {
        return baseSha256Hex;
    }

    public int baseCount() {
        return baseCount;
    }

    public List<Run> runs() {
        return runs;
    }

    /** The blocks the base does not hold, in order (what a receiver may have to fetch). */
    public List<NewBlock> newBlocks() {
        List<NewBlock> out = new ArrayList<>();
        for (Run r : runs) {
            out.addAll(r.blocks());
        }
        return out;
    }

    /** Whether {@code e} is this delta's base: a live entry of that content with exactly that block list. */
    public boolean hasBase(FolderEntry e) {
        return e != null && !e.tombstone() && baseSha256Hex.equals(e.sha256Hex()) && e.blocks().size() == baseCount
                && listCheck(e.blocks()) == baseCheck;
    }

    /**
     * The new block list, from the base's (see {@link #hasBase}), for a file of {@code size} bytes.
     *
     * @throws FileChangeFormatException when a run reaches outside the base or the blocks do not
     *                                   add up to {@code size}: nothing of the delta is taken
     */
    public List<FolderEntry.BlockRef> apply(List<FolderEntry.BlockRef> base, long size) {
        if (base.size() != baseCount) {
            throw new FileChangeFormatException("the delta is against " + baseCount + " blocks, the base has "
                    + base.size());
        }
        List<FolderEntry.BlockRef> out = new ArrayList<>();
        long offset = 0;
        for (Run r : runs) {
            if (r.isCopy()) {
                if ((long) r.from() + r.count() > base.size()) {
                    throw new FileChangeFormatException("a run copies blocks " + r.from() + " to "
                            + ((long) r.from() + r.count() - 1) + " of a base of " + base.size());
                }
                for (int i = r.from(); i < r.from() + r.count(); i++) {
                    FolderEntry.BlockRef b = base.get(i);
                    out.add(new FolderEntry.BlockRef(offset, b.length(), b.sha256Hex()));
                    offset += b.length();
                }
            } else {
                for (NewBlock b : r.blocks()) {
                    out.add(new FolderEntry.BlockRef(offset, b.length(), b.sha256Hex()));
                    offset += b.length();
                }
            }
            if (offset > size || out.size() > FileChangeCodec.MAX_BLOCKS) {
                break;
            }
        }
        if (offset != size || out.size() > FileChangeCodec.MAX_BLOCKS) {
            throw new FileChangeFormatException("the delta's blocks add up to " + (offset > size ? "more than " : "")
                    + offset + " bytes in " + out.size() + " blocks, the file has " + size);
        }
        return out;
    }

    void write(DataOutputStream out) throws IOException {
        out.write(HEX.parseHex(baseSha256Hex));
        writeVarint(out, baseCount);
        out.writeLong(baseCheck);
        writeVarint(out, runs.size());
        for (Run r : runs) {
            writeVarint(out, (long) r.count() << 1 | (r.isCopy() ? 0 : 1));
            if (r.isCopy()) {
                writeVarint(out, r.from());
            } else {
                for (NewBlock b : r.blocks()) {
                    writeVarint(out, b.length());
                    out.write(HEX.parseHex(b.sha256Hex()));
                }
            }
        }
    }

    /**
     * Reads what {@link #write} wrote, for a file of {@code size} bytes; {@code refuse} turns a
     * reason into the exception to throw.
     */
    static BlockListDelta read(DataInputStream in, long size, Function<String, FileChangeFormatException> refuse)
            throws IOException {
        String baseSha = hash(in);
        long baseCount = readVarint(in);
        if (baseCount < 1 || baseCount > FileChangeCodec.MAX_BLOCKS) {
            throw refuse.apply("a delta against a base of " + baseCount + " blocks");
        }
        long check = in.readLong();
        long runCount = readVarint(in);
        if (runCount < 1 || runCount > FileChangeCodec.MAX_BLOCKS) {
            throw refuse.apply("a delta of " + runCount + " runs");
        }
        List<Run> runs = new ArrayList<>((int) Math.min(runCount, 1024));
        long blocks = 0;
        long newBytes = 0;
        for (long i = 0; i < runCount; i++) {
            long head = readVarint(in);
            long count = head >>> 1;
            blocks += count;
            if (count < 1 || blocks > FileChangeCodec.MAX_BLOCKS) {
                throw refuse.apply("run " + i + " of the delta holds " + count + " blocks (" + blocks + " so far)");
            }
            if ((head & 1) == 0) {
                long from = readVarint(in);
                if (from + count > baseCount) {
                    throw refuse.apply("run " + i + " of the delta copies blocks " + from + " to " + (from + count - 1)
                            + " of a base of " + baseCount);
                }
                runs.add(Run.copy((int) from, (int) count));
            } else {
                List<NewBlock> fresh = new ArrayList<>((int) count);
                for (long j = 0; j < count; j++) {
                    long length = readVarint(in);
                    newBytes += length;
                    if (length < 1 || newBytes > size) {
                        throw refuse.apply("new block " + j + " of run " + i + " of the delta has length " + length
                                + " (" + newBytes + " new bytes) in a " + size + "-byte file");
                    }
                    fresh.add(new NewBlock((int) length, hash(in)));
                }
                runs.add(Run.literal(fresh));
            }
        }
        return new BlockListDelta(baseSha, (int) baseCount, check, runs);
    }

    private static String hash(DataInputStream in) throws IOException {
        byte[] h = new byte[HASH_BYTES];
        in.readFully(h);
        return HEX.formatHex(h);
    }

    /** Unsigned LEB128, as protobuf writes it. */
    static void writeVarint(DataOutputStream out, long v) throws IOException {
        if (v < 0) {
            throw new IllegalArgumentException("negative varint " + v);
        }
        while ((v & ~0x7FL) != 0) {
            out.writeByte((int) (v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out.writeByte((int) v);
    }

    /** At most 5 bytes (values below 2^35): more is refused as an {@link IOException}. */
    static long readVarint(DataInputStream in) throws IOException {
        long v = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            int b = in.readUnsignedByte();
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new IOException("a varint longer than 5 bytes");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlockListDelta d && d.baseSha256Hex.equals(baseSha256Hex) && d.baseCount == baseCount
                && d.baseCheck == baseCheck && d.runs.equals(runs);
    }

    @Override
    public int hashCode() {
        return Objects.hash(baseSha256Hex, baseCount, baseCheck, runs);
    }

    @Override
    public String toString() {
        return "BlockListDelta[base=" + baseSha256Hex.substring(0, 12) + " (" + baseCount + " blocks), runs=" + runs.size()
                + ", new blocks=" + newBlocks().size() + "]";
    }
}
