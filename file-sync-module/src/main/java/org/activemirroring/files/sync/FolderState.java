package org.activemirroring.files.sync;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

import org.activemirroring.files.FolderEntry;
import org.activemirroring.files.FolderIndex;
import org.activemirroring.files.FolderPaths;
import org.activemirroring.files.transfer.BlockMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one mirror knows of one replicated folder, and every decision that changes it, under one
 * lock: the local index (what the folder holds here), the wanted entries (newer versions other
 * mirrors made, not written here yet), and the merge of a version from elsewhere into both.
 *
 * <p>Both are durable files in the data directory ({@code <name>.index}, {@code <name>.wanted}),
 * saved by {@link #save()}: a received change is durable before it is recorded as applied. Merges
 * are by version vector, so the order versions arrive in does not matter, and a version offered
 * twice changes nothing:
 * <ul>
 *   <li>older or equal to what is known: ignored;</li>
 *   <li>newer: wanted (the same content: only the vector is taken, nothing is transferred);</li>
 *   <li>concurrent: {@link ConflictRule} picks the winner; the local loser's file is renamed to its
 *       conflict copy here (a scan then replicates it as a new file), a loser held elsewhere is
 *       kept by the mirror that holds it.</li>
 * </ul>
 * The folder's scan ({@link #recordLocal}) and writing wanted files ({@link #commitWanted}) also
 * go through here, so that a file this mirror wrote is never mistaken for a local edit.
 */
public final class FolderState {
    private static final Logger LOG = LoggerFactory.getLogger(FolderState.class);

    /** What became of a version offered to the folder. */
    public enum Outcome { IGNORED, MERGED, WANTED, KEPT_LOCAL }

    /** A file's stat on disk, or what the index recorded of it. */
    public record Stat(long size, long mtimeMs, String fileKey) {
    }

    private final String name;
    private final Path root;
    private final String self;
    private final FolderIndex index;
    private final FolderIndex wanted;
    private final BlockMap blocks;
    private boolean dirty;
    private int liveFiles;
    /** Live local paths by content hash: which file here holds a given content. */
    private final Map<String, java.util.Set<String>> pathsBySha = new java.util.HashMap<>();
    /** Directories with renames or deletes not forced to disk yet: forced before the index is saved. */
    private final java.util.Set<Path> dirsToSync = new java.util.HashSet<>();
    private long conflictCopies;
    private long changesTaken;
    private long merged;

    public FolderState(String name, Path root, String self, FolderIndex index, FolderIndex wanted, BlockMap blocks) {
        this.name = Objects.requireNonNull(name);
        this.root = Objects.requireNonNull(root);
        this.self = Objects.requireNonNull(self);
        this.index = index;
        this.wanted = wanted;
        this.blocks = blocks;
        for (FolderEntry e : index.entries()) {
            blocks.add(root, e);
            liveFiles += e.tombstone() ? 0 : 1;
            bySha(e, true);
        }
    }

    public String name() {
        return name;
    }

    public Path root() {
        return root;
    }

    /** The local entry of {@code path}, or null. */
    public synchronized FolderEntry local(String path) {
        return index.get(path);
    }

    /** What this mirror knows of {@code path}: the wanted version if one is on its way, else the local one; or null. */
    public synchronized FolderEntry current(String path) {
        FolderEntry w = wanted.get(path);
        return w != null ? w : index.get(path);
    }

    /** A copy of the local index for a scan to compare against (the scan never changes it). */
    public synchronized FolderIndex indexView() {
        return index.copy();
    }

    /** The wanted (newer, not written here yet) entry of {@code path}, or null. */
    public synchronized FolderEntry wanted(String path) {
        return wanted.get(path);
    }

    /** Wanted entries, live files first (a rename's new name is written before its old one goes). */
    public synchronized List<FolderEntry> wantedEntries() {
        List<FolderEntry> live = new ArrayList<>();
        List<FolderEntry> tombs = new ArrayList<>();
        for (FolderEntry e : wanted.entries()) {
            (e.tombstone() ? tombs : live).add(e);
        }
        live.addAll(tombs);
        return live;
    }

    public synchronized int wantedCount() {
        return wanted.size();
    }

    /** Live files in the local index (kept as entries change: status polls it often). */
    public synchronized int fileCount() {
        return liveFiles;
    }

    public synchronized long conflictCopies() {
        return conflictCopies;
    }

    /** What this mirror knows of the folder: per path the wanted entry if any, else the local one. */
    public synchronized List<FolderEntry> snapshot() {
        TreeMap<String, FolderEntry> all = new TreeMap<>();
        for (FolderEntry e : index.entries()) {
            all.put(e.path(), e);
        }
        for (FolderEntry e : wanted.entries()) {
            all.put(e.path(), e);
        }
        return new ArrayList<>(all.values());
    }

    /**
     * Merges a version made elsewhere (its {@code modifiedBy} set, its {@code fileKey} ignored).
     * May rename the local file to its conflict copy when the local version loses.
     */
    public synchronized Outcome offer(FolderEntry remote) {
        FolderEntry w = wanted.get(remote.path());
        FolderEntry l = index.get(remote.path());
        FolderEntry current = w != null ? w : l;
        FolderEntry r = new FolderEntry(remote.path(), remote.size(), remote.mtimeMs(), remote.mode(), null,
                remote.sha256Hex(), remote.blocks(), remote.versions(), remote.tombstone(), remote.modifiedBy());
        if (current == null) {
            if (r.tombstone()) {
                putLocal(r); // nothing here to delete
                return Outcome.MERGED;
            }
            putWanted(r);
            return Outcome.WANTED;
        }
        VersionVectors.Order order = VersionVectors.compare(r.versions(), current.versions());
        switch (order) {
            case EQUAL, BEFORE -> {
                return Outcome.IGNORED;
            }
            case AFTER -> {
                if (w == null && r.sameContent(l)) {
                    putLocal((r.blocksElided() ? r.withBlocks(l.blocks()) : r).withStat(l.size(), l.mtimeMs(),
                            l.fileKey()));
                    merged++;
                    return Outcome.MERGED;
                }
                putWanted(r);
                return Outcome.WANTED;
            }
            default -> {
                Map<String, Long> both = VersionVectors.merge(r.versions(), current.versions());
                if (r.sameContent(current)) {
                    if (w != null) {
                        putWanted(w.withVersions(both));
                    } else {
                        putLocal(l.withVersions(both));
                    }
                    merged++;
                    return Outcome.MERGED;
                }
                FolderEntry win = ConflictRule.winner(r, current);
                if (win == current) {
                    if (w != null) {
                        putWanted(w.withVersions(both));
                    } else {
                        putLocal(l.withVersions(both));
                    }
                    return Outcome.KEPT_LOCAL;
                }
                if (w == null && !l.tombstone()) {
                    keepConflictCopy(l);
                }
                putWanted(r.withVersions(both));
                return Outcome.WANTED;
            }
        }
    }

    /**
     * Renames the file at {@code loser.path()} to its conflict copy. If the file is not the
     * loser's (an edit not scanned yet) it is kept all the same, named as this mirror's edit.
     */
    private void keepConflictCopy(FolderEntry loser) {
        try {
            Path file = FolderPaths.resolveInside(root, loser.path());
            Stat disk = stat(file);
            if (disk == null) {
                return; // already renamed (a repeated offer) or deleted
            }
            boolean isLoser = matches(loser, disk);
            String sha = isLoser && loser.sha256Hex() != null ? loser.sha256Hex() : ContentDigest.sha256(file);
            String copy = ConflictRule.conflictPath(loser.path(), isLoser ? loser.mtimeMs() : disk.mtimeMs(),
                    isLoser ? loser.modifiedBy() : self);
            Path target = FolderPaths.resolveInside(root, copy);
            if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                if (sha.equals(ContentDigest.sha256(target))) {
                    Files.delete(file); // this very version is kept under that name already
                    dirsToSync.add(file.getParent());
                    conflictCopies++;
                    return;
                }
                // Another version of the same mirror and second: named apart by its content.
                copy = ConflictRule.conflictPath(loser.path(), isLoser ? loser.mtimeMs() : disk.mtimeMs(),
                        (isLoser ? loser.modifiedBy() : self) + "-" + sha.substring(0, 8));
                target = FolderPaths.resolveInside(root, copy);
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    Files.delete(file); // the same content under its content-named copy
                    dirsToSync.add(file.getParent());
                    conflictCopies++;
                    return;
                }
            }
            Files.move(file, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            dirsToSync.add(file.getParent());
            conflictCopies++;
            LOG.info("Folder '{}': concurrent edits of {}; this mirror's losing version is kept as {}", name,
                    FolderPaths.printable(loser.path()), FolderPaths.printable(copy));
        } catch (IOException e) {
            LOG.warn("Folder '{}': cannot keep the losing version of {} as a conflict copy ({}); the winning version"
                    + " waits until it can", name, FolderPaths.printable(loser.path()), e.toString());
        }
    }

    /**
     * Records a local change found by a scan and returns the entry to publish, or null when there
     * is nothing to publish (the file is one this mirror wrote, or the change is already known).
     *
     * @param found the scanned entry (stat, content hash, blocks; no versions), or null for a delete
     * @param path  the path
     * @param deletedAtMs when the delete was seen (for a delete)
     */
    public synchronized FolderEntry recordLocal(FolderEntry found, String path, long deletedAtMs) {
        FolderEntry l = index.get(path);
        FolderEntry w = wanted.get(path);
        if (found == null) {
            if (w != null || l == null || l.tombstone()) {
                return null; // a wanted version is on its way; or nothing to delete
            }
            try {
                if (stat(FolderPaths.resolveInside(root, path)) != null) {
                    return null; // written meanwhile
                }
            } catch (IOException e) {
                return null;
            }
            FolderEntry tomb = l.toTombstone(deletedAtMs).bumped(self);
            putLocal(tomb);
            return tomb;
        }
        if (l != null && !l.tombstone() && l.size() == found.size() && l.mtimeMs() == found.mtimeMs()
                && Objects.equals(l.fileKey(), found.fileKey())) {
            return null; // this mirror wrote it (or the scan saw it twice)
        }
        FolderEntry mine = found.withVersions(l == null ? Map.of() : l.versions()).bumped(self);
        if (w != null) {
            VersionVectors.Order order = VersionVectors.compare(mine.versions(), w.versions());
            if (order == VersionVectors.Order.CONCURRENT) {
                Map<String, Long> both = VersionVectors.merge(mine.versions(), w.versions());
                if (mine.sameContent(w) || ConflictRule.winner(mine, w) == mine) {
                    wanted.remove(path);
                    dirty = true;
                    putLocal(mine.withVersions(both));
                    return mine;
                }
                keepConflictCopy(mine);
                putWanted(w.withVersions(both));
                putLocal(mine);
                return mine;
            }
        }
        putLocal(mine);
        return mine;
    }

    /** Records a new stat of an unchanged file (touched): nothing is published. */
    public synchronized void recordTouched(FolderEntry found) {
        FolderEntry l = index.get(found.path());
        if (l != null && !l.tombstone() && Objects.equals(l.sha256Hex(), found.sha256Hex())) {
            putLocal(l.withStat(found.size(), found.mtimeMs(), found.fileKey()));
        }
    }

    /** The file to be replaced was edited here and not scanned yet: scan, then try again. */
    public static final class UnscannedEditException extends IOException {
        private static final long serialVersionUID = 1L;

        UnscannedEditException(String path) {
            super("'" + FolderPaths.printable(path) + "' was changed here since the last scan");
        }
    }

    /** What writes a wanted file into place, given that the folder allows it now. */
    @FunctionalInterface
    public interface Writer {
        Stat write() throws IOException;
    }

    /**
     * Puts a wanted version in place if it is still the wanted one: {@code writer} moves the new
     * content in (for a tombstone, the file is deleted). A local edit not scanned yet is never
     * overwritten: {@link UnscannedEditException} asks for a scan first. Returns false if another version became wanted meanwhile, or
     * the file on disk is this version already (written before a crash): the writer is not called.
     */
    public synchronized boolean commitWanted(FolderEntry w, Writer writer) throws IOException {
        return commitWanted(w, w, writer);
    }

    /**
     * As {@link #commitWanted(FolderEntry, Writer)}, recording {@code resolved} (the wanted version
     * with the block list it arrived without, see {@link FolderEntry#blocksElided()}).
     */
    public synchronized boolean commitWanted(FolderEntry w, FolderEntry resolved, Writer writer) throws IOException {
        if (!w.equals(wanted.get(w.path()))) {
            return false;
        }
        FolderEntry l = index.get(w.path());
        Path file = FolderPaths.resolveInside(root, w.path());
        Stat disk = stat(file);
        boolean unscannedEdit = disk != null && !matches(l, disk);
        if (w.tombstone()) {
            if (disk != null && !unscannedEdit) {
                Files.delete(file);
                dirsToSync.add(file.getParent());
            }
            // An edit not scanned yet stays: the next scan publishes it as newer than the delete.
            wanted.remove(w.path());
            putLocal(w);
            return true;
        }
        if (unscannedEdit && disk.size() == w.size() && w.sha256Hex().equals(ContentDigest.sha256(file))) {
            // Written before a crash, before the index was saved: take it as it is.
            wanted.remove(w.path());
            putLocal(w.withStat(disk.size(), disk.mtimeMs(), disk.fileKey()));
            changesTaken++;
            return false;
        }
        if (unscannedEdit) {
            // An edit here that no scan has seen: the scan decides it against this version by the
            // conflict rule, as every other mirror will (see recordLocal); until then nothing is written.
            throw new UnscannedEditException(w.path());
        }
        Stat written = writer.write();
        dirsToSync.add(file.getParent());
        wanted.remove(w.path());
        putLocal(resolved.withStat(written.size(), written.mtimeMs(), written.fileKey()));
        changesTaken++;
        return true;
    }

    /**
     * Takes a wanted version as written when the file on disk is it already (written before a
     * crash, before the index was saved), without fetching anything. False when it is not.
     */
    public synchronized boolean takeIfWritten(FolderEntry w) throws IOException {
        if (w.tombstone() || !w.equals(wanted.get(w.path()))) {
            return false;
        }
        Path file = FolderPaths.resolveInside(root, w.path());
        Stat disk = stat(file);
        if (disk == null || matches(index.get(w.path()), disk) || disk.size() != w.size()) {
            return false;
        }
        ContentDigest.Digest d = ContentDigest.of(file);
        if (!w.sha256Hex().equals(d.sha256Hex())) {
            return false;
        }
        wanted.remove(w.path());
        putLocal(w.withBlocks(d.blocks()).withStat(disk.size(), disk.mtimeMs(), disk.fileKey()));
        changesTaken++;
        return true;
    }

    /**
     * Another live path of this folder that differs from {@code path} only in case, or null: on a
     * file system that does not tell case apart, both would be one file.
     */
    public synchronized String caseTwin(String path) {
        for (FolderEntry e : index.entries()) {
            if (!e.tombstone() && !e.path().equals(path) && e.path().equalsIgnoreCase(path)) {
                return e.path();
            }
        }
        return null;
    }

    /** Drops a wanted version that cannot be written here (refused); the local file stays as it is. */
    public synchronized void dropWanted(FolderEntry w) {
        if (w.equals(wanted.get(w.path()))) {
            wanted.remove(w.path());
            dirty = true;
        }
    }

    /** Saves the index and the wanted entries now, changed or not (the index file then exists). */
    public synchronized void saveNow() throws IOException {
        dirty = true;
        save();
    }

    /** Saves the index and the wanted entries if anything changed since the last save. */
    public synchronized void save() throws IOException {
        if (!dirty) {
            return;
        }
        // What the index will say must be on disk first: a rename the index records but a crash
        // undid would look like a delete to the next scan.
        for (Path dir : dirsToSync) {
            org.activemirroring.files.transfer.FileAssembler.forceDirectory(dir);
        }
        dirsToSync.clear();
        index.save();
        wanted.save();
        dirty = false;
    }

    private void putLocal(FolderEntry e) {
        FolderEntry old = index.get(e.path());
        if (old != null) {
            blocks.remove(root, old);
            liveFiles -= old.tombstone() ? 0 : 1;
            bySha(old, false);
        }
        liveFiles += e.tombstone() ? 0 : 1;
        bySha(e, true);
        index.put(e);
        blocks.add(root, e);
        dirty = true;
    }

    private void bySha(FolderEntry e, boolean add) {
        if (e.tombstone() || e.sha256Hex() == null || e.blocks().isEmpty()) {
            return;
        }
        if (add) {
            pathsBySha.computeIfAbsent(e.sha256Hex(), k -> new java.util.HashSet<>(2)).add(e.path());
        } else {
            java.util.Set<String> paths = pathsBySha.get(e.sha256Hex());
            if (paths != null && paths.remove(e.path()) && paths.isEmpty()) {
                pathsBySha.remove(e.sha256Hex());
            }
        }
    }

    /**
     * A live local entry, other than {@code path}'s, with this content and its block list, or
     * null: a file whose content this mirror holds under another name.
     */
    public synchronized FolderEntry localWithContent(String sha256Hex, String path) {
        java.util.Set<String> paths = pathsBySha.get(sha256Hex);
        if (paths == null) {
            return null;
        }
        for (String p : paths) {
            if (!p.equals(path)) {
                return index.get(p);
            }
        }
        return null;
    }

    private void putWanted(FolderEntry e) {
        wanted.put(e);
        dirty = true;
    }

    /** Whether the index entry describes the file on disk (size, mtime, file key). */
    static boolean matches(FolderEntry l, Stat disk) {
        return l != null && !l.tombstone() && l.size() == disk.size() && l.mtimeMs() == disk.mtimeMs()
                && (l.fileKey() == null || Objects.equals(l.fileKey(), disk.fileKey()));
    }

    /** The stat of a regular file, or null when there is none (missing, or not a regular file). */
    public static Stat stat(Path file) throws IOException {
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isRegularFile()) {
                return null;
            }
            return new Stat(a.size(), a.lastModifiedTime().toMillis(), a.fileKey() == null ? null : a.fileKey().toString());
        } catch (NoSuchFileException e) {
            return null;
        }
    }
}
