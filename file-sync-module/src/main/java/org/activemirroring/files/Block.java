package org.activemirroring.files;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * One content-defined block of a file: where it lies and the SHA-256 of its bytes. Blocks are
 * addressed by {@link #sha256()}: two blocks with the same hash hold the same bytes, wherever
 * (file, offset, mirror) they were found, so a block held anywhere need not be sent again.
 *
 * <p>The hash array is copied in and out, so a block is immutable; equality compares the hash
 * by content. No component is ever null.
 *
 * @param offset where the block starts in its file, {@code >= 0}
 * @param length how many bytes it holds, {@code > 0}
 * @param sha256 the SHA-256 of those bytes, 32 bytes
 */
public record Block(long offset, int length, byte[] sha256) {

    /** Length of a SHA-256 digest in bytes. */
    public static final int HASH_LENGTH = 32;

    public Block {
        if (offset < 0) {
            throw new IllegalArgumentException("Invalid block offset " + offset + ": offsets start at 0");
        }
        if (length <= 0) {
            throw new IllegalArgumentException("Invalid block length " + length + " at offset " + offset
                    + ": a block holds at least one byte (an empty file has no blocks)");
        }
        if (sha256 == null || sha256.length != HASH_LENGTH) {
            throw new IllegalArgumentException("Invalid block hash of "
                    + (sha256 == null ? "null" : sha256.length + " bytes") + " at offset " + offset
                    + ": give the 32-byte SHA-256 of the block's bytes");
        }
        sha256 = sha256.clone();
    }

    /** The SHA-256 of the block's bytes: a copy, 32 bytes. */
    @Override
    public byte[] sha256() {
        return sha256.clone();
    }

    /** The SHA-256 as 64 lowercase hex digits, the block's name in logs, indexes and messages. */
    public String hex() {
        return HexFormat.of().formatHex(sha256);
    }

    /** The offset just past this block: where the next block of the same file starts. */
    public long end() {
        return offset + length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Block b && b.offset == offset && b.length == length && Arrays.equals(b.sha256, sha256);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Long.hashCode(offset) + length) + Arrays.hashCode(sha256);
    }

    @Override
    public String toString() {
        return "Block[offset=" + offset + ", length=" + length + ", sha256=" + hex() + "]";
    }
}
