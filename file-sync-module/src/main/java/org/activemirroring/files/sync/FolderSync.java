package org.activemirroring.files.sync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

import org.activemirroring.files.BlockListDelta;
import org.activemirroring.files.FileChange;
import org.activemirroring.files.FileChangeCodec;
import org.activemirroring.files.FolderConfig;
import org.activemirroring.files.FolderEntry;
import org.activemirroring.files.FolderPaths;
import org.activemirroring.files.FolderScanResult;
import org.activemirroring.files.FolderScanner;
import org.activemirroring.files.transfer.BlocksUnavailableException;
import org.activemirroring.files.transfer.ContentMismatchException;
import org.activemirroring.files.transfer.FileAssembler;
import org.activemirroring.transport.PeerTransport;
import org.activemirroring.transport.TransportException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replicated folder at work: a scan finds local changes and publishes each as a
 * {@link FileChange} on the journal; wanted versions from other mirrors are written into place.
 * Scans of one folder never overlap (the caller runs them on one thread); writing wanted files may
 * run on several threads, one file each.
 */
public final class FolderSync {
    private static final Logger LOG = LoggerFactory.getLogger(FolderSync.class);

    private final FolderConfig.Folder folder;
    private final FolderState state;
    private final String self;
    private final PeerTransport transport;
    private final FolderScanner scanner;
    private final ContentDigest digest = new ContentDigest();
    private final FileChangeCodec codec = new FileChangeCodec();
    private final Refusals refusals;
    private volatile long lastScanAtMs;
    private volatile long lastScanMillis;
    private final AtomicLong scans = new AtomicLong();
    private volatile long published;
    private volatile int stillWriting;
    private volatile int refusedLocal;
    private volatile boolean caseInsensitive;
    private volatile Runnable scanSoon = () -> { };
    private final java.util.Set<String> clashesReported = java.util.concurrent.ConcurrentHashMap.newKeySet();

    public FolderSync(FolderConfig.Folder folder, FolderState state, String self, PeerTransport transport,
                      Clock clock, Refusals refusals) {
        this.folder = Objects.requireNonNull(folder);
        this.state = Objects.requireNonNull(state);
        this.self = self;
        this.transport = transport;
        this.scanner = new FolderScanner(digest, clock);
        this.refusals = refusals;
        this.caseInsensitive = probeCaseInsensitive(folder.root());
    }

    /** Whether the folder's file system takes {@code a} and {@code A} for the same name. */
    static boolean probeCaseInsensitive(Path root) {
        String name = org.activemirroring.files.FolderIndex.TEMP_PREFIX + "case-" + Long.toHexString(System.nanoTime());
        Path probe = root.resolve(name);
        try {
            java.nio.file.Files.createDirectories(root);
            java.nio.file.Files.write(probe, new byte[0]);
            return java.nio.file.Files.exists(root.resolve(name.toUpperCase(java.util.Locale.ROOT)));
        } catch (IOException e) {
            return false;
        } finally {
            try {
                java.nio.file.Files.deleteIfExists(probe);
            } catch (IOException e) {
                LOG.debug("Cannot delete {}: {}", probe, e.toString());
            }
        }
    }

    /** What asks for a scan of this folder soon (an edit here must be seen before a file is replaced). */
    public void onScanNeeded(Runnable r) {
        scanSoon = r;
    }

    /** For tests on a file system that tells case apart: behave as on one that does not. */
    void caseInsensitive(boolean on) {
        caseInsensitive = on;
    }

    public FolderConfig.Folder folder() {
        return folder;
    }

    public FolderState state() {
        return state;
    }

    /**
     * Whether the index already describes {@code file} (an absolute path in the folder) as it is
     * on disk: a live entry the file matches by the scan's own test
     * ({@link FolderEntry#unchangedAs}), or a deleted one whose file is gone. A scan would find
     * nothing to do for it, so the watcher need not run one for an event about it (the files this
     * mirror writes for other mirrors' changes).
     */
    public boolean indexedAsOnDisk(Path file) {
        FolderEntry e = state.local(FolderPaths.relative(folder.root(), file));
        if (e == null) {
            return false;
        }
        if (e.tombstone()) {
            return !Files.exists(file, LinkOption.NOFOLLOW_LINKS);
        }
        try {
            FolderState.Stat disk = FolderState.stat(file);
            return disk != null && e.unchangedAs(disk.size(), disk.mtimeMs(), disk.fileKey());
        } catch (IOException ex) {
            return false;
        }
    }

