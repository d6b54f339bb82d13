package org.activemirroring.db;

import java.sql.Connection;
import java.sql.SQLException;

import org.activemirroring.change.RowVersion;

/**
 * TRUNCATE under the conflict rule, as a database keeps it: per table the version of its newest
 * truncate (its tombstone). A row change older than it loses; a truncate applied here removes the
 * rows whose versions are older. PostgreSQL's is {@code org.activemirroring.postgres.TableTruncation}.
 */
public interface TableTombstones {

    /** The newer of {@code v} and the table's truncate tombstone. */
    RowVersion atLeast(Connection c, String table, RowVersion v) throws SQLException;

    /**
     * Applies a peer's truncate of table {@code t} at version {@code h}: removes every row whose
     * version is older (keeping unstamped local writes of {@code keepUncapturedOf}'s origin) and
     * records the tombstone; returns how many rows went.
     */
    int applyPeer(Connection c, TableShape t, RowVersion h, String keepUncapturedOf) throws SQLException;

    /** Records this mirror's own truncate of {@code t} at version {@code h}, captured at {@code lsn}. */
    void recordLocal(Connection c, TableShape t, RowVersion h, long lsn, String nodeId) throws SQLException;

    /** Forgets cached tombstones (a transaction that recorded one rolled back). */
    void forget();
}
