package org.activemirroring.files;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The periodic scan of one folder, the truth about what changed (a directory watcher is only a
 * hint). Walks the folder without following symlinks, skipping excluded paths and this module's
 * temp files ({@value FolderIndex#TEMP_PREFIX}*). A file whose size, mtime and file key match the
 * index is not read; any other file is hashed and then looked at again: if its size or mtime
 * moved meanwhile it is reported as still being written, never as a change, so a half-written file
 * is not shipped. Files are read on up to one thread per core ({@link ScanHashing}), whatever
 * directories they sit in. The scan does not modify the index.
 */
public final class FolderScanner {

    /** Reads a file's content and returns its SHA-256 in lower-case hex. */
    @FunctionalInterface
    public interface Hasher {
        String sha256Hex(Path file) throws IOException;
    }

    private final Hasher hasher;
    private final Clock clock;

    /** A scanner that hashes with {@link #sha256(Path)}. */
    public FolderScanner(Clock clock) {
        this(FolderScanner::sha256, clock);
    }

    /** {@code hasher} is injectable so that tests can count reads or change a file mid-read. */
    public FolderScanner(Hasher hasher, Clock clock) {
        this.hasher = Objects.requireNonNull(hasher);
        this.clock = Objects.requireNonNull(clock);
    }

    /** SHA-256 of a file's content in lower-case hex. */
    public static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /**
     * Scans {@code folder} against {@code index}.
     *
     * @throws IOException when the folder itself cannot be walked (retriable); a single file that
     *                     vanishes or cannot be read during the scan is left for the next scan
     */
    public FolderScanResult scan(FolderConfig.Folder folder, FolderIndex index) throws IOException {
        long startedAt = clock.millis();
        Path root = folder.root();
        FolderFilter filter = folder.filter();
        // Shared by the threads that walk the folder's subdirectories (see walkInParallel).
        List<FolderEntry> added = java.util.Collections.synchronizedList(new ArrayList<>());
        List<FolderEntry> changed = java.util.Collections.synchronizedList(new ArrayList<>());
        List<FolderEntry> touched = java.util.Collections.synchronizedList(new ArrayList<>());
        List<String> stillWriting = java.util.Collections.synchronizedList(new ArrayList<>());
        List<FolderScanResult.Refusal> refused = java.util.Collections.synchronizedList(new ArrayList<>());
        // Sized for the index up front: growing a set of 100,000 paths as the walk goes costs more than the walk.
        Set<String> present = java.util.concurrent.ConcurrentHashMap.newKeySet(Math.max(16, index.size() * 4 / 3 + 16));
        List<String> unreadableDirs = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicIntegerArray counts = new java.util.concurrent.atomic.AtomicIntegerArray(2);
        ByFileKey moved = new ByFileKey(index);
        ScanHashing hashing = new ScanHashing(Runtime.getRuntime().availableProcessors(), Thread.currentThread().getName());

        java.nio.file.FileVisitor<Path> visitor = new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                if (dir.equals(root)) {
                    return FileVisitResult.CONTINUE;
                }
                String rel = FolderPaths.relative(root, dir);
                if (dir.getFileName().toString().startsWith(FolderIndex.TEMP_PREFIX) || filter.excludesDirectory(rel)) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                // Without FOLLOW_LINKS a symlink arrives here as itself; only regular files count.
                if (!attrs.isRegularFile() || file.getFileName().toString().startsWith(FolderIndex.TEMP_PREFIX)) {
                    return FileVisitResult.CONTINUE;
                }
                String rel = FolderPaths.relative(root, file);
                if (!filter.includes(rel)) {
                    return FileVisitResult.CONTINUE;
                }
                // A path the index holds passed these rules when it was recorded (and on load).
                String why = index.get(rel) != null ? null : FolderPaths.refusal(rel);
                if (why == null && attrs.size() > folder.maxFileBytes()) {
                    why = "it has " + attrs.size() + " bytes, above " + FolderConfig.key(FolderConfig.MAX_FILE_BYTES,
                            folder.name()) + "=" + folder.maxFileBytes();
                }
                if (why != null) {
                    refused.add(new FolderScanResult.Refusal(rel, why));
                    // Still present: a refused file must not turn into a delete on the other mirrors.
                    present.add(rel);
                    return FileVisitResult.CONTINUE;
                }
                present.add(rel);
                look(file, rel, attrs);
                return FileVisitResult.CONTINUE;
            }

            private void look(Path file, String rel, BasicFileAttributes attrs) throws IOException {
                FolderEntry old = index.get(rel);
                String fileKey = attrs.fileKey() == null ? null : attrs.fileKey().toString();
                long mtime = attrs.lastModifiedTime().toMillis();
                if (old != null && old.unchangedAs(attrs.size(), mtime, fileKey)) {
                    counts.incrementAndGet(0);
                    return;
                }
                FolderEntry same = old == null || old.tombstone() ? moved.find(fileKey, attrs.size(), mtime) : null;
                if (same != null) {
                    // The very file the index knows under another name (renamed or moved here, or a
                    // hard link): the same trust as for an unchanged file, so its content is not read.
                    counts.incrementAndGet(0);
                    added.add(new FolderEntry(rel, attrs.size(), mtime, mode(file), fileKey, same.sha256Hex(),
                            same.blocks(), Map.of(), false));
                    return;
                }
                hashing.submit(() -> read(file, rel, attrs, fileKey, mtime, old));
            }

            /** Hashes a file that looks new or changed (on a {@link ScanHashing} thread) and sorts it. */
            private void read(Path file, String rel, BasicFileAttributes attrs, String fileKey, long mtime,
                              FolderEntry old) throws IOException {
                String sha;
                BasicFileAttributes after;
                Integer mode;
                try {
                    counts.incrementAndGet(1);
                    sha = hasher.sha256Hex(file);
                    after = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    mode = mode(file);
                } catch (java.nio.file.NoSuchFileException e) {
                    // Vanished between listing and reading: the next scan reports it as deleted.
                    present.remove(rel);
                    stillWriting.add(rel);
                    return;
                }
                if (after.size() != attrs.size() || after.lastModifiedTime().toMillis() != mtime
                        || !after.isRegularFile()) {
                    stillWriting.add(rel);
                    return;
                }
                FolderEntry now = new FolderEntry(rel, attrs.size(), mtime, mode, fileKey, sha, List.of(), Map.of(),
                        false);
                if (old == null || old.tombstone()) {
                    added.add(now);
                } else if (sha.equals(old.sha256Hex())) {
                    touched.add(now);
                } else {
                    changed.add(now);
                }
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (file.equals(root)) {
                    throw exc;
                }
                // Unreadable or vanished: keep the index as it is (for a directory, all it holds),
                // the next scan looks again. A failure is not a delete.
                String rel = FolderPaths.relative(root, file);
                present.add(rel);
                unreadableDirs.add(rel + "/");
                return FileVisitResult.CONTINUE;
            }
        };
        try {
            walkInParallel(root, visitor);
        } catch (IOException | RuntimeException e) {
            try {
                hashing.finish();
            } catch (IOException second) {
                e.addSuppressed(second);
            }
            throw e;
        }
        // Every file to read has been handed out; wait for the reads before looking for deletes.
        hashing.finish();

        List<String> deleted = new ArrayList<>();
        Set<String> moving = new HashSet<>(stillWriting);
        for (FolderEntry e : index.entries()) {
            if (e.tombstone() || present.contains(e.path()) || moving.contains(e.path())
                    || !filter.includes(e.path()) || unreadableDirs.stream().anyMatch(e.path()::startsWith)) {
                continue;
            }
            if (!isRegularFileInside(root, e.path())) {
                deleted.add(e.path());
            }
        }
        Comparator<FolderEntry> byPath = Comparator.comparing(FolderEntry::path);
        added.sort(byPath);
        changed.sort(byPath);
        touched.sort(byPath);
        deleted.sort(null);
        stillWriting.sort(null);
        refused.sort(Comparator.comparing(FolderScanResult.Refusal::path));
        return new FolderScanResult(added, changed, touched, deleted, stillWriting, refused, counts.get(0),
                counts.get(1), startedAt);
    }

    /**
     * Walks {@code root} with {@code visitor}: its own files on this thread, its subdirectories
     * shared out among up to one thread per core (this one included), which take the next
     * subdirectory as they finish one. Listing a large folder is mostly waiting on the file
     * system's metadata, and two walks overlap well. The visitor must be thread-safe.
     */
    private static void walkInParallel(Path root, java.nio.file.FileVisitor<Path> visitor) throws IOException {
        Files.walkFileTree(root, java.util.EnumSet.noneOf(java.nio.file.FileVisitOption.class), 1, visitor);
        java.util.Queue<Path> dirs = new java.util.concurrent.ConcurrentLinkedQueue<>();
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    dirs.add(p);
                }
            }
        }
        int threads = Math.min(Runtime.getRuntime().availableProcessors(), dirs.size());
        java.util.concurrent.atomic.AtomicReference<IOException> failure = new java.util.concurrent.atomic.AtomicReference<>();
        Runnable work = () -> {
            Path dir;
            while (failure.get() == null && (dir = dirs.poll()) != null) {
                try {
                    Files.walkFileTree(dir, visitor);
                } catch (IOException e) {
                    failure.compareAndSet(null, e);
                }
            }
        };
        List<Thread> helpers = new ArrayList<>();
        for (int i = 1; i < threads; i++) {
            Thread t = org.activemirroring.logging.LogContext.thread(org.activemirroring.logging.LogContext.current(),
                    Thread.currentThread().getName() + "-walk-" + i, work);
            t.start();
            helpers.add(t);
        }
        try {
            work.run();
        } finally {
            for (Thread t : helpers) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    dirs.clear();
                }
            }
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    /** NOFOLLOW_LINKS only guards the last name, so a directory replaced by a symlink needs the full check. */
    private static boolean isRegularFileInside(Path root, String rel) {
        try {
            return Files.isRegularFile(FolderPaths.resolveInside(root, rel), LinkOption.NOFOLLOW_LINKS);
        } catch (FolderPathException e) {
            return false;
        }
    }

    private static Integer mode(Path file) throws IOException {
        if (!file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            return null;
        }
        PosixFileAttributes a = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        int bits = 0;
        for (PosixFilePermission p : a.permissions()) {
            bits |= 1 << (8 - p.ordinal());
        }
        return bits;
    }

    /**
     * The index's live files by file key (device and inode), built on first use: a path that is new
     * to the index but whose file key, size and mtime are an indexed file's is that file under
     * another name.
     */
    private static final class ByFileKey {
        private final FolderIndex index;
        private Map<String, FolderEntry> byKey;

        ByFileKey(FolderIndex index) {
            this.index = index;
        }

        synchronized FolderEntry find(String fileKey, long size, long mtimeMs) {
            if (fileKey == null || index.size() == 0) {
                return null;
            }
            if (byKey == null) {
                byKey = new java.util.HashMap<>(index.size() * 4 / 3 + 16);
                for (FolderEntry e : index.entries()) {
                    if (!e.tombstone() && e.fileKey() != null && e.sha256Hex() != null
                            && (e.size() == 0 || !e.blocks().isEmpty())) {
                        byKey.put(e.fileKey(), e);
                    }
                }
            }
            FolderEntry e = byKey.get(fileKey);
            return e != null && e.size() == size && e.mtimeMs() == mtimeMs ? e : null;
        }
    }
}
