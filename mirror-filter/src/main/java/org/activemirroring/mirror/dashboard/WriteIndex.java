package org.activemirroring.mirror.dashboard;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.change.RowChange;
import org.activemirroring.files.FileChange;
import org.activemirroring.files.FileChangeCodec;
import org.activemirroring.transport.Envelope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which table or folder each of this mirror's own writes touched last, read from its own journal
 * (so it survives restarts and costs nothing while nobody looks): on each {@link #refresh} it
 * decodes the envelopes published since the last one. It reads at most {@link #window} envelopes
 * back; older writes are summed up in a baseline (any of them may have touched anything), which
 * only makes survivability more careful, never less. Thread-safe.
 */
public final class WriteIndex {
    private static final Logger LOG = LoggerFactory.getLogger(WriteIndex.class);
    private static final int CHUNK = 500;

    /** This mirror's own journal. */
    public interface OwnJournal {
        /** Highest seq of this mirror's own writes (0: none). */
        long head();

        /** Lowest seq still held (0: none). */
        long first();

        /** Consecutive envelopes from {@code fromSeq}, at most {@code max}, fewer where the journal ends. */
        List<Envelope> read(long fromSeq, int max) throws Exception;
    }

    /**
     * @param heads    per key ({@link MirrorFacts#tableKey}, {@link MirrorFacts#folderKey}), the last seq
     * @param baseline writes up to this seq are not indexed
     */
    public record Snapshot(Map<String, Long> heads, long baseline) {
        public Snapshot {
            heads = Map.copyOf(heads);
        }
    }

    private final OwnJournal journal;
    private final int window;
    private final ChangeSetCodec changeSets = new ChangeSetCodec();
    private final FileChangeCodec fileChanges = new FileChangeCodec();
    private final Map<String, Long> heads = new HashMap<>();
    private long indexedUpTo = -1; // -1: nothing read yet
    private long baseline;
    private boolean warned;

    public WriteIndex(OwnJournal journal, int window) {
        if (window < 1) {
            throw new IllegalArgumentException("window must be at least 1");
        }
        this.journal = journal;
        this.window = window;
    }

    /** Reads what was published since the last call and returns the index. */
    public synchronized Snapshot refresh() {
        long head = journal.head();
        long oldestReadable = Math.max(1, Math.max(journal.first(), head - window + 1));
        if (indexedUpTo < oldestReadable - 1) {
            // Never read, or too far behind: older writes go into the baseline.
            raiseBaseline(oldestReadable - 1);
            indexedUpTo = baseline;
        }
        while (indexedUpTo < head) {
            List<Envelope> batch;
            try {
                batch = journal.read(indexedUpTo + 1, CHUNK);
            } catch (Exception e) {
                batch = List.of();
                warnOnce("Cannot read this mirror's journal from #" + (indexedUpTo + 1) + ": " + e.getMessage());
            }
            if (batch.isEmpty()) {
                // A hole (pruned meanwhile, or unreadable): what it held may have touched anything.
                raiseBaseline(head);
                indexedUpTo = head;
                break;
            }
            for (Envelope e : batch) {
                index(e);
                indexedUpTo = e.seq();
            }
        }
        return new Snapshot(heads, baseline);
    }

    /** Own writes up to {@code seq} may have touched anything; entries at or below it say nothing more. */
    private void raiseBaseline(long seq) {
        baseline = Math.max(baseline, seq);
        heads.values().removeIf(s -> s <= baseline);
    }

    private void index(Envelope e) {
        try {
            if (ChangeSet.PAYLOAD_TYPE.equals(e.payloadType())) {
                for (RowChange row : changeSets.decode(e.payload(), e.origin(), e.seq()).rows()) {
                    heads.merge(MirrorFacts.tableKey(row.table()), e.seq(), Math::max);
                }
            } else if (FileChange.PAYLOAD_TYPE.equals(e.payloadType())) {
                heads.merge(MirrorFacts.folderKey(fileChanges.decode(e.payload(), e.origin()).folder()), e.seq(),
                        Math::max);
            }
        } catch (RuntimeException ex) {
            // Cannot say what it touched: it may have touched anything.
            baseline = Math.max(baseline, e.seq());
            warnOnce("Cannot read what #" + e.seq() + " of this mirror's journal wrote (" + ex.getMessage()
                    + "); survivability counts it as touching every table and folder");
        }
    }

    private void warnOnce(String message) {
        if (!warned) {
            warned = true;
            LOG.warn("{}", message);
        }
    }
}
