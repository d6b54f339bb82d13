package org.activemirroring.apply;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.RowChange;

/**
 * Peers' changes this mirror could not apply, kept whole in {@code mirror.parked} so that one bad
 * change never stops a mirror's stream: the applier records the change's seq as applied and parks
 * it in the same transaction, and goes on with the changes after it.
 *
 * <p>What depends on a parked change waits behind it: a later change (of any origin) that touches
 * a table of a parked change is parked too, reason {@link Reason#BEHIND}, in order, so rows of that
 * table are never applied out of order. A change whose payload cannot even be read names no
 * tables ({@link #ALL_TABLES}): everything later of its origin waits behind it.
 *
 * <p>Changes parked for a table or column this mirror does not have yet ({@link Reason#SCHEMA}: a
 * rolling upgrade where another mirror migrated first) and those behind them are retried
 * whenever a schema change was applied and every few seconds; {@link Reason#ERROR} ones with a
 * growing backoff (up to 5 minutes) and at once when the operator asks (admin endpoint). The
 * operator may also discard one.
 *
 * <p>The table list of every parked change is held in memory to decide quickly whether a new
 * change must wait; it is read again from the database after a rollback ({@link #markStale}).
 */
public final class ParkedChanges {
    /** The table name of a parked change whose tables are unknown: it blocks its whole origin. */
    static final String ALL_TABLES = "*";

    /** Why a change is parked. */
    enum Reason {
        /** A table or column it writes does not exist here yet; retried automatically. */
        SCHEMA,
        /** It failed for good (data, constraint, bug); retried or discarded by the operator. */
        ERROR,
        /** An earlier parked change touches one of its tables; applied once that one is through. */
        BEHIND;

        String code() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        static Reason of(String code) {
            return valueOf(code.toUpperCase(java.util.Locale.ROOT));
        }
    }

    /**
     * One parked change, as listed on status and the admin endpoint.
     *
     * @param id       the entry's id, for retry and discard
     * @param origin   the mirror that made the change
     * @param seq      its sequence number there
     * @param tables   the tables it writes ({@link #ALL_TABLES} when unknown)
     * @param reason   schema, error or behind
     * @param error    the last error, or what it waits behind
     * @param sqlState the last error's SQLState, or null
     * @param parkedAt when it was parked
     * @param triedAt  when it was last tried again, or null
     * @param attempts how often it was tried
     * @param rows     how many row changes it holds (-1 if unreadable)
     */
    public record Parked(long id, String origin, long seq, List<String> tables, String reason, String error,
                         String sqlState, Instant parkedAt, Instant triedAt, int attempts, int rows) {
        /**
         * Whether a change that failed for good is due for an automatic try: 5 s after it was
         * parked, then doubling up to 5 min.
         */
        boolean retryDue(Instant now) {
            long waitMs = Math.min(5_000L << Math.min(Math.max(attempts - 1, 0), 6), 300_000L);
            return !(triedAt == null ? parkedAt : triedAt).plusMillis(waitMs).isAfter(now);
        }
    }

    /**
     * What is parked, for status and health.
     *
     * @param count  parked changes
     * @param since  when the oldest was parked, or null
     * @param first  the oldest: origin#seq, tables, reason and error; null if none
     * @param failed changes that failed for good (reason error), which only the operator can clear
     */
    public record Summary(int count, Instant since, String first, int failed) {
        static final Summary NONE = new Summary(0, null, null, 0);

        static Summary of(List<Parked> entries) {
            if (entries.isEmpty()) {
                return NONE;
            }
            Parked p = entries.get(0);
            int failed = 0;
            for (Parked e : entries) {
                failed += Reason.ERROR.code().equals(e.reason()) ? 1 : 0;
            }
            return new Summary(entries.size(), p.parkedAt(), describe(p.origin(), p.seq(), p.tables(), p.reason(),
                    p.error()), failed);
        }

        Summary plus(String origin, long seq, List<String> tables, Reason reason, String error) {
            return new Summary(count + 1, since == null ? Instant.now() : since,
                    first == null ? describe(origin, seq, tables, reason.code(), error) : first,
                    failed + (reason == Reason.ERROR ? 1 : 0));
        }

        private static String describe(String origin, long seq, List<String> tables, String reason, String error) {
            return origin + "#" + seq + " (" + String.join(", ", tables) + "), " + reason + ": " + error;
        }
    }

    /** A parked entry with its payload, for the applier. */
    record Stored(Parked entry, byte[] payload) {
    }

    /** Per table (or origin, for {@link #ALL_TABLES}) the entries that hold it. */
    private final Map<String, Integer> blockedTables = new LinkedHashMap<>();
    private final Set<String> blockedOrigins = new HashSet<>();
    private int count;
    private Instant oldest;
    private boolean stale = true;

