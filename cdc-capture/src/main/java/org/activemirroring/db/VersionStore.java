package org.activemirroring.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.activemirroring.change.RowVersion;
import org.activemirroring.versions.Conflict;

/**
 * What a database must provide to keep row versions and the conflict log (PostgreSQL's is
 * {@code org.activemirroring.postgres.PostgresVersionStore}): per mirrored row the version of its
 * last winning write (deletes stay as tombstones), the applied vector, capture's progress, and
 * every write that lost. The applier and capture's stamping write it in the same transaction as
 * the rows; a lock taken with the first read keeps either from deciding on a version the other is
 * about to replace. Methods work on the given connection and never commit.
 */
public interface VersionStore {

    /**
     * One version to store.
     *
     * @param writerXid the xmin the write left on the row, when it differs from this transaction's
     *                  id (a write inside a savepoint leaves the subtransaction's id); 0: this
     *                  transaction's id
     * @param absent    the row has no stored version: this transaction read it under the version
     *                  lock and found none, and nothing else inserts versions while the lock is
     *                  held, so a plain insert stores it (40% cheaper than an upsert, which
     *                  inserts speculatively). False is always safe.
     */
    record Write(String keyText, RowVersion version, boolean deleted, RowVersion prev, long sourceTx,
                        long originSeq, long writerXid, boolean absent) {
        public Write(String keyText, RowVersion version, boolean deleted, RowVersion prev, long sourceTx,
                     long originSeq) {
            this(keyText, version, deleted, prev, sourceTx, originSeq, 0, false);
        }
    }

    /** A row as the database holds it now: JSON image and the transaction that last wrote it. */
    record CurrentRow(String json, long xmin) {
    }

    /**
     * A row as the database holds it now, with what is known about its last writer.
     *
     * @param json            the row image
     * @param xmin            the (sub)transaction that wrote it
     * @param uncapturedLocal true if a local transaction (no replication origin) wrote it and
     *                        committed after the newest one capture has stamped: a write that
     *                        capture will stamp later, so newer than anything applied now
     */
    record RowState(String json, long xmin, boolean uncapturedLocal) {
    }

    /** A row-state query ({@link #rowStatesSql}): some keys of one table. */
    record RowStateQuery(TableShape table, List<Map<String, String>> keys) {
    }

    /** What {@link #lockAppliedAndRead} found; {@code rowStates} in the order of the queries. */
    record AppliedAndVersions(Map<String, Long> appliedSeqs, Map<String, Map<String, StoredVersion>> versions,
                              List<RowState[]> rowStates) {
    }

    /** A row found by the value of a unique key: its JSON image and its identity (column to text). */
    record FoundRow(String json, Map<String, String> identity) {
    }

    /** Records how far capture has stamped this mirror's transactions (commit time, epoch µs). */
    void setCaptureProgress(Connection c, String node, long stampedCommitMicros) throws SQLException;

    /** Whether the server records commit times of transactions (needed to tell unstamped local writes). */
    boolean tracksCommitTimestamps(Connection c) throws SQLException;

    /** The tables' truncate tombstones of this mirror; shared by everyone using this store. */
    TableTombstones truncations();

    /** Stored versions of the given rows of one table; rows without a version are absent. */
    Map<String, StoredVersion> read(Connection c, String table, Collection<String> keyTexts) throws SQLException;

    /**
     * Capture's read: takes the version lock, records capture's progress, and reads the stored
     * versions of the given rows.
     */
    Map<String, StoredVersion> lockAndReadRecordingProgress(Connection c, String table, Collection<String> keyTexts,
                                                            String node, long stampedCommitMicros) throws SQLException;

    /**
     * The applier's reads, in one round trip: locks the applied seqs of {@code origins}, takes the
     * version lock if asked, reads the stored versions of the given keys per table and the row
     * states of the given queries.
     */
    AppliedAndVersions lockAppliedAndRead(Connection c, Collection<String> origins, boolean versionLock,
                                          Map<String, ? extends Collection<String>> keysByTable,
                                          List<RowStateQuery> rowStates, String self) throws SQLException;

    /** Records per origin the applied seq ({@code [0]}) and how many ChangeSets that were ({@code [1]}). */
    void recordApplied(Connection c, Map<String, long[]> seqAndCount) throws SQLException;

    /**
     * Adds the version writes of one table to {@code chain} (and, with {@code appliedOrigin}, the
     * applied seq); {@code table} null with no writes records only the applied seq.
     */
    void addWrite(StatementChain chain, Connection c, String table, Collection<Write> writes, String appliedOrigin,
                  long appliedSeq) throws SQLException;

    /** Gives this mirror's tombstones of one local transaction the seq it was published with. */
    void setOwnTombstoneSeq(Connection c, String self, long sourceTx, long seq) throws SQLException;

    /** Removes the tombstones of {@code origin} up to its {@code seq}; returns how many. */
    int purgeTombstones(Connection c, String origin, long seq) throws SQLException;

    /** The row as the database holds it now, or null. */
    CurrentRow currentRow(Connection c, TableShape t, Map<String, String> key) throws SQLException;

    /** The row as the database holds it now, or null; locked for update if asked. */
    CurrentRow currentRow(Connection c, TableShape t, Map<String, String> key, boolean lock) throws SQLException;

    /**
     * One row as stored now with what is known of its last writer ({@link RowState}), or null when
     * there is none. Needs commit timestamps ({@link #tracksCommitTimestamps}).
     *
     * @param node this mirror's id (how far its capture has stamped tells an unstamped local write)
     */
    RowState rowState(Connection c, TableShape t, Map<String, String> key, String node) throws SQLException;

    /** The row whose columns have the given values (a unique key), or null. */
    FoundRow findRow(Connection c, TableShape t, Map<String, String> where) throws SQLException;

    /** The columns of a unique index, in index order. */
    List<String> indexColumns(Connection c, TableShape t, String indexName) throws SQLException;

    /** The constraint (unique index) an error of this database names, or null. */
    String constraintOf(SQLException e);

    /** Writes lost writes to the conflict log. */
    void log(Connection c, List<Conflict> conflicts) throws SQLException;

    /** The conflict log, newest first: at most {@code limit}, ids below {@code beforeId} (0: from the newest). */
    List<Conflict> recent(Connection c, int limit, long beforeId) throws SQLException;

    /** Entries in the conflict log. */
    long count(Connection c) throws SQLException;

    /**
     * Entries of the conflict log whose losing write {@code origin} made and that are not
     * acknowledged yet in {@code scope} ({@link #acknowledgeLoss}), oldest (lowest id) first, at
     * most {@code limit}. An entry committed after one with a higher id is returned once it is
     * committed: nothing is skipped for good, so readers must not keep a "highest id seen" position
     * instead. A scope is one reader (a web application): each scope hears of every entry.
     */
    List<Conflict> unacknowledgedLosses(Connection c, String origin, String scope, int limit) throws SQLException;

    /** Records that the conflict-log entry {@code conflictId} was handled in {@code scope}; idempotent. */
    void acknowledgeLoss(Connection c, long conflictId, String scope) throws SQLException;

    /** The id of the current transaction, comparable with the writer ids the store keeps. */
    long currentTransactionId(Connection c) throws SQLException;
}
