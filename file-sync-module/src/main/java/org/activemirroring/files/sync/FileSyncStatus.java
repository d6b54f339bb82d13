package org.activemirroring.files.sync;

import java.util.List;
import java.util.Map;

/**
 * What the replicated folders of one mirror are doing, for status pages and tests.
 *
 * @param folders        per folder, in configuration order
 * @param bytesFetched   bytes received from other mirrors since start to build files: whole
 *                       blocks, and the deltas edited blocks were built from
 * @param bytesFromLocal content bytes found in this mirror's own folders instead (renames, copies)
 * @param blocksServed   blocks sent to other mirrors since start
 * @param bytesServed    content bytes of those blocks
 * @param blocksRefused  blocks other mirrors sent whose hash did not match (refused, asked elsewhere)
 * @param refused        refused file changes and files, per reason (see {@link Refusals})
 * @param lastRefusal    the newest refused change of another mirror, or null
 * @param deltas         how the changes received with a block-list delta went since start (see
 *                       {@link BlockListDeltas}): made whole here, list asked of a peer, refused
 * @param bytesBuiltByDelta content bytes of edited blocks built here out of the version they
 *                       replace, from a delta a peer sent (only what that version lacked travelled)
 */
public record FileSyncStatus(List<Folder> folders, long bytesFetched, long bytesFromLocal, long blocksServed,
                             long bytesServed, long blocksRefused, Map<String, Long> refused, String lastRefusal,
                             BlockListDeltas.Counts deltas, long bytesBuiltByDelta) {

    /**
     * One folder.
     *
     * @param name           the folder's name, the same on every mirror
     * @param path           where it is on this mirror
     * @param files          files it holds here (as of the index)
     * @param wanted         newer versions made elsewhere not written here yet
     * @param synced         false until this mirror has learnt what the other mirrors hold (a new
     *                       mirror, or a folder new to this mirror, copies that first)
     * @param watching       whether changes are noticed as they happen (else only by the periodic scan)
     * @param lastScanAtMs   when the last scan started (ms since the epoch; 0: none yet)
     * @param lastScanMillis how long it took
     * @param scans          scans since start (periodic, asked for by the watcher, or by a caller)
     * @param scansSkipped   times the watcher saw events that all named files as the index has them
     *                       (written here for other mirrors' changes), so it asked for no scan
     * @param published      changes this mirror published since start
     * @param conflictCopies conflict copies made here since start
     * @param stillWriting   files the last scan saw still being written (shipped once they settle)
     * @param siblings       concurrent versions that lost and that no later version has seen yet
     *                       (kept to decide alike with every mirror; gone with the path's next edit)
     */
    public record Folder(String name, String path, int files, int wanted, boolean synced, boolean watching,
                         long lastScanAtMs, long lastScanMillis, long scans, long scansSkipped,
                         long published, long conflictCopies,
                         int stillWriting, int siblings) {
    }

    /** True when every folder is synced and nothing is wanted. */
    public boolean settled() {
        return folders.stream().allMatch(f -> f.synced() && f.wanted() == 0);
    }
}
