package org.activemirroring.files;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Cuts content into content-defined {@link Block}s, FastCDC style, so that an insertion or a
 * change moves only the cut points near it: the blocks before and after keep their bytes and so
 * their SHA-256, and need not be sent again (rsync's rolling checksum, without a round trip).
 *
 * <p>How a cut is found: a gear hash {@code fp = (fp << 1) + GEAR[byte]} rolls over the bytes
 * after the block's first {@code min} bytes; the block ends after the first byte where the top
 * bits of {@code fp} selected by a mask are all zero. Normalized chunking (level 2): before
 * {@code avg} the mask has {@code log2(avg) + 2} bits (a cut is 4x less likely), from {@code avg}
 * on it has {@code log2(avg) - 2} bits (4x more likely), which keeps block sizes close to the
 * average. A block never exceeds {@code max}. The top bits of {@code fp} are used because they
 * depend on the last 64 bytes, the low bits only on the last few.
 *
 * <p>Mirrors cut alike, so the same content has the same blocks everywhere and is found where it
 * already is instead of sent: the gear table comes from a fixed seed ({@link #GEAR_SEED}) through
 * SplitMix64, and the sizes from the file size alone ({@link ChunkSizes#forFileSize}). Changing
 * the seed, the masks or the sizes changes every block cut afterwards; mirrors still agree on
 * every file (see {@link ChunkSizes}), but share fewer blocks until files are cut again, so
 * change them only with a measured reason.
 *
 * <p>Streams are read through a buffer of {@code 2 * max} bytes (8 MiB for large files), never a
 * whole file. A {@code Chunker} is immutable and thread-safe; each call uses its own buffer and
 * digest. Arguments are never null.
 */
public final class Chunker {

    /** Seed of the gear table ("ActiveMi" in ASCII). Part of the protocol: never change it. */
    public static final long GEAR_SEED = 0x4163746976654D69L;

    private static final long[] GEAR = gearTable(GEAR_SEED);

    private final ChunkSizes sizes;
    private final long maskSmall;
    private final long maskLarge;

    /** A chunker with the given sizes; production code uses {@link #forFileSize(long)}. */
    public Chunker(ChunkSizes sizes) {
        this.sizes = Objects.requireNonNull(sizes, "sizes");
        int bits = Integer.numberOfTrailingZeros(sizes.avg());
        this.maskSmall = topBits(bits + 2);
        this.maskLarge = topBits(Math.max(1, bits - 2));
    }

    /** The chunker every mirror uses for a file of {@code fileSize} bytes. */
    public static Chunker forFileSize(long fileSize) {
        return new Chunker(ChunkSizes.forFileSize(fileSize));
    }

    /** Blocks of {@code data} with the sizes for its length, as {@link #cutFile} would give. */
    public static List<Block> cutBytes(byte[] data) {
        return forFileSize(data.length).cut(data);
    }

    /**
     * Blocks of a file, read streaming through a {@link FileChannel}, with the sizes for the
     * file's size when opened. If the file changes while it is read, the blocks describe the bytes
     * read, not any one version of the file: callers compare size and mtime before and after.
     */
    public static List<Block> cutFile(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            List<Block> blocks = new ArrayList<>();
            forFileSize(channel.size()).cut(channel, blocks::add);
            return blocks;
        }
    }

    /** The sizes this chunker cuts with. */
    public ChunkSizes sizes() {
        return sizes;
    }

    /** Blocks of a whole byte array; empty for an empty array. */
    public List<Block> cut(byte[] data) {
        Objects.requireNonNull(data, "data");
        MessageDigest sha = sha256();
        List<Block> blocks = new ArrayList<>();
        int start = 0;
        while (start < data.length) {
            int length = cutLength(data, start, data.length - start);
            blocks.add(block(sha, data, start, start, length));
            start += length;
        }
        return blocks;
    }

    /** Blocks of a stream, read to its end; the caller closes it. */
    public List<Block> cut(InputStream in) throws IOException {
        List<Block> blocks = new ArrayList<>();
        cut(Channels.newChannel(Objects.requireNonNull(in, "in")), blocks::add);
        return blocks;
    }

    /**
     * Cuts a channel, read to its end, handing each block to {@code sink} in order as soon as it
     * is known, so a caller can index a large file without holding its block list. The caller
     * closes the channel.
     */
    public void cut(ReadableByteChannel in, Consumer<Block> sink) throws IOException {
        Objects.requireNonNull(in, "in");
        Objects.requireNonNull(sink, "sink");
        MessageDigest sha = sha256();
        byte[] buf = new byte[2 * sizes.max()];
        ByteBuffer window = ByteBuffer.wrap(buf);
        int start = 0;
        int limit = 0;
        long offset = 0;
        boolean eof = false;
        while (true) {
            if (!eof && limit - start < sizes.max()) {
                // Keep at least max bytes ahead, so a cut never depends on where a read ended.
                System.arraycopy(buf, start, buf, 0, limit - start);
                limit -= start;
                start = 0;
                window.clear().position(limit);
                while (window.hasRemaining()) {
                    if (in.read(window) < 0) {
                        eof = true;
                        break;
                    }
                }
                limit = window.position();
            }
            if (start == limit) {
                return;
            }
            int length = cutLength(buf, start, limit - start);
            sink.accept(block(sha, buf, start, offset, length));
            start += length;
            offset += length;
        }
    }

    /** Length of the block starting at {@code from}, given {@code available} bytes from there. */
    private int cutLength(byte[] data, int from, int available) {
        if (available <= sizes.min()) {
            return available;
        }
        int end = Math.min(available, sizes.max());
        int normal = Math.min(end, sizes.avg());
        long fp = 0;
        int i = sizes.min();
        for (; i < normal; i++) {
            fp = (fp << 1) + GEAR[data[from + i] & 0xff];
            if ((fp & maskSmall) == 0) {
                return i + 1;
            }
        }
        for (; i < end; i++) {
            fp = (fp << 1) + GEAR[data[from + i] & 0xff];
            if ((fp & maskLarge) == 0) {
                return i + 1;
            }
        }
        return end;
    }

    private static Block block(MessageDigest sha, byte[] data, int from, long offset, int length) {
        sha.update(data, from, length);
        return new Block(offset, length, sha.digest());
    }

    private static long topBits(int bits) {
        return -1L << (64 - bits);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM: every Java SE runtime must provide it", e);
        }
    }

    /** 256 pseudo-random values from SplitMix64: fully specified here, unlike any library RNG. */
    static long[] gearTable(long seed) {
        long[] table = new long[256];
        long state = seed;
        for (int i = 0; i < table.length; i++) {
            state += 0x9E3779B97F4A7C15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            table[i] = z ^ (z >>> 31);
        }
        return table;
    }
}
