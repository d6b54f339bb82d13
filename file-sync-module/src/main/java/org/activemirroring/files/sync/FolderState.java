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
import org.activemirroring.files.FolderSiblings;
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
    private final FolderSiblings siblings;
    private final ConflictCopies copies;
    private final BlockMap blocks;
    private boolean dirty;
    private int liveFiles;
    /** Live local paths by content hash: which file here holds a given content. */
    private final Map<String, java.util.Set<String>> pathsBySha = new java.util.HashMap<>();
    /** Directories with renames or deletes not forced to disk yet: forced before the index is saved. */
    private final java.util.Set<Path> dirsToSync = new java.util.HashSet<>();
    private long changesTaken;
    private long merged;

    public FolderState(String name, Path root, String self, FolderIndex index, FolderIndex wanted,
                       FolderSiblings siblings, BlockMap blocks) {
        this.name = Objects.requireNonNull(name);
        this.root = Objects.requireNonNull(root);
        this.self = Objects.requireNonNull(self);
        this.index = index;
        this.wanted = wanted;
        this.siblings = siblings;
        this.copies = new ConflictCopies(name, root, self, blocks);
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
        return copies.made();
    }

    /** Losing siblings kept (concurrent versions that lost and that no later version has seen yet). */
    public synchronized int siblingCount() {
        return siblings.size();
    }

    /**
     * What this mirror knows of the folder, sorted by path: per path the wanted entry if any, else
     * the local one, followed by the path's losing siblings. A mirror that copies the folder takes
     * them all, so that it decides later versions among the same set as every other mirror.
     */
    public synchronized List<FolderEntry> snapshot() {
        TreeMap<String, FolderEntry> all = new TreeMap<>();
        for (FolderEntry e : index.entries()) {
            all.put(e.path(), e);
        }
        for (FolderEntry e : wanted.entries()) {
            all.put(e.path(), e);
        }
        List<FolderEntry> out = new ArrayList<>(all.size() + siblings.size());
        for (FolderEntry e : all.values()) {
            out.add(e);
            out.addAll(siblings.of(e.path()));
        }
        return out;
    }

    /**
     * Merges a version made elsewhere (its {@code modifiedBy} set, its {@code fileKey} ignored).
     * The path's versions are the maximal ones known here: a version that one of them has seen is
     * ignored; one that is new replaces those it has seen and joins the others, and
     * {@link ConflictRule} picks the winner among all of them. No vector is merged here: every
     * mirror ends with the same set of versions, so with the same winner, in whatever order they
     * came. May rename the local file to its conflict copy when it is a version that lost.
     */
    public synchronized Outcome offer(FolderEntry remote) {
        String path = remote.path();
        FolderEntry r = new FolderEntry(path, remote.size(), remote.mtimeMs(), remote.mode(), null,
                remote.sha256Hex(), remote.blocks(), remote.versions(), remote.tombstone(), remote.modifiedBy());
        FolderEntry w = wanted.get(path);
        FolderEntry l = index.get(path);
        List<FolderEntry> known = versions(path, w, l);
        for (FolderEntry v : known) {
            VersionVectors.Order o = VersionVectors.compare(r.versions(), v.versions());
            if (o == VersionVectors.Order.EQUAL || o == VersionVectors.Order.BEFORE) {
                return Outcome.IGNORED;
            }
        }
        List<FolderEntry> next = new ArrayList<>(known.size() + 1);
        next.add(r);
        for (FolderEntry v : known) {
            if (VersionVectors.compare(v.versions(), r.versions()) != VersionVectors.Order.BEFORE) {
                next.add(v); // r has not seen it: it stays a version of the path
            }
        }
        FolderEntry top = known.isEmpty() ? null : known.get(0);
        FolderEntry win = settle(path, next, w, l);
        if (win == r) {
            return wanted.get(path) == null ? Outcome.MERGED : Outcome.WANTED;
        }
        return win == top ? Outcome.KEPT_LOCAL : Outcome.WANTED;
    }

    /** The path's maximal versions known here: the winner (wanted, else local) first, then its losing siblings. */
    private List<FolderEntry> versions(String path, FolderEntry w, FolderEntry l) {
        FolderEntry top = w != null ? w : l;
        if (top == null) {
            return List.of();
        }
        List<FolderEntry> all = new ArrayList<>(1 + siblings.of(path).size());
        all.add(top);
        all.addAll(siblings.of(path));
        return all;
    }

    /**
     * Makes {@code next} the path's versions: the rule's winner becomes the wanted version (or the
     * local one, when the disk holds its content already), the others its losing siblings. A
     * local file that is one of the losers is kept as its conflict copy first; one that a version
     * of {@code next} has seen is simply replaced.
     */
    private FolderEntry settle(String path, List<FolderEntry> next, FolderEntry w, FolderEntry l) {
        FolderEntry win = next.get(0);
        for (FolderEntry v : next) {
            win = ConflictRule.winner(win, v);
        }
        List<FolderEntry> losers = new ArrayList<>(next.size() - 1);
        for (FolderEntry v : next) {
            if (v != win) {
                losers.add(v);
            }
        }
        siblings.set(path, losers);
        dirty = true;
        if (l == null ? win.tombstone() : win.sameContent(l) && (w == null || onDisk(l))) {
            // The disk holds this version's content already (or nothing, and it is a delete).
            if (w != null) {
                wanted.remove(path);
            }
            FolderEntry taken = l == null || win.tombstone() ? win
                    : (win.blocksElided() ? win.withBlocks(l.blocks()) : win).withStat(l.size(), l.mtimeMs(), l.fileKey());
            if (!taken.equals(l)) {
                putLocal(taken);
                merged++;
            }
            return win;
        }
        if (l != null && !l.tombstone() && isVersionOf(l, losers)) {
            keepConflictCopy(l);
        }
        if (!win.equals(w)) {
            putWanted(win);
        }
        return win;
    }

    /** Whether {@code e}'s version is one of {@code versions} (by vector). */
    private static boolean isVersionOf(FolderEntry e, List<FolderEntry> versions) {
        for (FolderEntry v : versions) {
            if (v.versions().equals(e.versions())) {
                return true;
            }
        }
        return false;
    }

    /** Keeps the local losing version {@code loser} as its conflict copy (see {@link ConflictCopies}). */
    private void keepConflictCopy(FolderEntry loser) {
        Path changedDir = copies.keep(loser);
        if (changedDir != null) {
            dirsToSync.add(changedDir);
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
            // The delete saw every version of the path: the losing ones are kept as conflict copies.
            FolderEntry tomb = l.toTombstone(deletedAtMs).withVersions(seenAll(path, l)).bumped(self);
            siblings.set(path, List.of());
            putLocal(tomb);
            return tomb;
        }
        if (l != null && !l.tombstone() && l.size() == found.size() && l.mtimeMs() == found.mtimeMs()
                && Objects.equals(l.fileKey(), found.fileKey())) {
            return null; // this mirror wrote it (or the scan saw it twice)
        }
        if (w == null) {
            // An edit of what the folder shows: it has seen every version of the path.
            FolderEntry mine = found.withVersions(l == null ? Map.of() : seenAll(path, l)).bumped(self);
            siblings.set(path, List.of());
            putLocal(mine);
            return mine;
        }
        // An edit of the file as it was before the wanted version came: it has seen only that, and
        // is decided against the path's versions by the rule, as every other mirror will. Its own
        // counter goes above every one this mirror gave a version of the path known here: the local
        // file may be a version that won over one of this mirror's, and repeating that one's counter
        // would make the edit look older than versions made on top of it elsewhere.
        FolderEntry mine = found.withVersions(ownCounterAbove(l == null ? Map.of() : l.versions(), path, w, l))
                .bumped(self);
        List<FolderEntry> next = new ArrayList<>();
        next.add(mine);
        for (FolderEntry v : versions(path, w, l)) {
            if (VersionVectors.compare(v.versions(), mine.versions()) != VersionVectors.Order.BEFORE) {
                next.add(v);
            }
        }
        putLocal(mine); // the disk holds it: a conflict copy or a write of the winner starts from there
        settle(path, next, wanted.get(path), mine);
        return mine;
    }

    /** {@code v} with this mirror's counter raised to the highest it has in {@code path}'s versions known here. */
    private Map<String, Long> ownCounterAbove(Map<String, Long> v, String path, FolderEntry w, FolderEntry l) {
        long own = v.getOrDefault(self, 0L);
        List<FolderEntry> known = new ArrayList<>(versions(path, w, l));
        if (l != null) {
            known.add(l);
        }
        for (FolderEntry e : known) {
            own = Math.max(own, e.versions().getOrDefault(self, 0L));
        }
        if (own == 0) {
            return v;
        }
        Map<String, Long> raised = new TreeMap<>(v);
        raised.put(self, own);
        return raised;
    }

    /** The vector of a version that has seen {@code l} and every version of {@code path} known here. */
    private Map<String, Long> seenAll(String path, FolderEntry l) {
        Map<String, Long> v = l.versions();
        for (FolderEntry s : siblings.of(path)) {
            v = VersionVectors.merge(v, s.versions());
        }
        return v;
    }

    /** Whether the file on disk is the one {@code l} describes. */
    private boolean onDisk(FolderEntry l) {
        try {
            Stat disk = stat(FolderPaths.resolveInside(root, l.path()));
            return l.tombstone() ? disk == null : disk != null && matches(l, disk);
        } catch (IOException e) {
            return false;
        }
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
        if (disk != null && matches(l, disk) && !l.sameContent(w) && isVersionOf(l, siblings.of(w.path()))) {
            // The file here is a version that lost, not one the wanted version has seen: it is kept
            // as its conflict copy before anything replaces it (an earlier attempt failed).
            keepConflictCopy(l);
            disk = stat(file);
            if (disk != null) {
                throw new IOException("the losing version of '" + FolderPaths.printable(w.path())
                        + "' cannot be kept as a conflict copy yet");
            }
        }
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
     * Puts a wanted version in place by moving a local file with its content whose own path is
     * wanted deleted (a rename or a move made on another mirror), instead of copying its blocks;
     * that delete is then done too. False, with nothing changed, when there is no such file or the
     * target path holds a file here.
     */
    public synchronized boolean takeByMove(FolderEntry w) throws IOException {
        if (w.tombstone() || w.size() == 0 || !w.equals(wanted.get(w.path()))) {
            return false;
        }
        FolderEntry there = index.get(w.path());
        Path target = FolderPaths.resolveInside(root, w.path());
        java.util.Set<String> paths = pathsBySha.get(w.sha256Hex());
        if ((there != null && !there.tombstone()) || stat(target) != null || paths == null) {
            return false;
        }
        for (String p : List.copyOf(paths)) {
            FolderEntry gone = wanted.get(p);
            FolderEntry src = index.get(p);
            if (p.equals(w.path()) || gone == null || !gone.tombstone() || src == null) {
                continue;
            }
            Path from = FolderPaths.resolveInside(root, p);
            Stat disk = stat(from);
            if (disk == null || !matches(src, disk)) {
                continue;
            }
            org.activemirroring.files.transfer.FileAssembler.FileStat moved =
                    org.activemirroring.files.transfer.FileAssembler.moveInto(root, from, w);
            dirsToSync.add(from.getParent());
            dirsToSync.add(target.getParent());
            wanted.remove(w.path());
            putLocal((w.blocksElided() ? w.withBlocks(src.blocks()) : w).withStat(moved.size(), moved.mtimeMs(),
                    moved.fileKey()));
            wanted.remove(p);
            putLocal(gone);
            changesTaken += 2;
            return true;
        }
        return false;
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
        siblings.save();
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
