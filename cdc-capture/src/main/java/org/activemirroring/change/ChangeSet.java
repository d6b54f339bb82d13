package org.activemirroring.change;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One committed source transaction of one mirror, as it travels to the others: applied on each
 * peer as one local transaction.
 *
 * @param origin       node id of the mirror where the transaction was committed
 * @param seq          the origin's envelope sequence number (0 before it is published)
 * @param sourceTxId   the source database's transaction id (PostgreSQL xid), used to recognise a
 *                     transaction that capture sees again after a restart
 * @param commitTimeMicros source commit time, epoch microseconds
 * @param captureTimeMicros when capture finished assembling it, epoch microseconds
 * @param clock        the {@link HybridClock} timestamp of the transaction: every row it wrote has
 *                     version (clock, origin)
 * @param deps         the origin's applied vector when it captured the transaction (per other
 *                     origin, the highest seq applied there): a receiver applies this ChangeSet
 *                     only once it has applied as much, so effects never arrive before causes
 * @param rows         the row changes in source order; never empty
 */
public record ChangeSet(String origin, long seq, long sourceTxId, long commitTimeMicros, long captureTimeMicros,
                        long clock, Map<String, Long> deps, List<RowChange> rows) {

    /** Envelope payload type of an encoded ChangeSet. */
    public static final String PAYLOAD_TYPE = "changeset/1";

    public ChangeSet {
        Objects.requireNonNull(origin, "origin");
        rows = List.copyOf(rows);
        deps = deps == null ? Map.of() : Map.copyOf(deps);
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("a ChangeSet needs at least one row change");
        }
    }

    /** A ChangeSet without clock and dependencies (tests, tools): it loses every conflict. */
    public ChangeSet(String origin, long seq, long sourceTxId, long commitTimeMicros, long captureTimeMicros,
                     List<RowChange> rows) {
        this(origin, seq, sourceTxId, commitTimeMicros, captureTimeMicros, 0, Map.of(), rows);
    }

    /** The version every row of this ChangeSet gets where it wins. */
    public RowVersion version() {
        return new RowVersion(clock, origin);
    }

    /** The same ChangeSet with the origin and sequence number of the envelope that carried it. */
    public ChangeSet withEnvelope(String envelopeOrigin, long envelopeSeq) {
        return new ChangeSet(envelopeOrigin, envelopeSeq, sourceTxId, commitTimeMicros, captureTimeMicros, clock, deps,
                rows);
    }

    /** The same ChangeSet stamped with a clock, dependencies and the rows' previous versions. */
    public ChangeSet stamped(long newClock, Map<String, Long> newDeps, List<RowChange> newRows) {
        return new ChangeSet(origin, seq, sourceTxId, commitTimeMicros, captureTimeMicros, newClock, newDeps, newRows);
    }
}
