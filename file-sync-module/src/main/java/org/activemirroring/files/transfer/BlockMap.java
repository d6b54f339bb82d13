package org.activemirroring.files.transfer;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

import org.activemirroring.files.FolderEntry;
import org.activemirroring.files.FolderPaths;

/**
 * The blocks of every indexed file on this mirror, by SHA-256: the {@link LocalBlocks} of the
 * folders. Fed from the folder indexes ({@link #add} for each live entry at start, then on every
 * change), it lets a renamed, copied or slightly edited file be built from bytes already on disk,
 * and lets this mirror serve blocks to peers.
 *
 * <p>At most {@value #MAX_PLACES_PER_HASH} places are kept per hash, the newest first: a block
 * shared by thousands of files (zeros, a common header) needs only a few places, and the newest
 * are the most likely still to hold it. Memory is then bounded by the number of distinct blocks.
 * Thread-safe (one lock; each call is short). Arguments are never null.
 */
public final class BlockMap implements LocalBlocks {

    /** Places kept per hash; older ones are forgotten. */
    public static final int MAX_PLACES_PER_HASH = 4;

    private final Map<String, ArrayDeque<BlockPlace>> places = new HashMap<>();
    private final Map<Path, FileStamp> stamps = new HashMap<>();

    /** Records the blocks of {@code e} (unless it is a tombstone) as held at {@code folderRoot}/{@code e.path()}. */
    public void add(Path folderRoot, FolderEntry e) {
        if (e.tombstone()) {
            return;
        }
        Path file = fileOf(folderRoot, e);
        FileStamp stamp = FileStamp.of(e);
        synchronized (this) {
            if (stamp == null) {
                stamps.remove(file);
            } else {
                stamps.put(file, stamp);
            }
            for (FolderEntry.BlockRef ref : e.blocks()) {
                BlockPlace place = new BlockPlace(file, ref.offset(), ref.length());
                ArrayDeque<BlockPlace> q = places.computeIfAbsent(key(ref.sha256Hex()), k -> new ArrayDeque<>(2));
                q.remove(place);
                q.addFirst(place);
                while (q.size() > MAX_PLACES_PER_HASH) {
                    q.removeLast();
                }
            }
        }
    }

    /** Forgets the blocks of {@code e} at {@code folderRoot}/{@code e.path()} (call with the entry being replaced). */
    public void remove(Path folderRoot, FolderEntry e) {
        if (e.tombstone()) {
            return;
        }
        Path file = fileOf(folderRoot, e);
        FileStamp stamp = FileStamp.of(e);
        synchronized (this) {
            // Only this entry's stamp: the file's next entry may have been added already.
            if (stamp != null) {
                stamps.remove(file, stamp);
            }
            for (FolderEntry.BlockRef ref : e.blocks()) {
                String key = key(ref.sha256Hex());
                ArrayDeque<BlockPlace> q = places.get(key);
                if (q != null && q.remove(new BlockPlace(file, ref.offset(), ref.length())) && q.isEmpty()) {
                    places.remove(key);
                }
            }
        }
    }

    /** Forgets every place under {@code folderRoot} (a folder removed from the configuration, or re-indexed whole). */
    public synchronized void clear(Path folderRoot) {
        Path root = normalized(folderRoot);
        stamps.keySet().removeIf(f -> f.startsWith(root));
        Iterator<ArrayDeque<BlockPlace>> it = places.values().iterator();
        while (it.hasNext()) {
            ArrayDeque<BlockPlace> q = it.next();
            q.removeIf(p -> p.file().startsWith(root));
            if (q.isEmpty()) {
                it.remove();
            }
        }
    }

    /** How many distinct block hashes have at least one place. */
    public synchronized int size() {
        return places.size();
    }

    @Override
    public synchronized List<BlockPlace> places(String sha256Hex) {
        ArrayDeque<BlockPlace> q = places.get(key(sha256Hex));
        return q == null ? List.of() : List.copyOf(q);
    }

    @Override
    public synchronized FileStamp stamp(Path file) {
        return stamps.get(file);
    }

    private static Path fileOf(Path folderRoot, FolderEntry e) {
        String why = FolderPaths.refusal(e.path());
        if (why != null) {
            throw new IllegalArgumentException("Invalid folder entry path '" + e.path() + "': " + why
                    + "; only entries accepted by the folder index belong in the block map");
        }
        return normalized(folderRoot).resolve(e.path());
    }

    private static Path normalized(Path folderRoot) {
        return Objects.requireNonNull(folderRoot, "folderRoot").toAbsolutePath().normalize();
    }

    private static String key(String sha256Hex) {
        return Objects.requireNonNull(sha256Hex, "sha256Hex").toLowerCase(Locale.ROOT);
    }
}