    /**
     * Scans the folder and publishes what changed here: new and changed files first, then deletes
     * (so a rename's new name arrives before its old name goes and its content is found locally).
     *
     * @return how many changes were published
     */
    public int scanAndPublish() throws IOException, TransportException {
        long started = System.nanoTime();
        FolderScanResult scan;
        digest.clear();
        scan = scanner.scan(folder, state.indexView());
        List<FolderEntry> found = new ArrayList<>(scan.added());
        found.addAll(scan.changed());
        int n = 0;
        try {
            for (FolderEntry e : found) {
                // The scanner gives the blocks of a file it knew under another name; else they were cut as it read.
                List<FolderEntry.BlockRef> blocks = !e.blocks().isEmpty() ? e.blocks()
                        : digest.take(folder.root().resolve(e.path()));
                if (blocks == null) {
                    // Read before this scan: cut now (a file that moves meanwhile is caught next scan).
                    ContentDigest.Digest d = ContentDigest.of(folder.root().resolve(e.path()));
                    if (!d.sha256Hex().equals(e.sha256Hex())) {
                        continue;
                    }
                    blocks = d.blocks();
                }
                FolderEntry before = state.local(e.path());
                n += publish(state.recordLocal(e.withBlocks(blocks), e.path(), 0), before);
            }
            for (FolderEntry e : scan.touched()) {
                state.recordTouched(e);
            }
            for (String path : scan.deleted()) {
                n += publish(state.recordLocal(null, path, scan.scannedAtMs()), null);
            }
        } finally {
            digest.clear();
            state.save();
        }
        stillWriting = scan.stillWriting().size();
        refusedLocal = scan.refused().size();
        for (FolderScanResult.Refusal r : scan.refused()) {
            refusals.localOnce(folder.name(), r.path(), r.reason());
        }
        lastScanAtMs = scan.scannedAtMs();
        lastScanMillis = (System.nanoTime() - started) / 1_000_000;
        scans.incrementAndGet();
        published += n;
        if (n > 0) {
            LOG.debug("Folder '{}': published {} change(s) ({} files unchanged, {} read)", folder.name(), n,
                    scan.unchanged(), scan.hashesDone());
        }
        return n;
    }

    /**
     * Publishes a local change. {@code before} is the path's entry this mirror held before it: when
     * the change is an edit of it, the block list goes as a {@link BlockListDelta} against it (a
     * receiver that does not hold it asks a peer for the whole list).
     */
    private int publish(FolderEntry e, FolderEntry before) throws TransportException {
        if (e == null) {
            return 0;
        }
        byte[] payload;
        if (!e.tombstone() && e.size() > 0 && state.localWithContent(e.sha256Hex(), e.path()) != null) {
            // A rename, a move or a copy: the other mirrors hold this content under the other name
            // (or ask for the block list), so it goes without one.
            payload = codec.encode(new FileChange(folder.name(), e.withBlocks(List.of())));
        } else {
            payload = codec.encode(new FileChange(folder.name(), e));
            if (!e.tombstone() && !e.blocks().isEmpty() && before != null && !before.tombstone()
                    && !before.blocks().isEmpty() && !before.sameContent(e)) {
                BlockListDelta delta = BlockListDelta.between(before.sha256Hex(), before.blocks(), e.blocks());
                byte[] smaller = codec.encode(new FileChange(folder.name(), e.withBlocks(List.of()), delta));
                if (smaller.length < payload.length) {
                    payload = smaller;
                }
            }
        }
        transport.publish(FileChange.PAYLOAD_TYPE, payload);
        return 1;
    }

    /** Asks peers for a path's entry when one arrived without its block list and none is here. */
    public interface EntryLookup {
        /**
         * The entry a peer holds for {@code path} of this folder with the content {@code sha256Hex}
         * (the version wanted here; a peer holding another version is passed over), or null.
         */
        FolderEntry lookup(String folder, String path, String sha256Hex);
    }

    private volatile EntryLookup lookup = (f, p, sha) -> null;

    /** Where a block list left out of a change is asked for (see {@link FolderEntry#blocksElided()}). */
    public void onBlocksMissing(EntryLookup l) {
        lookup = l;
    }

    /** {@code w} with its block list: from a file here with the same content, else from a peer; null if neither. */
    private FolderEntry resolveBlocks(FolderEntry w) {
        if (!w.blocksElided()) {
            return w;
        }
        FolderEntry same = state.localWithContent(w.sha256Hex(), w.path());
        if (same != null && same.sha256Hex().equals(w.sha256Hex())) {
            return w.withBlocks(same.blocks());
        }
        FolderEntry theirs = lookup.lookup(folder.name(), w.path(), w.sha256Hex());
        if (theirs != null && !theirs.blocksElided() && w.sha256Hex().equals(theirs.sha256Hex())
                && theirs.size() == w.size()) {
            return w.withBlocks(theirs.blocks());
        }
        return null;
    }

