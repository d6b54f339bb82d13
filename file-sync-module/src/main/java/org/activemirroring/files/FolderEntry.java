package org.activemirroring.files;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What a folder's index knows of one relative path. Immutable.
 *
 * @param path      relative path with '/' separators, accepted by {@link FolderPaths#refusal(String)}
 * @param size      bytes; 0 for a tombstone
 * @param mtimeMs   last modification time, milliseconds since the epoch
 * @param mode      POSIX permission bits (e.g. {@code 0644}), or null where the file system has none
 * @param fileKey   the file system's file key (inode and device) as text, or null where there is none
 * @param sha256Hex SHA-256 of the content in lower-case hex; null for a tombstone
 * @param blocks    the content's blocks, in order; empty until the file has been cut into blocks
 * @param versions  version vector: mirror id to counter; never null
 * @param tombstone  true when the file was deleted (kept so the delete replicates)
 * @param modifiedBy the mirror whose change made this version (names its conflict copy if it loses);
 *                   null when not known
 */
public record FolderEntry(String path, long size, long mtimeMs, Integer mode, String fileKey, String sha256Hex,
                          List<BlockRef> blocks, Map<String, Long> versions, boolean tombstone, String modifiedBy) {

    /** One block of a file: where it is and its SHA-256 (lower-case hex). Opaque to the index. */
    public record BlockRef(long offset, int length, String sha256Hex) {
        public BlockRef {
            Objects.requireNonNull(sha256Hex);
            if (offset < 0 || length < 0) {
                throw new IllegalArgumentException("negative offset or length: " + offset + "/" + length);
            }
        }
    }

    public FolderEntry {
        Objects.requireNonNull(path);
        blocks = List.copyOf(blocks);
        versions = java.util.Collections.unmodifiableMap(new TreeMap<>(versions));
    }

    /** An entry whose modifying mirror is not known (yet). */
    public FolderEntry(String path, long size, long mtimeMs, Integer mode, String fileKey, String sha256Hex,
                       List<BlockRef> blocks, Map<String, Long> versions, boolean tombstone) {
        this(path, size, mtimeMs, mode, fileKey, sha256Hex, blocks, versions, tombstone, null);
    }

    /** This entry with {@code mirrorId}'s counter one higher, as {@code mirrorId}'s change. */
    public FolderEntry bumped(String mirrorId) {
        Map<String, Long> v = new TreeMap<>(versions);
        v.merge(mirrorId, 1L, Long::sum);
        return new FolderEntry(path, size, mtimeMs, mode, fileKey, sha256Hex, blocks, v, tombstone, mirrorId);
    }

    /** This entry with other versions (e.g. the previous entry's, before a bump). */
    public FolderEntry withVersions(Map<String, Long> v) {
        return new FolderEntry(path, size, mtimeMs, mode, fileKey, sha256Hex, blocks, v, tombstone, modifiedBy);
    }

    /** This entry with another local stat (after it was written here). */
    public FolderEntry withStat(long newSize, long newMtimeMs, String newFileKey) {
        return new FolderEntry(path, newSize, newMtimeMs, mode, newFileKey, sha256Hex, blocks, versions, tombstone,
                modifiedBy);
    }

    /** This entry as made by {@code mirror} (a change received from it). */
    public FolderEntry withModifiedBy(String mirror) {
        return new FolderEntry(path, size, mtimeMs, mode, fileKey, sha256Hex, blocks, versions, tombstone, mirror);
    }

    /** This entry with its blocks (cut after the scan). */
    public FolderEntry withBlocks(List<BlockRef> newBlocks) {
        return new FolderEntry(path, size, mtimeMs, mode, fileKey, sha256Hex, newBlocks, versions, tombstone,
                modifiedBy);
    }

    /** The tombstone of this entry: content gone, versions kept (the caller bumps them). */
    public FolderEntry toTombstone(long deletedAtMs) {
        return new FolderEntry(path, 0, deletedAtMs, null, null, null, List.of(), versions, true, modifiedBy);
    }

    /**
     * Whether the block list was left out: a live file with content but no blocks. A file whose
     * content the mirrors hold already under another name (a rename, a copy) travels so; a receiver
     * takes the blocks from the file it holds with the same content hash, or asks a peer for them.
     */
    public boolean blocksElided() {
        return !tombstone && size > 0 && blocks.isEmpty();
    }

    /**
     * Whether a file with this stat is this live entry unchanged, as a scan judges it: the same
     * size, mtime and file key. A scan reads no file it holds so.
     */
    public boolean unchangedAs(long diskSize, long diskMtimeMs, String diskFileKey) {
        return !tombstone && size == diskSize && mtimeMs == diskMtimeMs && Objects.equals(fileKey, diskFileKey);
    }

    /** Whether both hold the same content (or are both tombstones): no transfer and no conflict between them. */
    public boolean sameContent(FolderEntry o) {
        return tombstone == o.tombstone && Objects.equals(sha256Hex, o.sha256Hex);
    }
}
