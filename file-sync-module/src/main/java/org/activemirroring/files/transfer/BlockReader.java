package org.activemirroring.files.transfer;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads blocks from their {@link BlockPlace}s, each checked against its SHA-256, for one request
 * or one file: the files it reads stay open until {@link #close} (at most {@value #OPEN_FILES}),
 * so the blocks of one file cost one open, not one each. Not thread-safe: one per task.
 *
 * <p>A reader {@link #serving} peers skips the check for a file that still looks as it did when
 * indexed ({@link FileStamp}: size, mtime, file key; looked at once, when the file is opened),
 * the trust a scan gives an unchanged file: the peer checks every block it receives anyway, and
 * the check cost a third of the CPU of serving a file. Copies into this mirror's own files always
 * check, since nothing checks them after.
 */
final class BlockReader implements AutoCloseable {

    /** Files kept open at once; the least recently read is closed first. */
    static final int OPEN_FILES = 4;

    private final MessageDigest md = BlockReads.sha256();
    private final Map<Path, Open> open = new LinkedHashMap<>(8, 0.75f, true);
    private final LocalBlocks stamps;
    private long unchecked;

    /** An open file, and whether its blocks may be read unchecked. */
    private record Open(FileChannel channel, boolean asIndexed) {
    }

    /** A reader that checks every block. */
    BlockReader() {
        this.stamps = null;
    }

    private BlockReader(LocalBlocks stamps) {
        this.stamps = stamps;
    }

    /** A reader for blocks sent to peers: files that still look as {@code blocks} stamped them are not hashed. */
    static BlockReader serving(LocalBlocks blocks) {
        return new BlockReader(java.util.Objects.requireNonNull(blocks, "blocks"));
    }

    /** Blocks read without hashing them (their file looked as indexed). */
    long unchecked() {
        return unchecked;
    }

    /**
     * Reads the block from the first of {@code places} that holds it (as {@link #read}); false
     * when none does.
     */
    boolean readAny(List<BlockPlace> places, byte[] sha256, int length, byte[] dst, int dstOff) {
        for (BlockPlace place : places) {
            if (read(place, sha256, length, dst, dstOff)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Reads the block at {@code place} into {@code dst} at {@code dstOff} and checks it. False when
     * the place is stale in any way: missing, a symlink, too short, other length, other bytes.
     * Those are expected (the index lags the disk), so they are not errors.
     */
    boolean read(BlockPlace place, byte[] sha256, int length, byte[] dst, int dstOff) {
        if (place.length() != length) {
            return false;
        }
        Open f;
        try {
            f = open(place.file());
            if (!BlockReads.readFully(f.channel(), dst, dstOff, length, place.offset())) {
                return false;
            }
        } catch (IOException | UnsupportedOperationException e) {
            forget(place.file());
            return false;
        }
        if (f.asIndexed()) {
            unchecked++;
            return true;
        }
        return BlockReads.matches(md, dst, dstOff, length, sha256);
    }

    private Open open(Path file) throws IOException {
        Open f = open.get(file);
        if (f != null) {
            return f;
        }
        // NOFOLLOW_LINKS: a place that became a symlink could point anywhere, never read through it.
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        FileStamp stamp = stamps == null ? null : stamps.stamp(file);
        // Looked at after the open, so the file read is at least as new as the look.
        f = new Open(ch, stamp != null && stamp.matches(file));
        open.put(file, f);
        if (open.size() > OPEN_FILES) {
            Iterator<Open> eldest = open.values().iterator();
            closeQuietly(eldest.next().channel());
            eldest.remove();
        }
        return f;
    }

    private void forget(Path file) {
        Open f = open.remove(file);
        if (f != null) {
            closeQuietly(f.channel());
        }
    }

    @Override
    public void close() {
        open.values().forEach(f -> closeQuietly(f.channel()));
        open.clear();
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException e) {
            // read-only: nothing was lost
        }
    }
}
