package org.activemirroring.db;

import java.io.OutputStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * What a join needs from a database to copy rows in bulk: on the donor, one consistent snapshot
 * served in chunks that stay the same for as long as that snapshot lives, rows and row versions
 * written out in the database's bulk format; on the joiner, those chunks loaded as they came.
 *
 * <p>A table is cut into units (ranges of storage, of keys, ...), numbered from 0; a chunk is a
 * range of them, and within one snapshot the same range always holds the same rows, and the
 * ranges {@code 0..n} hold every row once. Data is opaque to the join: what {@code rowsOut} and
 * {@code versionsOut} wrote, {@code rowsIn} and {@code versionsIn} read, on a database of the same
 * kind. Tables are named {@code schema.table}. Methods work in the caller's transaction and never
 * commit. Implementations are thread-safe.
 */
public interface BulkCopy {

    /**
     * The types of some columns of a table, in their order, as the database names them, and
     * whether the binary bulk format carries all of them safely to another database whose
     * {@link #sameBinaryFormat version matches}.
     */
    record ColumnTypes(List<String> names, boolean binary) {
    }

    /**
     * Starts a read-only transaction on {@code c} (auto-commit off) whose every later read sees
     * one snapshot of the database, fixed when this returns. Waiting for a lock ends in an error
     * after a bounded time rather than hanging.
     */
    void beginSnapshot(Connection c) throws SQLException;

    /**
     * Keeps {@code table} from being dropped, emptied or rewritten until the snapshot's
     * transaction ends, so its chunks stay what they are; ordinary writes go on.
     */
    void holdTable(Connection c, String table) throws SQLException;

    /**
     * How many units {@code table} spans in the snapshot, or -1 when it cannot be cut and goes as
     * one chunk (for example a table that stores nothing itself).
     */
    long units(Connection c, String table) throws SQLException;

    /** About how many bytes of bulk data one unit gives, to size buffers; a guess, never a bound. */
    long bytesPerUnit();

    /**
     * The types of {@code columns} of {@code table}, in that order.
     *
     * @throws IllegalStateException when one of them is not a column of the table
     */
    ColumnTypes columnTypes(Connection c, String table, List<String> columns) throws SQLException;

    /** The database server's version, as a number that {@link #sameBinaryFormat} compares. */
    int serverVersion(Connection c) throws SQLException;

    /** Whether binary bulk data written by a server of {@code donor}'s version loads into {@code own}'s. */
    boolean sameBinaryFormat(int donor, int own);

    /**
     * Writes the rows of units {@code from..to} (excluding {@code to}) of {@code table}, the
     * given columns in that order, to {@code out}; {@code from} -1 for a table that goes whole.
     *
     * @param binary the binary format (only when {@link ColumnTypes#binary()}), else text
     * @return rows written
     */
    long rowsOut(Connection c, String table, List<String> columns, long from, long to, boolean binary,
                 OutputStream out) throws SQLException;

    /**
     * Writes at most {@code limit} row versions of {@code table} with a key above {@code after}
     * (null: from the first), in key order, to {@code out}. What is local to this database (the
     * writing transaction, its log position) is left out.
     *
     * @return rows written
     */
    long versionsOut(Connection c, String table, String after, int limit, OutputStream out) throws SQLException;

    /** The key of the last row version in data {@code versionsOut} wrote (holding at least one). */
    String lastVersionKey(byte[] data, int from, int to);

    /** Loads rows {@code rowsOut} wrote, for the same columns, into {@code table}. */
    void rowsIn(Connection c, String table, List<String> columns, boolean binary, byte[] data, int offset, int length)
            throws SQLException;

    /** Loads row versions {@code versionsOut} wrote into this database's row-version store. */
    void versionsIn(Connection c, byte[] data, int offset, int length) throws SQLException;

    /**
     * Prepares the connection that loads: commits need not wait for the disk, since each chunk
     * commits with its progress record and a lost one is loaded again.
     */
    void prepareLoadSession(Connection c) throws SQLException;

    /** Whether {@code e} says a row with the same key is there already. */
    boolean isDuplicateKey(SQLException e);
}
