package org.activemirroring.sample.item;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The images in the upload folder, each at {@code items/<itemId>/<random>.<ext>}. A new image is
 * written to a temp file beside its final place, forced to disk and renamed into place in one
 * step, so the folder (and the mirror replicating it) never sees half an image. Temp files are
 * named {@code .am-tmp-...}, a prefix replicated folders never carry. Names are random and never
 * reused, so an image's content never changes under its name.
 */
public final class ImageStore {
    /** Largest image accepted, in bytes (5 MiB). */
    public static final long MAX_BYTES = 5L * 1024 * 1024;
    private static final Pattern PATH = Pattern.compile("items/[1-9][0-9]{0,18}/[0-9a-f]{32}\\.(png|jpg|gif|webp)");

    private final Path root;
    private final SecureRandom random;

    /**
     * @param root   the upload folder (must exist and be writable; see {@code SiteConfig})
     * @param random source of file names
     */
    public ImageStore(Path root, SecureRandom random) {
        this.root = root.toAbsolutePath().normalize();
        this.random = random;
    }

    /** Whether {@code path} is one this store could have made (nothing else is ever served). */
    public static boolean isValidPath(String path) {
        return path != null && PATH.matcher(path).matches();
    }

    /**
     * Writes {@code content} as a new image of item {@code itemId}.
     *
     * @return its path relative to the upload folder
     * @throws ImageTooLargeException when the content has more than {@link #MAX_BYTES} bytes (nothing is left behind)
     */
    public String store(long itemId, ImageType type, InputStream content) throws IOException {
        byte[] name = new byte[16];
        random.nextBytes(name);
        String relative = "items/" + itemId + "/" + HexFormat.of().formatHex(name) + "." + type.extension();
        Path target = root.resolve(relative);
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path temp = dir.resolve(".am-tmp-upload-" + HexFormat.of().formatHex(name));
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                 OutputStream out = Channels.newOutputStream(ch)) {
                copyLimited(content, out);
                ch.force(true);
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("The upload folder " + root + " cannot rename files atomically: " + e.getMessage()
                        + "; put it on a local file system", e);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
        return relative;
    }

    private static void copyLimited(InputStream in, OutputStream out) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        int n;
        while ((n = in.read(buf)) > 0) {
            total += n;
            if (total > MAX_BYTES) {
                throw new ImageTooLargeException(MAX_BYTES);
            }
            out.write(buf, 0, n);
        }
    }

    /** The image's file in this mirror's upload folder, if it is there. */
    public Optional<Path> local(String path) {
        if (!isValidPath(path)) {
            return Optional.empty();
        }
        Path file = root.resolve(path);
        return Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
    }

    /** Removes an image that no item names any more; a missing file is not an error. */
    public void delete(String path) throws IOException {
        if (isValidPath(path)) {
            Files.deleteIfExists(root.resolve(path));
        }
    }

    /** The upload folder. */
    public Path root() {
        return root;
    }

    /** The content was larger than {@link #MAX_BYTES}. */
    public static final class ImageTooLargeException extends IOException {
        private static final long serialVersionUID = 1L;

        ImageTooLargeException(long limit) {
            super("The image is larger than " + limit / (1024 * 1024) + " MiB");
        }
    }
}