    static void create(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS mirror.parked (id bigserial PRIMARY KEY, origin text NOT NULL,"
                    + " seq bigint NOT NULL, tables text[] NOT NULL, reason text NOT NULL, error text,"
                    + " sql_state text, parked_at timestamptz NOT NULL DEFAULT now(), tried_at timestamptz,"
                    + " attempts int NOT NULL DEFAULT 1, row_count int NOT NULL, payload bytea NOT NULL,"
                    + " UNIQUE (origin, seq))");
        }
    }

    /** The tables a ChangeSet writes, in first-seen order. */
    static List<String> tablesOf(ChangeSet cs) {
        Set<String> t = new TreeSet<>();
        for (RowChange r : cs.rows()) {
            t.add(r.table());
        }
        return List.copyOf(t);
    }

    /**
     * Whether a failure waits for a schema this mirror does not have yet (undefined table or
     * column, SQLState 42P01 / 42703, anywhere in its causes) rather than failing for good.
     */
    static Reason reasonFor(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && ("42P01".equals(sql.getSQLState())
                    || "42703".equals(sql.getSQLState()))) {
                return Reason.SCHEMA;
            }
        }
        return Reason.ERROR;
    }

    static String sqlStateOf(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                return sql.getSQLState();
            }
        }
        return null;
    }

    /** After a rollback: what this transaction parked is gone, read the table again before use. */
    void markStale() {
        stale = true;
    }

    /** How many changes are parked (reads the table if needed). */
    int count(Connection c) throws SQLException {
        load(c);
        return count;
    }

    /** The oldest parked change's time, or null; as of the last read or park. */
    Instant oldest() {
        return oldest;
    }

    /**
     * What an earlier parked change holds that {@code cs} touches, as text for the log and the
     * entry; null if {@code cs} may be applied.
     */
    String blocker(Connection c, ChangeSet cs) throws SQLException {
        load(c);
        if (count == 0) {
            return null;
        }
        if (blockedOrigins.contains(cs.origin())) {
            return "an unreadable parked change of " + cs.origin();
        }
        for (RowChange r : cs.rows()) {
            if (blockedTables.containsKey(r.table())) {
                return "a parked change of " + r.table();
            }
        }
        return null;
    }

    /** Parks a change in the open transaction (the caller records its seq as applied and commits). */
    void park(Connection c, String origin, long seq, Collection<String> tables, Reason reason, String error,
              String sqlState, int rows, byte[] payload) throws SQLException {
        load(c);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO mirror.parked (origin, seq, tables, reason,"
                + " error, sql_state, row_count, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (origin, seq) DO NOTHING")) {
            ps.setString(1, origin);
            ps.setLong(2, seq);
            ps.setArray(3, c.createArrayOf("text", tables.toArray()));
            ps.setString(4, reason.code());
            ps.setString(5, error);
            ps.setString(6, sqlState);
            ps.setInt(7, rows);
            ps.setBytes(8, payload);
            ps.executeUpdate();
        }
        index(origin, tables);
        if (oldest == null) {
            oldest = Instant.now();
        }
    }

    /** Every parked change with its payload, oldest first. */
    List<Stored> list(Connection c) throws SQLException {
        List<Stored> out = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id, origin, seq, tables, reason, error, sql_state, parked_at,"
                     + " tried_at, attempts, row_count, payload FROM mirror.parked ORDER BY id")) {
            while (rs.next()) {
                out.add(new Stored(entry(rs), rs.getBytes(12)));
            }
        }
        return out;
    }

    /** Every parked change without payloads, oldest first, at most {@code limit}. */
    static List<Parked> entries(Connection c, int limit) throws SQLException {
        List<Parked> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT id, origin, seq, tables, reason, error, sql_state,"
                + " parked_at, tried_at, attempts, row_count FROM mirror.parked ORDER BY id LIMIT ?")) {
            ps.setInt(1, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(entry(rs));
                }
            }
        }
        return out;
    }

    private static Parked entry(ResultSet rs) throws SQLException {
        Array a = rs.getArray(4);
        List<String> tables = List.of((String[]) a.getArray());
        Timestamp tried = rs.getTimestamp(9);
        return new Parked(rs.getLong(1), rs.getString(2), rs.getLong(3), tables, rs.getString(5), rs.getString(6),
                rs.getString(7), rs.getTimestamp(8).toInstant(), tried == null ? null : tried.toInstant(),
                rs.getInt(10), rs.getInt(11));
    }

    /** Removes an entry in the open transaction (applied, or discarded); the index is read again. */
    boolean delete(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM mirror.parked WHERE id = ?")) {
            ps.setLong(1, id);
            stale = true;
            return ps.executeUpdate() == 1;
        }
    }

    /** Records a failed retry in the open transaction. */
    void retried(Connection c, long id, Reason reason, String error, String sqlState) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE mirror.parked SET reason = ?, error = ?,"
                + " sql_state = ?, tried_at = now(), attempts = attempts + 1 WHERE id = ?")) {
            ps.setString(1, reason.code());
            ps.setString(2, error);
            ps.setString(3, sqlState);
            ps.setLong(4, id);
            ps.executeUpdate();
        }
    }

    private void load(Connection c) throws SQLException {
        if (!stale) {
            return;
        }
        blockedTables.clear();
        blockedOrigins.clear();
        count = 0;
        oldest = null;
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT origin, tables, parked_at FROM mirror.parked ORDER BY id")) {
            while (rs.next()) {
                index(rs.getString(1), List.of((String[]) rs.getArray(2).getArray()));
                if (oldest == null) {
                    oldest = rs.getTimestamp(3).toInstant();
                }
            }
        }
        stale = false;
    }

    private void index(String origin, Collection<String> tables) {
        count++;
        for (String t : tables) {
            if (ALL_TABLES.equals(t)) {
                blockedOrigins.add(origin);
            } else {
                blockedTables.merge(t, 1, Integer::sum);
            }
        }
    }
}