    /**
     * Writes one wanted version into place: fetches what is missing (from the mirror that made it
     * first, then any other), verifies it, and moves it in atomically; a tombstone deletes the file.
     *
     * @return true when written (or no longer wanted), false when it must be tried again later
     */
    public boolean materialize(FolderEntry w, FileAssembler assembler) throws InterruptedException {
        try {
            // The index is saved by the next delivery flush or the periodic save (not per file): a
            // crash before that finds the file written already, see FolderState#commitWanted.
            if (w.tombstone()) {
                state.commitWanted(w, () -> null);
                return true;
            }
            if (state.takeIfWritten(w)) {
                return true;
            }
            String twin = caseInsensitive ? state.caseTwin(w.path()) : null;
            if (twin != null) {
                // Written now it would overwrite the other name's file. A case-only rename's delete
                // of the old name comes after it; the file is written once that delete is done.
                if (clashesReported.add(w.path() + "\0" + twin)) {
                    refusals.refuse(w.modifiedBy(), folder.name(), "case-clash", w.path(), "'" + twin + "' differs only"
                            + " in case, and this file system cannot hold both; it is written once '" + twin + "' is gone");
                }
                return false;
            }
            if (state.takeByMove(w)) {
                return true; // renamed or moved elsewhere: the file here moves too, nothing is copied
            }
            FolderEntry full = resolveBlocks(w);
            if (full == null) {
                LOG.debug("Folder '{}': the block list of {} is not known here or at a reachable peer yet; tried again"
                        + " later", folder.name(), w.path());
                return false;
            }
            FileAssembler.Prepared p = assembler.prepare(folder.root(), full,
                    w.modifiedBy() == null ? List.of() : List.of(w.modifiedBy()));
            boolean done;
            try {
                done = state.commitWanted(w, full, () -> {
                    FileAssembler.FileStat s = assembler.commit(p, false); // forced before the index is saved
                    return new FolderState.Stat(s.size(), s.mtimeMs(), s.fileKey());
                });
            } catch (FolderState.UnscannedEditException e) {
                assembler.release(p); // kept: the next try finds it complete
                LOG.debug("Folder '{}': {}; scanning before writing the version from {}", folder.name(), e.getMessage(),
                        w.modifiedBy());
                scanSoon.run();
                return false;
            }
            if (!done) {
                assembler.discard(p);
            }
            return true;
        } catch (BlocksUnavailableException e) {
            LOG.debug("Folder '{}': {}; tried again later", folder.name(), e.getMessage());
            return false;
        } catch (ContentMismatchException | org.activemirroring.files.transfer.RefusedTargetException
                 | org.activemirroring.files.FolderPathException e) {
            refusals.refuse(w.modifiedBy(), folder.name(), e instanceof ContentMismatchException ? "content-mismatch"
                    : "unsafe-path", w.path(), e.getMessage());
            state.dropWanted(w);
            return true;
        } catch (java.nio.file.NoSuchFileException e) {
            // Moved or deleted here while it was being written: the next try sees what is there now.
            LOG.debug("Folder '{}': {} changed while it was written ({}); tried again", folder.name(), w.path(),
                    e.toString());
            return false;
        } catch (IOException e) {
            LOG.warn("Folder '{}': cannot write {} here ({}); tried again later", folder.name(), w.path(), e.toString());
            return false;
        }
    }

    /**
     * Deletes partial transfers ({@code .am-tmp-<hash>.part}) that no wanted version will resume:
     * left by versions superseded or refused while their transfer waited. Run once at start.
     *
     * @return how many were deleted
     */
    public int sweepPartials() {
        java.util.Set<String> wantedNames = new java.util.HashSet<>();
        for (FolderEntry w : state.wantedEntries()) {
            if (!w.tombstone()) {
                wantedNames.add(org.activemirroring.files.FolderIndex.TEMP_PREFIX + w.sha256Hex().substring(0, 32)
                        + ".part");
            }
        }
        int[] deleted = new int[1];
        try (java.util.stream.Stream<Path> all = java.nio.file.Files.walk(folder.root())) {
            all.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(org.activemirroring.files.FolderIndex.TEMP_PREFIX) && n.endsWith(".part")
                        && !wantedNames.contains(n) && java.nio.file.Files.isRegularFile(p,
                        java.nio.file.LinkOption.NOFOLLOW_LINKS);
            }).forEach(p -> {
                try {
                    java.nio.file.Files.delete(p);
                    deleted[0]++;
                } catch (IOException e) {
                    LOG.debug("Cannot delete {}: {}", p, e.toString());
                }
            });
        } catch (IOException | java.io.UncheckedIOException e) {
            LOG.debug("Folder '{}': looking for partial transfers failed: {}", folder.name(), e.toString());
        }
        if (deleted[0] > 0) {
            LOG.info("Folder '{}': deleted {} partial transfer(s) that nothing resumes", folder.name(), deleted[0]);
        }
        return deleted[0];
    }

    public long lastScanAtMs() {
        return lastScanAtMs;
    }

    /** Scans since start. */
    public long scans() {
        return scans.get();
    }

    public long lastScanMillis() {
        return lastScanMillis;
    }

    public long published() {
        return published;
    }

    public int stillWriting() {
        return stillWriting;
    }

    public int refusedLocal() {
        return refusedLocal;
    }
}
