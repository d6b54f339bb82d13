package org.activemirroring.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a join needs from a database to move a joiner's own rows aside while it copies the
 * network's, and to put them back afterwards ({@code org.activemirroring.join.JoinStash} decides
 * which go back). A stashed row is kept as a JSON object of its column values by name, in
 * storage of the mirror's own that survives restarts.
 *
 * <p>Tables are named {@code schema.table}. Every method works in the caller's transaction and
 * never commits. Implementations are thread-safe.
 */
public interface RowStash {

    /** A stashed row: its id in the stash and its columns as one JSON object. */
    record Stashed(long id, String json) {
    }

    /**
     * The row a table holds under a stashed row's key.
     *
     * @param json  that row as a JSON object, comparable with the stashed one
     * @param equal whether it holds exactly the stashed row's values
     */
    record Found(String json, boolean equal) {
    }

    /** Puts stashed rows of one table back, one at a time; see {@link #restorer}. */
    interface Restorer extends AutoCloseable {

        /** The row the table holds under the key of {@code stashedJson}, or null if none. */
        Found find(String stashedJson) throws SQLException;

        /**
         * Inserts the stashed row unless the table holds a row under one of its unique keys; true
         * when it wrote. A row the table refuses (a constraint) throws and leaves the transaction
         * usable for the next row.
         */
        boolean insert(String stashedJson) throws SQLException;

        @Override
        void close() throws SQLException;
    }

    /** Creates the stash's storage if absent. */
    void createStorage(Connection c) throws SQLException;

    /**
     * Moves every row of {@code table} into the stash and empties the table.
     *
     * @return how many rows were moved
     */
    long stashAll(Connection c, String table) throws SQLException;

    /**
     * Moves into the stash the rows of {@code table} whose last write was the site's own (not one
     * of a mirror's sessions: applier, join, repair) and committed from {@code from} until this
     * transaction began. Needs the database to keep commit times
     * ({@link VersionStore#tracksCommitTimestamps}).
     *
     * @return how many rows were moved
     */
    long stashSiteWritesSince(Connection c, String table, Timestamp from) throws SQLException;

    /** Rows in the stash; 0 when it has no storage yet. */
    long pending(Connection c) throws SQLException;

    /** The tables with stashed rows, by name. */
    List<String> tables(Connection c) throws SQLException;

    /** The stashed rows of {@code table}, in the order they were stashed. */
    List<Stashed> rows(Connection c, String table) throws SQLException;

    /** Removes the stashed rows {@code ids}. */
    void forget(Connection c, List<Long> ids) throws SQLException;

    /** Per table, the tables its foreign keys point at (itself included if it does). */
    Map<String, Set<String>> foreignKeyParents(Connection c) throws SQLException;

    /** A restorer for the stashed rows of a table of this shape; the caller closes it. */
    Restorer restorer(Connection c, TableShape table) throws SQLException;
}
