package org.activemirroring.files.sync;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.activemirroring.files.FolderEntry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The requests about folders between mirrors, beside the journal ({@link SyncWire}): answering a
 * peer that copies a folder or asks for one path's entry, and asking peers for an entry (a file
 * read before its change arrived, a block list a change came without).
 */
final class PeerQueries {
    private static final Logger LOG = LoggerFactory.getLogger(PeerQueries.class);

    private final FileSync sync;

    PeerQueries(FileSync sync) {
        this.sync = sync;
    }

    /** What a peer's answer says when it has not copied the folder itself yet (see {@link FolderCopy}). */
    static final String NOT_SYNCED = "not synced yet";

    byte[] answerSnapshot(String from, byte[] body) throws IOException {
        Object[] req = SyncWire.readSnapshotRequest(body);
        String folder = (String) req[0];
        FolderSync f = sync.folders().get(folder);
        if (f == null || !sync.isSynced(folder)) {
            throw new IOException("folder '" + folder + "' is " + (f == null ? "not configured" : NOT_SYNCED)
                    + " on " + sync.self());
        }
        // The vector first: everything applied up to it is in the entries read after it.
        Map<String, Long> vector = new TreeMap<>(sync.appliedVector());
        vector.put(sync.self(), sync.transport().stats().journalHeads().getOrDefault(sync.self(), 0L));
        List<FolderEntry> all = f.state().snapshot();
        List<FolderEntry> page = new ArrayList<>();
        String after = (String) req[1];
        int max = (Integer) req[2];
        boolean done = true;
        for (FolderEntry e : all) {
            if (e.path().compareTo(after) <= 0) {
                continue;
            }
            if (page.size() >= max && !e.path().equals(page.get(page.size() - 1).path())) {
                done = false; // a path's siblings stay on the page of its winner: the next page starts after it
                break;
            }
            page.add(e);
        }
        return SyncWire.page(folder, sync.self(), new SyncWire.Page(done, vector, page), sync.codec());
    }

    byte[] answerEntry(String from, byte[] body) throws IOException {
        String[] req = SyncWire.readEntryRequest(body);
        FolderSync f = sync.folders().get(req[0]);
        FolderEntry e = f == null ? null : f.state().current(req[1]);
        return SyncWire.entryReply(req[0], sync.self(), e, sync.codec());
    }

    private List<String> peers() {
        List<String> peers = new ArrayList<>(sync.transport().members());
        peers.remove(sync.self());
        return peers;
    }

    /** What {@code peer} holds for {@code path} (refused answers counted), or null. */
    private FolderEntry entryAt(String peer, String folder, String path) {
        try {
            List<String> refused = new ArrayList<>();
            byte[] reply = sync.transport().request(peer, SyncWire.ENTRY_KIND, SyncWire.entryRequest(folder, path),
                    Duration.ofMillis(sync.options().requestTimeoutMs()));
            FolderEntry e = SyncWire.readEntryReply(reply, peer, sync.codec(), refused);
            refused.forEach(r -> sync.refusals().refuse(peer, folder, "unreadable", path, r));
            return e != null && e.path().equals(path) ? e : null;
        } catch (Exception e) {
            LOG.debug("Asking {} for {}/{} failed: {}", peer, folder, path, e.toString());
            return null;
        }
    }

    /**
     * The first entry a reachable peer holds for a path with the content {@code sha256Hex} and its
     * block list, or null. A peer that holds another version of the path (it lags, or is ahead) is
     * passed over for the next: its list would not build the wanted file.
     */
    FolderEntry lookupAtPeers(String folder, String path, String sha256Hex) {
        for (String peer : peers()) {
            FolderEntry e = entryAt(peer, folder, path);
            if (e == null || e.tombstone() || e.blocksElided()) {
                continue;
            }
            if (sha256Hex.equals(e.sha256Hex())) {
                return e;
            }
            LOG.debug("{} holds another version of {}/{} than the one wanted; asking the next peer", peer, folder,
                    path);
        }
        return null;
    }

    /** Asks every reachable peer for a path's entry and offers what they answer to the folder. */
    void askPeers(String folder, String path) {
        for (String peer : peers()) {
            FolderEntry e = entryAt(peer, folder, path);
            if (e != null) {
                sync.offer(peer, folder, e);
            }
        }
        FolderSync f = sync.folders().get(folder);
        try {
            f.state().save();
        } catch (IOException e) {
            LOG.warn("Cannot save folder '{}': {}", folder, e.toString());
        }
    }

}
