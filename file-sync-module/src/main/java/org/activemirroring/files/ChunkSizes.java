package org.activemirroring.files;

/**
 * The minimum, average and maximum block size the {@link Chunker} uses for one file.
 *
 * <p>{@link #forFileSize(long)} derives them from the file size alone, so every mirror cuts the
 * same content into the same blocks without agreeing on anything else:
 * <ul>
 *   <li>{@code avg} = {@code fileSize / 256} rounded <em>down</em> to a power of two, clamped to
 *       [4 KiB, 1 MiB]: a file gets about 256 blocks, so an edit re-sends about 1/256 of it, while
 *       large files get the ~1 MiB blocks Seafile and restic use (a 1 GiB file is ~1,000 blocks).
 *       An edit's change carries only the blocks it changed ({@link BlockListDelta}), so the block
 *       count no longer costs bytes per edit; what it costs is a file's first transfer (36 bytes
 *       of list and ~40 of requests per block: 1.7% of a 1 MiB file at 4 KiB, 0.8% at 8 KiB) and
 *       memory (index and block map: ~275 bytes of heap per block, 67 MiB per GiB of 1 MiB files
 *       at 4 KiB). The files benchmark (64 files of 1 MiB, 1% of 10% of them edited) measured
 *       rsync's bytes x 1.88 in place and x 1.12 for insertions at 8 KiB, x 1.10 and x 1.02 at
 *       4 KiB, x 0.73 and x 0.62 at 2 KiB (at twice the memory of 4 KiB).</li>
 *   <li>{@code min} = {@code avg / 4}, {@code max} = {@code avg * 4}, as FastCDC suggests: the
 *       minimum skips hashing the first quarter of each block (speed) and the maximum bounds the
 *       memory a block needs.</li>
 * </ul>
 * A file smaller than {@code min} is one block. Rounding down means the sizes only change when
 * the file size crosses {@code 256 * 2^k} (2 MiB, 4 MiB ... 256 MiB); an edit that moves a
 * file across such a boundary re-cuts it with other sizes, so it shares few blocks with its
 * previous version. That is rare and costs one file's transfer, never correctness. The same holds
 * once for every file of 1 to 256 MiB edited after an upgrade from a release that cut at
 * {@code fileSize / 128} with an 8 KiB floor.
 *
 * @param min smallest block except a file's last one, {@code >= 64}
 * @param avg target average: a power of two, {@code min <= avg <= max}
 * @param max largest block, at most 64 MiB
 */
public record ChunkSizes(int min, int avg, int max) {

    /** Smallest average block size, for files under 2 MiB. */
    public static final int MIN_AVG = 4 * 1024;
    /** Largest average block size, for files of 256 MiB and more. */
    public static final int MAX_AVG = 1024 * 1024;
    /** A file is cut into about this many blocks until the average reaches a bound. */
    public static final int BLOCKS_PER_FILE = 256;

    private static final int MAX_MAX = 64 * 1024 * 1024;

    public ChunkSizes {
        StringBuilder problems = new StringBuilder();
        if (min < 64) {
            problems.append("; min ").append(min).append(" is below 64 bytes");
        }
        if (Integer.bitCount(avg) != 1) {
            problems.append("; avg ").append(avg).append(" is not a power of two");
        }
        if (min > avg || avg > max) {
            problems.append("; sizes are not ordered min <= avg <= max");
        }
        if (max > MAX_MAX) {
            problems.append("; max ").append(max).append(" is above 64 MiB");
        }
        if (problems.length() > 0) {
            throw new IllegalArgumentException("Invalid chunk sizes min=" + min + " avg=" + avg + " max=" + max
                    + ": " + problems.substring(2) + "; use ChunkSizes.forFileSize(size) unless a test needs others");
        }
    }

    /** The sizes every mirror uses for a file of {@code fileSize} bytes; see the class comment. */
    public static ChunkSizes forFileSize(long fileSize) {
        if (fileSize < 0) {
            throw new IllegalArgumentException("Invalid file size " + fileSize + ": sizes are >= 0");
        }
        long target = Long.highestOneBit(fileSize / BLOCKS_PER_FILE);
        int avg = (int) Math.max(MIN_AVG, Math.min(MAX_AVG, target));
        return new ChunkSizes(avg / 4, avg, avg * 4);
    }
}
