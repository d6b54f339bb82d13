package org.activemirroring.files;

/**
 * The minimum, average and maximum block size the {@link Chunker} uses for one file.
 *
 * <p>{@link #forFileSize(long)} derives them from the file size alone, so every mirror cuts the
 * same content into the same blocks without agreeing on anything else:
 * <ul>
 *   <li>{@code avg} = {@code fileSize / 128} rounded <em>down</em> to a power of two, clamped to
 *       [8 KiB, 1 MiB]: a file gets about 128 blocks, so an edit re-sends about 1/128 of it, while
 *       large files get the ~1 MiB blocks Seafile and restic use (a 1 GiB file is ~1,000 blocks,
 *       which keeps the index and the block lists in messages small). 8 KiB is the floor: smaller
 *       blocks send less around an edit, but each costs 36 bytes in every block list of its file
 *       (the files benchmark measured 16 KiB against 8 KiB: 2.2x against 1.6x rsync's bytes for
 *       1% edits of 1 MiB files).</li>
 *   <li>{@code min} = {@code avg / 4}, {@code max} = {@code avg * 4}, as FastCDC suggests: the
 *       minimum skips hashing the first quarter of each block (speed) and the maximum bounds the
 *       memory a block needs.</li>
 * </ul>
 * A file smaller than {@code min} is one block. Rounding down means the sizes only change when
 * the file size crosses {@code 128 * 2^k} (2 MiB, 4 MiB ... 128 MiB); an edit that moves a
 * file across such a boundary re-cuts it with other sizes, so it shares few blocks with its
 * previous version. That is rare and costs one file's transfer, never correctness.
 *
 * @param min smallest block except a file's last one, {@code >= 64}
 * @param avg target average: a power of two, {@code min <= avg <= max}
 * @param max largest block, at most 64 MiB
 */
public record ChunkSizes(int min, int avg, int max) {

    /** Smallest average block size, for files under 2 MiB. */
    public static final int MIN_AVG = 8 * 1024;
    /** Largest average block size, for files of 128 MiB and more. */
    public static final int MAX_AVG = 1024 * 1024;
    /** A file is cut into about this many blocks until the average reaches a bound. */
    public static final int BLOCKS_PER_FILE = 128;

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
