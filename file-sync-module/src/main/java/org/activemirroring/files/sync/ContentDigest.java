package org.activemirroring.files.sync;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.activemirroring.files.Chunker;
import org.activemirroring.files.FolderEntry;
import org.activemirroring.files.FolderScanner;

/**
 * Reads a file once for both its SHA-256 and its blocks. As a {@link FolderScanner.Hasher} it
 * keeps the blocks of each file it hashed until {@link #take} collects them, so a scan reads a
 * changed file's content once.
 */
public final class ContentDigest implements FolderScanner.Hasher {
    private static final HexFormat HEX = HexFormat.of();

    /** A file's content hash and blocks, as read. */
    public record Digest(String sha256Hex, List<FolderEntry.BlockRef> blocks) {
    }

    private final Map<Path, List<FolderEntry.BlockRef>> cut = new ConcurrentHashMap<>();

    @Override
    public String sha256Hex(Path file) throws IOException {
        Digest d = of(file);
        cut.put(file, d.blocks());
        return d.sha256Hex();
    }

    /** The blocks read for {@code file} by the last {@link #sha256Hex}, removed; null if none. */
    public List<FolderEntry.BlockRef> take(Path file) {
        return cut.remove(file);
    }

    /** Forgets blocks nobody took (files a scan left out). */
    public void clear() {
        cut.clear();
    }

    /** The SHA-256 of a file's content, in lower-case hex. */
    public static String sha256(Path file) throws IOException {
        return FolderScanner.sha256(file);
    }

    /** Reads {@code file} once (not following a symlink in its last name). */
    public static Digest of(Path file) throws IOException {
        MessageDigest whole = sha256();
        List<FolderEntry.BlockRef> blocks = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            ReadableByteChannel digesting = new ReadableByteChannel() {
                @Override
                public int read(ByteBuffer dst) throws IOException {
                    int from = dst.position();
                    int n = ch.read(dst);
                    if (n > 0) {
                        whole.update(dst.array(), dst.arrayOffset() + from, n);
                    }
                    return n;
                }

                @Override
                public boolean isOpen() {
                    return ch.isOpen();
                }

                @Override
                public void close() {
                }
            };
            Chunker.forFileSize(ch.size()).cut(digesting,
                    b -> blocks.add(new FolderEntry.BlockRef(b.offset(), b.length(), HEX.formatHex(b.sha256()))));
        }
        return new Digest(HEX.formatHex(whole.digest()), blocks);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
