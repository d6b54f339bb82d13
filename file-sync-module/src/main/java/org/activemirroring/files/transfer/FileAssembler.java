package org.activemirroring.files.transfer;

import java.io.IOException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import org.activemirroring.files.FolderEntry;
import org.activemirroring.files.FolderIndex;
import org.activemirroring.files.FolderPathException;
import org.activemirroring.files.FolderPaths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a wanted version of a file from blocks: first those this mirror already holds
 * ({@link LocalBlocks}), then the rest fetched from peers ({@link BlockFetcher}). Two steps, so
 * the caller decides between them (conflict check, index update):
 * <ol>
 *   <li>{@link #prepare} writes the content into a temp file next to the target, every block's
 *       SHA-256 and length checked before it is written, then the whole file's, then fsync;</li>
 *   <li>{@link #commit} gives it the wanted mtime and mode and renames it over the target
 *       atomically; or {@link #discard} deletes it.</li>
 * </ol>
 * The temp file is named after the content ({@value FolderIndex#TEMP_PREFIX}{@code <hash>.part}),
 * so a transfer cut short by a crash, a departing peer or missing blocks resumes: blocks already
 * in the temp file that still verify are kept. The folder scanner ignores temp files.
 *
 * <p>Thread-safe: several files may be prepared at once; they share a pool of
 * {@code parallelRequests} threads. Two transfers of the same content into the same directory
 * at once are refused (they would share a temp file). {@link #close} stops the pool.
 */
public final class FileAssembler implements AutoCloseable {

    /** Requests in flight per file by default. */
    public static final int DEFAULT_PARALLEL_REQUESTS = 4;
    /** Bytes asked per request by default (4 MiB). */
    public static final int DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;
    /** Largest batch: a reply to it always fits {@link BlockWire#MAX_REPLY_BYTES}, so "not held" means not held. */
    public static final int MAX_BATCH_BYTES = BlockWire.MAX_BLOCK_LENGTH;

    private static final Logger LOG = LoggerFactory.getLogger(FileAssembler.class);
    private static final AtomicInteger POOLS = new AtomicInteger();

    /**
     * A wanted file's content, complete and verified in {@code temp}, not yet at {@code target}.
     *
     * @param temp           the temp file next to the target
     * @param target         where {@link #commit} puts it (absolute, checked inside its folder)
     * @param wanted         the entry it was built for
     * @param bytesFetched   bytes received from peers for it
     * @param bytesFromLocal bytes copied into it from blocks this mirror held
     */
    public record Prepared(Path temp, Path target, FolderEntry wanted, long bytesFetched, long bytesFromLocal) {
    }

    /**
     * A committed file as the file system reports it, for the folder index, so the next scan
     * finds it unchanged.
     *
     * @param fileKey the file key as text, or null where the file system has none
     */
    public record FileStat(long size, long mtimeMs, String fileKey) {
    }

    private final LocalBlocks local;
    private final PeerRequests peers;
    private final ExecutorService pool;
    private final BlockFetcher fetcher;
    private final DeltaFetcher deltas;
    private final TransferCounters counters = new TransferCounters();
    private final Set<Path> tempsInUse = ConcurrentHashMap.newKeySet();

    /** An assembler with {@link #DEFAULT_PARALLEL_REQUESTS} and {@link #DEFAULT_MAX_BATCH_BYTES}. */
    public FileAssembler(LocalBlocks local, PeerRequests peers, Duration requestTimeout) {
        this(local, peers, DEFAULT_PARALLEL_REQUESTS, DEFAULT_MAX_BATCH_BYTES, requestTimeout);
    }

    /**
     * @param local            where blocks may be found on this mirror; never null
     * @param peers            who else to ask and how; never null
     * @param parallelRequests requests in flight per file, 1..64
     * @param maxBatchBytes    bytes asked per request, 1..{@link #MAX_BATCH_BYTES}
     * @param requestTimeout   how long to wait for one answer; positive
     */
    public FileAssembler(LocalBlocks local, PeerRequests peers, int parallelRequests, int maxBatchBytes,
                         Duration requestTimeout) {
        this.local = Objects.requireNonNull(local, "local");
        this.peers = Objects.requireNonNull(peers, "peers");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        if (parallelRequests < 1 || parallelRequests > 64) {
            throw new IllegalArgumentException("Invalid parallelRequests " + parallelRequests + ": give 1..64 (default "
                    + DEFAULT_PARALLEL_REQUESTS + ")");
        }
        if (maxBatchBytes < 1 || maxBatchBytes > MAX_BATCH_BYTES) {
            throw new IllegalArgumentException("Invalid maxBatchBytes " + maxBatchBytes + ": give 1.." + MAX_BATCH_BYTES
                    + " (default " + DEFAULT_MAX_BATCH_BYTES + ") so a reply fits " + BlockWire.MAX_REPLY_BYTES + " bytes");
        }
        if (requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("Invalid requestTimeout " + requestTimeout + ": give a positive duration");
        }
        int id = POOLS.incrementAndGet();
        this.pool = Executors.newFixedThreadPool(parallelRequests, org.activemirroring.logging.LogContext.threads(
                org.activemirroring.logging.LogContext.current(), "am-files-fetch-" + id, true));
        this.fetcher = new BlockFetcher(peers, pool, parallelRequests, maxBatchBytes, requestTimeout, counters);
        this.deltas = new DeltaFetcher(local, peers, requestTimeout, counters);
    }

    /**
     * Builds {@code wanted}'s content in a temp file next to its target in {@code folderRoot},
     * creating missing parent directories. Peers are asked in this order: those of
     * {@code preferredPeers} that are reachable (e.g. the file's origin), then the others.
     *
     * @throws ContentMismatchException    the entry's blocks do not cover its size, or the built
     *                                     file does not hash to its SHA-256 (temp deleted)
     * @throws BlocksUnavailableException  some blocks are held by no reachable peer (temp kept for resume)
     * @throws RefusedTargetException      the path may not be written in the folder
     * @throws IOException                 reading or writing local files failed
     * @throws IllegalArgumentException    {@code wanted} is a tombstone: delete instead
     */
    public Prepared prepare(Path folderRoot, FolderEntry wanted, List<String> preferredPeers)
            throws IOException, BlocksUnavailableException, InterruptedException {
        Objects.requireNonNull(folderRoot, "folderRoot");
        Objects.requireNonNull(preferredPeers, "preferredPeers");
        if (wanted.tombstone()) {
            throw new IllegalArgumentException("The entry of '" + wanted.path() + "' is a tombstone and has no content: "
                    + "delete the file instead of assembling it");
        }
        WantedContent.checkLayout(wanted);
        Path target = target(folderRoot, wanted.path());
        String name = FolderIndex.TEMP_PREFIX + wanted.sha256Hex().substring(0, 32).toLowerCase(Locale.ROOT) + ".part";
        Path temp = target.resolveSibling(name);
        if (!tempsInUse.add(temp)) {
            throw new IOException("Another transfer of the same content into " + temp.getParent() + " is running (now for '"
                    + wanted.path() + "'); retry after it is committed or discarded");
        }
        boolean prepared = false;
        try {
            long fetched;
            long fromLocal;
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                Map<String, BlockFetcher.Need> missing = WantedContent.missingAfterResume(ch, wanted);
                fromLocal = fillFromLocal(ch, missing);
                fetched = 0;
                if (!missing.isEmpty()) {
                    List<String> order = peerOrder(preferredPeers);
                    fetched = deltas.fetch(target, wanted, ch, missing, order);
                    fetched += fetcher.fetch(wanted.path(), ch, missing, order);
                    if (!missing.isEmpty()) {
                        long bytes = missing.values().stream().mapToLong(n -> n.block().length()).sum();
                        int distinct = (int) wanted.blocks().stream().map(b -> b.sha256Hex()).distinct().count();
                        throw new BlocksUnavailableException(wanted.path(), missing.size(), distinct, bytes, order);
                    }
                }
                WantedContent.checkWholeFile(ch, wanted);
                ch.force(true);
            } catch (ContentMismatchException e) {
                Files.deleteIfExists(temp);
                throw e;
            } catch (ClosedByInterruptException e) {
                // This thread was interrupted during file I/O (which closes the channel): report it as such.
                // A fetch thread stopped by close() ends up here too, without this thread's interrupt.
                if (Thread.interrupted()) {
                    throw new InterruptedException("Interrupted while building '" + wanted.path()
                            + "'; the partial file is kept");
                }
                throw e;
            }
            prepared = true;
            return new Prepared(temp, target, wanted, fetched, fromLocal);
        } finally {
            if (!prepared) {
                tempsInUse.remove(temp);
            }
        }
    }

    /**
     * Puts a prepared file in place: the wanted mtime, the wanted POSIX mode where there is one
     * and the file system has modes, an atomic rename over the target, and an fsync of the
     * directory so the rename survives a crash. Returns the target's size, mtime and file key.
     */
    public FileStat commit(Prepared p) throws IOException {
        return commit(p, true);
    }

    /**
     * As {@link #commit(Prepared)}; with {@code syncDirectory} false the rename is not forced to
     * disk here: the caller forces the directory (see {@link #forceDirectory}) before it records
     * the file anywhere durable, once for many files.
     */
    public FileStat commit(Prepared p, boolean syncDirectory) throws IOException {
        FolderEntry w = p.wanted();
        try {
            Files.setLastModifiedTime(p.temp(), FileTime.fromMillis(w.mtimeMs()));
            if (w.mode() != null && p.temp().getFileSystem().supportedFileAttributeViews().contains("posix")) {
                Files.setPosixFilePermissions(p.temp(), permissions(w.mode()));
            }
            Files.move(p.temp(), p.target(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            tempsInUse.remove(p.temp());
        }
        if (syncDirectory) {
            forceDirectory(p.target().getParent());
        }
        BasicFileAttributes a = Files.readAttributes(p.target(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return new FileStat(a.size(), a.lastModifiedTime().toMillis(), a.fileKey() == null ? null : a.fileKey().toString());
    }

    /**
     * Puts version {@code w} in place by moving {@code from}, a local file of the folder that holds
     * exactly its content and is about to be deleted (a rename or move made on another mirror): no
     * byte is copied. Gives it the wanted mtime and mode; the caller forces both directories before
     * it records the move anywhere durable. Returns the target's size, mtime and file key.
     */
    public static FileStat moveInto(Path folderRoot, Path from, FolderEntry w) throws IOException {
        Path target = target(folderRoot, w.path());
        Files.move(from, target, StandardCopyOption.ATOMIC_MOVE);
        Files.setLastModifiedTime(target, FileTime.fromMillis(w.mtimeMs()));
        if (w.mode() != null && target.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(target, permissions(w.mode()));
        }
        BasicFileAttributes a = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        return new FileStat(a.size(), a.lastModifiedTime().toMillis(), a.fileKey() == null ? null : a.fileKey().toString());
    }

    /**
     * Lets go of a prepared file without committing or deleting it: the caller commits it later,
     * and the next {@link #prepare} of the same content finds every block in the temp file.
     */
    public void release(Prepared p) {
        tempsInUse.remove(p.temp());
    }

    /** Deletes a prepared file's temp (the caller decided not to commit it). */
    public void discard(Prepared p) {
        try {
            Files.deleteIfExists(p.temp());
        } catch (IOException e) {
            // Not thrown: a leftover temp costs only disk space, and the next transfer of this content reuses it.
            LOG.warn("Could not delete the temp file {} ({}); delete it by hand if it stays", p.temp(), e.toString());
        } finally {
            tempsInUse.remove(p.temp());
        }
    }

    /** What this assembler has moved so far. */
    public TransferCounters counters() {
        return counters;
    }

    /** Total bytes received from peers. */
    public long bytesFetched() {
        return counters.bytesFetched();
    }

    /** Total bytes copied from blocks this mirror held. */
    public long bytesFromLocal() {
        return counters.bytesFromLocal();
    }

    /** Total blocks from peers dropped because their SHA-256 did not match. */
    public long blocksRefused() {
        return counters.blocksRefused();
    }

    /** Stops the fetch pool, interrupting requests in flight; prepares running then fail. */
    @Override
    public void close() {
        pool.shutdownNow();
    }

    private static Path target(Path folderRoot, String rel) throws IOException {
        try {
            Path target = FolderPaths.resolveInside(folderRoot, rel);
            Files.createDirectories(target.getParent());
            // Again now that the parents exist: one of them may have been a symlink made meanwhile.
            return FolderPaths.resolveInside(folderRoot, rel);
        } catch (FolderPathException e) {
            throw new RefusedTargetException(e);
        }
    }

    /** Copies the missing blocks this mirror holds into the temp file; returns the bytes written. */
    private long fillFromLocal(FileChannel ch, Map<String, BlockFetcher.Need> missing) throws IOException {
        if (missing.isEmpty()) {
            return 0;
        }
        byte[] buf = new byte[missing.values().stream().mapToInt(n -> n.block().length()).max().orElse(0)];
        long written = 0;
        try (BlockReader reader = new BlockReader()) {
            var it = missing.values().iterator();
            while (it.hasNext()) {
                BlockFetcher.Need need = it.next();
                int length = need.block().length();
                if (reader.readAny(local.places(need.block().sha256Hex()), need.block().sha256(), length, buf, 0)) {
                    for (long offset : need.offsets()) {
                        BlockReads.writeFully(ch, buf, 0, length, offset);
                    }
                    written += (long) length * need.offsets().length;
                    it.remove();
                }
            }
        }
        counters.fromLocal(written);
        return written;
    }

    /** Reachable preferred peers first, in their order, then the other reachable peers. */
    private List<String> peerOrder(List<String> preferred) {
        List<String> reachable = peers.peers();
        Set<String> order = new LinkedHashSet<>();
        for (String p : preferred) {
            if (reachable.contains(p)) {
                order.add(p);
            }
        }
        order.addAll(reachable);
        return List.copyOf(order);
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        // PosixFilePermission lists owner read..others execute, i.e. mode bits 0400 down to 0001.
        PosixFilePermission[] all = PosixFilePermission.values();
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        for (int i = 0; i < all.length; i++) {
            if ((mode & (1 << (all.length - 1 - i))) != 0) {
                set.add(all[i]);
            }
        }
        return set;
    }

    /** Makes renames and deletes in {@code dir} durable (where the platform can open a directory). */
    public static void forceDirectory(Path dir) {
        // Makes the rename durable. Some platforms (Windows) cannot open a directory; there the
        // rename is as durable as the file system makes it.
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // see above
        }
    }
}
