package org.activemirroring.bench;

import java.util.HashSet;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.activemirroring.files.BlockListDelta;
import org.activemirroring.files.FileChange;
import org.activemirroring.files.FileChangeCodec;
import org.activemirroring.files.FolderEntry;
import org.activemirroring.transport.Envelope;
import org.activemirroring.transport.EnvelopeCodec;
import org.activemirroring.transport.TransportObserver;

/**
 * Counts what the file changes a folder node publishes put on the wire, for the files benchmark:
 * observes the node's transport, keeps each journaled file-change envelope, and on
 * {@link #take()} sums their encoded sizes ({@link EnvelopeCodec#encode}: header, origin, seq,
 * previous hash, payload type and the payload: path, stat, SHA-256, block list or block-list delta,
 * version vector).
 *
 * <p>It also counts the new blocks of the published live versions, those whose SHA-256 no earlier
 * published version had (the receiver holds every earlier one), and their bytes: what fetching
 * them whole would have moved, beside what the mirrors' requests and replies did move.
 *
 * <p>Observer calls only queue the envelope (they run on the transport's threads and must be
 * fast); decoding happens in {@link #take()}, on the benchmark's thread.
 */
final class FileChangeTraffic implements TransportObserver {
    /** What was published since the last {@link #take()}. */
    record Published(int changes, long envelopeBytes, int newBlocks, long newBlockBytes) {
    }

    private final Queue<Envelope> queued = new ConcurrentLinkedQueue<>();
    private final Set<String> knownBlocks = new HashSet<>();
    private final FileChangeCodec codec = new FileChangeCodec();

    @Override
    public void journaled(Envelope envelope, long epochMicros) {
        if (FileChange.PAYLOAD_TYPE.equals(envelope.payloadType())) {
            queued.add(envelope);
        }
    }

    /** Sums and forgets the envelopes published since the previous call. */
    Published take() {
        int changes = 0;
        long envelopeBytes = 0;
        int newBlocks = 0;
        long newBlockBytes = 0;
        Envelope e;
        while ((e = queued.poll()) != null) {
            changes++;
            envelopeBytes += EnvelopeCodec.encode(e).length;
            FileChange change = codec.decode(e.payload(), e.origin());
            if (change.entry().tombstone()) {
                continue;
            }
            if (change.delta() != null) {
                // The rest of the list is the base's, an earlier published version's.
                for (BlockListDelta.NewBlock b : change.delta().newBlocks()) {
                    if (knownBlocks.add(b.sha256Hex())) {
                        newBlocks++;
                        newBlockBytes += b.length();
                    }
                }
                continue;
            }
            for (FolderEntry.BlockRef b : change.entry().blocks()) {
                if (knownBlocks.add(b.sha256Hex())) {
                    newBlocks++;
                    newBlockBytes += b.length();
                }
            }
        }
        return new Published(changes, envelopeBytes, newBlocks, newBlockBytes);
    }
}
