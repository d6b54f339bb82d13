package org.activemirroring.capture;

import java.util.List;
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
 * @param rows         the row changes in source order; never empty
 */
public record ChangeSet(String origin, long seq, long sourceTxId, long commitTimeMicros, long captureTimeMicros,
                        List<RowChange> rows) {

    /** Envelope payload type of an encoded ChangeSet. */
    public static final String PAYLOAD_TYPE = "changeset/1";

    public ChangeSet {
        Objects.requireNonNull(origin, "origin");
        rows = List.copyOf(rows);
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("a ChangeSet needs at least one row change");
        }
    }

    /** The same ChangeSet with the origin and sequence number of the envelope that carried it. */
    public ChangeSet withEnvelope(String envelopeOrigin, long envelopeSeq) {
        return new ChangeSet(envelopeOrigin, envelopeSeq, sourceTxId, commitTimeMicros, captureTimeMicros, rows);
    }
}
