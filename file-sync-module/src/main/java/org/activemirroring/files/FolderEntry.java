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
 * @param tombstone true when the file was deleted (kept so the delete replicates)
 */
public record FolderEntry(String path, long size, long mtimeMs, Integer mode, String fileKey, String sha256Hex,
                          List<BlockRef> blocks, Map<String, Long> versions, boolean tombstone) {

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

    /** This entry with {@code mirrorId}'s counter one higher. */
    public FolderEntry bumped(String mirrorId) {
        Map<String, Long> v = new TreeMap<>(versions);
        v.merge(mirrorId, 1L, Long::sum);
        return new FolderEntry(path, size, mtimeMs, mode, fileKey, sha256Hex, blocks, v, tombstone);
    }

    /** This entry with other versions (e.g. the previous entry's, before a bump). */
    public FolderEntry withVersions(Map<String, Long> v) {
        return new FolderEntry(path, size, mtimeMs, mode, fileKey, sha256Hex, blocks, v, tombstone);
    }

    /** The tombstone of this entry: content gone, versions kept (the caller bumps them). */
    public FolderEntry toTombstone(long deletedAtMs) {
        return new FolderEntry(path, 0, deletedAtMs, null, null, null, List.of(), versions, true);
    }
}
