package org.activemirroring.files;

/**
 * The minimum, average and maximum block size the {@link Chunker} uses for one file.
 *
 * <p>{@link #forFileSize(long)} derives them from the file size alone, so every mirror cuts the
 * same content into the same blocks without agreeing on anything else:
 * <ul>
 *   <li>{@code avg} = {@code fileSize / 16} rounded <em>down</em> to a power of two, clamped to
 *       [64 KiB, 1 MiB]: a file gets about 16 blocks, and files of 16 MiB and more the ~1 MiB
 *       blocks Seafile and restic use (a 1 GiB file is ~1,000 blocks). What an edit sends does
 *       not grow with the block: the blocks it touched are built from the receiver's previous
 *       version by an rsync-style delta ({@code files.delta}), which sends about the edited bytes.
 *       What does grow with the block count is the cost of every block: its hash read, requested,
 *       checked and written on its own, its entry in block lists, indexes and block maps (~275
 *       bytes of heap). The files benchmark (1 MiB files, 512 MiB) measured the initial copy at
 *       3.2 s with 8 KiB blocks, 2.4 s with 32 KiB, 2.2 s with 64 KiB and 2.3 s with 128 and
 *       256 KiB, while the bytes of 1% edits went from 0.57x to 0.59x, 0.63x, 0.65x and 0.72x
 *       rsync's (insertions alike).</li>
 *   <li>{@code min} = {@code avg / 4}, {@code max} = {@code avg * 4}, as FastCDC suggests: the
 *       minimum skips hashing the first quarter of each block (speed) and the maximum bounds the
 *       memory a block needs.</li>
 * </ul>
 * A file smaller than {@code min} is one block. Rounding down means the sizes only change when
 * the file size crosses {@code 16 * 2^k} (2, 4, 8 and 16 MiB); an edit that moves a file across
 * such a boundary re-cuts it with other sizes, so it shares few blocks with its previous version.
 * That is rare and costs one file's transfer, never correctness.
 *
 * <p>Versions before this one cut with {@code fileSize / 128} clamped to [8 KiB, 1 MiB]. Mirrors
 * of both still agree on every file: a file is named by its content's SHA-256, not its blocks; a
 * block is fetched by hash from a mirror whose list names it; a list cut by the other version is
 * still a true description of the file; and a block-list delta against a base cut otherwise is
 * refused and the whole list asked for. Until a file is edited again, its old and new cuts just
 * share fewer blocks.
 *
 * @param min smallest block except a file's last one, {@code >= 64}
 * @param avg target average: a power of two, {@code min <= avg <= max}
 * @param max largest block, at most 64 MiB
 */
public record ChunkSizes(int min, int avg, int max) {

    /** Smallest average block size, for files under 2 MiB. */
    public static final int MIN_AVG = 64 * 1024;
    /** Largest average block size, for files of 16 MiB and more. */
    public static final int MAX_AVG = 1024 * 1024;
    /** A file is cut into about this many blocks until the average reaches a bound. */
    public static final int BLOCKS_PER_FILE = 16;

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
