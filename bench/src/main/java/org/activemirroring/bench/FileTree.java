package org.activemirroring.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Test data for the files benchmark: folder trees made from a seed, so the same arguments give the
 * same bytes on every run and machine, and the edits made to them between two syncs. Contents are
 * random, hence incompressible: neither rsync's nor our compression can shrink them, so bytes on
 * the wire measure what the delta algorithm saved. Files go into subdirectories of
 * {@value #FILES_PER_DIRECTORY} files each ({@code d00000/f0000000.bin}), like an upload folder.
 *
 * <p>Randomness is {@link SplittableRandom} (its SplitMix64 algorithm is specified, so the
 * trees do not change with the JDK); each file has its own generator derived from the seed and the
 * file's number, so a tree of 200 files starts with the same 100 files as a tree of 100.
 */
final class FileTree {
    /** Files per subdirectory. */
    static final int FILES_PER_DIRECTORY = 100;
    private static final int BUFFER = 1 << 20;

    /** What an edit did: how many files it touched and how many bytes it wrote into them. */
    record Change(int files, long bytes) {
    }

    private FileTree() {
    }

    /**
     * Creates {@code files} files of {@code fileBytes} random bytes each under {@code dir} (created
     * if missing; files already there are overwritten).
     *
     * @return the bytes written
     */
    static long create(Path dir, int files, int fileBytes, long seed) throws IOException {
        check(files >= 0, "files", files, "give the number of files, 0 or more");
        check(fileBytes >= 0, "fileBytes", fileBytes, "give each file's size in bytes, 0 or more");
        long total = 0;
        for (int i = 0; i < files; i++) {
            total += write(dir, i, fileBytes, generator(seed, i));
        }
        return total;
    }

    /**
     * Creates {@code files} small files of 1 to 4 KiB each (sizes drawn from the seed), the kind of
     * folder where listing and stat-ing files, not reading them, is the cost of a scan (e.g.
     * 100,000 files for the scan comparison with {@code find}).
     *
     * @return the bytes written
     */
    static long createSmall(Path dir, int files, long seed) throws IOException {
        check(files >= 0, "files", files, "give the number of files, 0 or more");
        long total = 0;
        for (int i = 0; i < files; i++) {
            SplittableRandom r = generator(seed, i);
            total += write(dir, i, r.nextInt(1024, 4097), r);
        }
        return total;
    }

    /**
     * Overwrites, in {@code fileShare} of the files (chosen by the seed), a contiguous run of
     * {@code byteShare} of the file's bytes at a random offset with new random bytes. Sizes stay;
     * each edited file's mtime moves to a later whole second, if the edit alone did not do so.
     */
    static Change changeInPlace(Path dir, double fileShare, double byteShare, long seed) throws IOException {
        checkShares(fileShare, byteShare);
        SplittableRandom r = new SplittableRandom(seed);
        int count = 0;
        long bytes = 0;
        for (Path file : choose(dir, fileShare, r)) {
            long size = Files.size(file);
            if (size == 0) {
                continue;
            }
            long len = Math.max(1, Math.min(size, Math.round(byteShare * size)));
            long offset = r.nextLong(size - len + 1);
            FileTime before = Files.getLastModifiedTime(file);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.position(offset);
                writeRandom(ch, len, r);
            }
            nextSecond(file, before);
            count++;
            bytes += len;
        }
        return new Change(count, bytes);
    }

    /**
     * Inserts, in {@code fileShare} of the files (chosen by the seed), {@code byteShare} of the
     * file's size in new random bytes at a random offset, shifting the rest: the edit that defeats
     * fixed-size blocks and that content-defined chunking and rsync's rolling checksum are for.
     * Edited in place (same inode, no temp file), so a watcher sees only writes to the file; the
     * mtime moves to a later whole second as in {@link #changeInPlace}.
     */
    static Change insert(Path dir, double fileShare, double byteShare, long seed) throws IOException {
        checkShares(fileShare, byteShare);
        SplittableRandom r = new SplittableRandom(seed);
        int count = 0;
        long bytes = 0;
        for (Path file : choose(dir, fileShare, r)) {
            long size = Files.size(file);
            long len = Math.max(1, Math.round(byteShare * size));
            long offset = r.nextLong(size + 1);
            FileTime before = Files.getLastModifiedTime(file);
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                shiftTail(ch, offset, size, len);
                ch.position(offset);
                writeRandom(ch, len, r);
            }
            nextSecond(file, before);
            count++;
            bytes += len;
        }
        return new Change(count, bytes);
    }

    /**
     * SHA-256 (lower-case hex) over every regular file under {@code dir}, in order of relative path
     * ({@code /}-separated): each file's path, its size and its content. Two trees with the same
     * digest hold the same files with the same contents; directories, modes and times are not
     * compared.
     */
    static String digest(Path dir) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[BUFFER];
        ByteBuffer size = ByteBuffer.allocate(Long.BYTES);
        for (Path file : regularFiles(dir)) {
            md.update(relative(dir, file).getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            md.update(size.clear().putLong(Files.size(file)).array());
            try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    md.update(buf, 0, n);
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Every regular file under {@code dir}, sorted by relative path. */
    static List<Path> regularFiles(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).forEach(files::add);
        }
        files.sort((a, b) -> relative(dir, a).compareTo(relative(dir, b)));
        return files;
    }

    private static long write(Path dir, int i, int bytes, SplittableRandom r) throws IOException {
        Path sub = dir.resolve(String.format(Locale.ROOT, "d%05d", i / FILES_PER_DIRECTORY));
        Files.createDirectories(sub);
        Path file = sub.resolve(String.format(Locale.ROOT, "f%07d.bin", i));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeRandom(ch, bytes, r);
        }
        return bytes;
    }

    /** {@code round(share * n)} of the files, at least one when there are any, chosen by {@code r}. */
    private static List<Path> choose(Path dir, double share, SplittableRandom r) throws IOException {
        List<Path> files = regularFiles(dir);
        if (files.isEmpty()) {
            throw new IllegalArgumentException("No files under " + dir + " to edit: create the tree first (FileTree.create)");
        }
        // Fisher-Yates with the seeded generator (Collections.shuffle wants a java.util.Random).
        for (int i = files.size() - 1; i > 0; i--) {
            Collections.swap(files, i, r.nextInt(i + 1));
        }
        int n = (int) Math.max(1, Math.min(files.size(), Math.round(share * files.size())));
        List<Path> chosen = new ArrayList<>(files.subList(0, n));
        chosen.sort((a, b) -> relative(dir, a).compareTo(relative(dir, b)));
        return chosen;
    }

    private static void writeRandom(FileChannel ch, long len, SplittableRandom r) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(BUFFER, Math.max(Long.BYTES, len)));
        long left = len;
        while (left > 0) {
            buf.clear();
            while (buf.remaining() >= Long.BYTES) {
                buf.putLong(r.nextLong());
            }
            buf.flip();
            buf.limit((int) Math.min(buf.limit(), left));
            while (buf.hasRemaining()) {
                left -= ch.write(buf);
            }
        }
    }

    /** Moves bytes {@code [offset, size)} of the file {@code by} bytes towards its end, last chunk first. */
    private static void shiftTail(FileChannel ch, long offset, long size, long by) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(BUFFER);
        long pos = size;
        while (pos > offset) {
            int n = (int) Math.min(BUFFER, pos - offset);
            pos -= n;
            buf.clear().limit(n);
            while (buf.hasRemaining()) {
                if (ch.read(buf, pos + buf.position()) < 0) {
                    throw new IOException(ch + " became shorter while being edited: leave the tree alone during a run");
                }
            }
            buf.flip();
            while (buf.hasRemaining()) {
                ch.write(buf, pos + by + buf.position());
            }
        }
    }

    /**
     * Makes sure the edited file's mtime is in a later whole second than before the edit. rsync's
     * quick check compares size and mtime in whole seconds, so a same-size edit within the second
     * of the previous sync would be skipped (seen on rsync 3.2.7), which no real upload folder,
     * edited seconds or hours after its last sync, shows.
     */
    private static void nextSecond(Path file, FileTime before) throws IOException {
        long beforeSecond = before.to(TimeUnit.SECONDS);
        if (Files.getLastModifiedTime(file).to(TimeUnit.SECONDS) <= beforeSecond) {
            Files.setLastModifiedTime(file, FileTime.from(beforeSecond + 1, TimeUnit.SECONDS));
        }
    }

    private static SplittableRandom generator(long seed, int file) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + file);
    }

    private static String relative(Path dir, Path file) {
        return dir.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    private static void checkShares(double fileShare, double byteShare) {
        check(fileShare > 0 && fileShare <= 1, "fileShare", fileShare, "give the share of files to edit, in (0, 1]");
        check(byteShare > 0 && byteShare <= 1, "byteShare", byteShare, "give the share of each file's bytes, in (0, 1]");
    }

    private static void check(boolean ok, String name, Object value, String todo) {
        if (!ok) {
            throw new IllegalArgumentException("Invalid value '" + value + "' for " + name + ": " + todo);
        }
    }
}
