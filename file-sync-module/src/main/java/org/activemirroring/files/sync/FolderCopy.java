package org.activemirroring.files.sync;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.activemirroring.files.FolderEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies what a peer knows of a folder into a mirror that has no index of it yet: a new mirror
 * after its database join, or a folder just added to a running mirror. Changes this mirror has
 * already recorded as applied will not come again on the journal, so the copy must come from a
 * peer that has applied at least as much (per origin); peers that have not are passed over. The
 * copy happens after the database copy, so every row copied finds its file's entry here. What
 * arrives while it runs merges alike (version vectors), in any order.
 */
final class FolderCopy {
    private static final Logger LOG = LoggerFactory.getLogger(FolderCopy.class);

    private FolderCopy() {
    }

    /** True when the folder is copied (or this mirror is alone and starts the folder). */
    static boolean copyFromPeer(FileSync sync, FolderSync f) throws Exception {
        String name = f.folder().name();
        List<String> peers = new ArrayList<>(sync.transport().members());
        peers.remove(sync.self());
        if (peers.isEmpty()) {
            LOG.info("No other mirror is reachable; folder '{}' starts from what is on disk here", name);
            f.state().saveNow();
            return true;
        }
        Map<String, Long> mine = sync.appliedVector();
        List<String> why = new ArrayList<>();
        int unsynced = 0;
        for (String peer : peers) {
            String after = "";
            int taken = 0;
            boolean first = true;
            try {
                while (true) {
                    byte[] body = sync.transport().request(peer, SyncWire.SNAPSHOT_KIND,
                            SyncWire.snapshotRequest(name, after, SyncWire.MAX_PAGE),
                            Duration.ofMillis(sync.options().requestTimeoutMs()));
                    List<String> refused = new ArrayList<>();
                    SyncWire.Page page = SyncWire.readPage(body, peer, sync.codec(), refused);
                    refused.forEach(r -> sync.refusals().refuse(peer, name, "unreadable", null, r));
                    if (first) {
                        String behind = behind(page.vector(), mine, sync.self());
                        if (behind != null) {
                            why.add(peer + " has not applied " + behind + " yet");
                            break;
                        }
                        first = false;
                    }
                    for (FolderEntry e : page.entries()) {
                        sync.offer(peer, name, e);
                        after = e.path();
                        taken++;
                    }
                    if (page.done() || page.entries().isEmpty()) {
                        f.state().saveNow();
                        LOG.info("Folder '{}' copied from {}: {} entries; their files are fetched now",
                                name, peer, taken);
                        return true;
                    }
                }
            } catch (Exception e) {
                why.add(peer + ": " + e.getMessage());
                if (String.valueOf(e.getMessage()).contains(PeerQueries.NOT_SYNCED)) {
                    unsynced++;
                }
            }
        }
        if (unsynced == peers.size() && peers.stream().allMatch(p -> sync.self().compareTo(p) < 0)) {
            // Every reachable mirror is new to this folder and waits for another to hold it: the one
            // with the lowest id starts it from its disk, and the others copy from it.
            LOG.info("Folder '{}' is new to every reachable mirror ({}); this one has the lowest id and starts it from"
                    + " what is on disk here", name, peers);
            f.state().saveNow();
            return true;
        }
        LOG.warn("Folder '{}' could not be copied from another mirror yet ({}); it is tried again at the"
                + " next scan, and this mirror neither scans nor serves the folder as synced until then",
                name, String.join("; ", why));
        return false;
    }

    /** The first origin whose changes {@code theirs} lacks but {@code mine} has, or null. */
    private static String behind(Map<String, Long> theirs, Map<String, Long> mine, String self) {
        for (Map.Entry<String, Long> m : mine.entrySet()) {
            if (m.getKey().equals(self)) {
                continue;
            }
            long t = theirs.getOrDefault(m.getKey(), 0L);
            if (t < m.getValue()) {
                return m.getKey() + "#" + (t + 1) + ".." + m.getValue();
            }
        }
        return null;
    }
}
