package org.activemirroring.db;

import org.activemirroring.change.RowVersion;

/**
 * What the row-version store holds for one row.
 *
 * @param version    the row's current version
 * @param deleted    true for a tombstone: the row was deleted by the write of {@code version}
 * @param prev       the version that write replaced, as the writer saw it (null if unknown)
 * @param sourceTx   for versions of this mirror's own writes, the source transaction id; else 0
 * @param writerXid  the database (sub)transaction that wrote the row of this version (32-bit xid,
 *                   equal to the row's {@code xmin} while nothing rewrote it): tells capture whether
 *                   a row still holds what the applier wrote
 * @param writerLsn  the write-ahead-log insert position right after that transaction wrote the
 *                   row: tells capture whether the applier wrote after a local change
 */
public record StoredVersion(RowVersion version, boolean deleted, RowVersion prev, long sourceTx, long writerXid,
                            long writerLsn) {
}
