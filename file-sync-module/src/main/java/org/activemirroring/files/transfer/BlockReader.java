package org.activemirroring.files.transfer;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads blocks from their {@link BlockPlace}s, each checked against its SHA-256, for one request
 * or one file: the files it reads stay open until {@link #close} (at most {@value #OPEN_FILES}),
 * so the 128 blocks of a 1 MiB file cost one open, not 128. Not thread-safe: one per task.
 */
final class BlockReader implements AutoCloseable {

    /** Files kept open at once; the least recently read is closed first. */
    static final int OPEN_FILES = 4;

    private final MessageDigest md = BlockReads.sha256();
    private final Map<Path, FileChannel> open = new LinkedHashMap<>(8, 0.75f, true);

    /**
     * Reads the block at {@code place} into {@code dst} at {@code dstOff} and checks it. False when
     * the place is stale in any way: missing, a symlink, too short, other length, other bytes.
     * Those are expected (the index lags the disk), so they are not errors.
     */
    boolean read(BlockPlace place, byte[] sha256, int length, byte[] dst, int dstOff) {
        if (place.length() != length) {
            return false;
        }
        try {
            FileChannel ch = channel(place.file());
            if (!BlockReads.readFully(ch, dst, dstOff, length, place.offset())) {
                return false;
            }
        } catch (IOException | UnsupportedOperationException e) {
            forget(place.file());
            return false;
        }
        return BlockReads.matches(md, dst, dstOff, length, sha256);
    }

    private FileChannel channel(Path file) throws IOException {
        FileChannel ch = open.get(file);
        if (ch != null) {
            return ch;
        }
        // NOFOLLOW_LINKS: a place that became a symlink could point anywhere, never read through it.
        ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        open.put(file, ch);
        if (open.size() > OPEN_FILES) {
            Iterator<FileChannel> eldest = open.values().iterator();
            closeQuietly(eldest.next());
            eldest.remove();
        }
        return ch;
    }

    private void forget(Path file) {
        FileChannel ch = open.remove(file);
        if (ch != null) {
            closeQuietly(ch);
        }
    }

    @Override
    public void close() {
        open.values().forEach(BlockReader::closeQuietly);
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
