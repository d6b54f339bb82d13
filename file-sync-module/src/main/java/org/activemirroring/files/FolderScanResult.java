package org.activemirroring.files;

import java.util.List;

/**
 * What one scan of a folder found, relative to its index; apply it with
 * {@link FolderIndex#apply(FolderScanResult, String)}. Lists are sorted by path. Entries carry the
 * new stat and content hash, no versions and no blocks yet (cutting into blocks is a later step).
 *
 * @param added          files the index does not know (or knows only as a tombstone)
 * @param changed        files whose content hash differs from the index
 * @param touched        files with a new size/mtime/file key but the same content hash
 * @param deleted        paths live in the index, included by the filter, and no longer a regular file
 * @param stillWriting   paths whose size or mtime moved while the scan read them: not shipped now,
 *                       the next scan looks again
 * @param refused        files that cannot be replicated, each with the reason (unsafe name, too large)
 * @param unchanged      files whose size, mtime and file key match the index (content not read)
 * @param hashesDone     how many files' content was read (the scan's I/O cost)
 * @param scannedAtMs    when the scan started (wall clock, ms), used as the time of deletes
 */
public record FolderScanResult(List<FolderEntry> added, List<FolderEntry> changed, List<FolderEntry> touched,
                               List<String> deleted, List<String> stillWriting, List<Refusal> refused,
                               int unchanged, int hashesDone, long scannedAtMs) {

    /** A file the scan will not replicate, and why. */
    public record Refusal(String path, String reason) {
    }

    public FolderScanResult {
        added = List.copyOf(added);
        changed = List.copyOf(changed);
        touched = List.copyOf(touched);
        deleted = List.copyOf(deleted);
        stillWriting = List.copyOf(stillWriting);
        refused = List.copyOf(refused);
    }

    /** True when the index needs no update. */
    public boolean isEmpty() {
        return added.isEmpty() && changed.isEmpty() && touched.isEmpty() && deleted.isEmpty();
    }
}
