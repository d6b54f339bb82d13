package org.activemirroring.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.activemirroring.change.RowChange;
import org.activemirroring.change.RowVersion;
import org.activemirroring.db.TableShape;
import org.activemirroring.db.TableTombstones;
import org.activemirroring.sequences.SequenceKeeper;

/**
 * TRUNCATE under the conflict rule (PostgreSQL). A truncate of table t with version H (the
 * hybrid clock and origin of its transaction) is a tombstone for the whole table: on every mirror
 * it removes each row of t whose stored version is not newer than H (rows without a stored
 * version included), and a change of t older than H that arrives later loses, so a concurrent
 * insert on another mirror cannot bring rows back; changes newer than H win as usual. The
 * table's newest truncate version is kept in {@code mirror.table_tombstone}, one row per table,
 * never purged (it is small, and a change older than it may come late from any mirror).
 *
 * <p>"Not newer than H" includes H itself: rows written by the truncating transaction before its
 * TRUNCATE carry H and are gone on the origin too. Its rows after the TRUNCATE are applied after
 * it, and a change of version H arriving later can only be one of those, so {@link #loses} is
 * strict.
 *
 * <p>A peer's truncate is applied as a {@code DELETE} in the applier's session (tagged with its
 * replication origin, so capture drops it as an echo and nothing loops), never as a TRUNCATE: the
 * rows newer than H must stay, and each mirror keeps its own sequences (RESTART IDENTITY resets
 * only the mirror where it ran; {@link SequenceKeeper} keeps allocation interleaved).
 *
 * <p>The tombstones are cached in memory, loaded once; capture and applier of one node share the
 * instance through their {@link PostgresVersionStore}. A tombstone enters the cache when its
 * statements succeeded, before its transaction commits: if that transaction then rolls back, the
 * cache is stricter than the database until {@link #forget} or the truncate is applied again
 * (redelivery repeats it). Thread-safe.
 */
public final class TableTruncation implements TableTombstones {

    /** Where each table's newest truncate version is kept. */
    static final String TABLE = PostgresDialect.BOOKKEEPING_SCHEMA + ".table_tombstone";

    private static final String UPSERT = "INSERT INTO " + TABLE + " (tbl, clock, origin) VALUES (?, ?, ?)"
            + " ON CONFLICT (tbl) DO UPDATE SET clock = EXCLUDED.clock, origin = EXCLUDED.origin"
            + " WHERE (" + TABLE + ".clock, " + TABLE + ".origin COLLATE \"C\")"
            + " < (EXCLUDED.clock, EXCLUDED.origin COLLATE \"C\")";

    /** A stored version not newer than (?, ?): clock, then origin in code point order, as {@link RowVersion}. */
    private static final String NOT_NEWER = "(v.clock < ? OR (v.clock = ? AND v.origin COLLATE \"C\" <= ?))";

    private final Map<String, RowVersion> tombstones = new ConcurrentHashMap<>();
    private volatile boolean loaded;

    /** Whether a row change is a truncate of its table. */
    public static boolean isTruncate(RowChange row) {
        return row.op() == RowChange.Op.TRUNCATE;
    }

    static void createTable(Statement s) throws SQLException {
        s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (tbl text PRIMARY KEY, clock bigint NOT NULL,"
                + " origin text NOT NULL)");
    }

    /** The version of the newest truncate of {@code table} this mirror knows, or null. */
    RowVersion tombstone(Connection c, String table) throws SQLException {
        if (!loaded) {
            load(c);
        }
        return tombstones.get(table);
    }

    /**
     * The version a change of {@code table} must beat: the row's stored version {@code v}, or the
     * table's newest truncate where that is newer (a change older than it loses).
     */
    @Override
    public RowVersion atLeast(Connection c, String table, RowVersion v) throws SQLException {
        RowVersion t = tombstone(c, table);
        return t != null && t.isNewerThan(v) ? t : v;
    }

    /**
     * Applies a peer's truncate of {@code t} at version {@code h} in the open transaction, which
     * holds the version lock: records the tombstone, deletes every row not newer than {@code h},
     * and drops the row versions and tombstones it supersedes.
     *
     * @param keepUncapturedOf where not null, the node whose local writes capture has not
     *                        stamped yet are kept (they will be stamped newer than {@code h});
     *                        needs {@code track_commit_timestamp}
     * @return how many rows were deleted
     */
    @Override
    public int applyPeer(Connection c, TableShape t, RowVersion h, String keepUncapturedOf) throws SQLException {
        RowVersion newest = tombstone(c, t.qualifiedName());
        if (newest != null && !h.isNewerThan(newest)) {
            return 0; // a newer truncate (or this one, delivered again) removed all this one would
        }
        StringBuilder sql = new StringBuilder("DELETE FROM ").append(name(t)).append(" t WHERE NOT EXISTS (SELECT 1")
                .append(" FROM mirror.row_version v WHERE v.tbl = ? AND NOT v.deleted AND NOT ").append(NOT_NEWER)
                .append(keyMatch(t)).append(')');
        if (keepUncapturedOf != null) {
            sql.append(" AND NOT coalesce((SELECT w.roident = 0 AND w.\"timestamp\" IS NOT NULL")
                    .append(" AND (extract(epoch FROM w.\"timestamp\") * 1000000)::bigint > coalesce((SELECT")
                    .append(" stamped_commit_us FROM mirror.capture_progress WHERE node = ?), 0)")
                    .append(" FROM pg_xact_commit_timestamp_origin(t.xmin) w), false)");
        }
        int deleted;
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            int p = bindVersion(ps, 1, t.qualifiedName(), h);
            if (keepUncapturedOf != null) {
                ps.setString(p, keepUncapturedOf);
            }
            deleted = ps.executeUpdate();
        }
        dropVersions(c, t.qualifiedName(), h);
        record(c, t.qualifiedName(), h); // last: the cache learns it only once the statements went through
        return deleted;
    }

    /**
     * Records a local truncate of {@code t} that capture stamps with version {@code h}, in the
     * stamping transaction (version lock held): the tombstone, and the row versions it
     * supersedes. Rows the applier wrote after the TRUNCATE (log position after {@code lsn}),
     * before capture came, are older than {@code h} (the clock has witnessed them) and go as
     * they go on every other mirror, unless a local write changed them since.
     *
     * @param lsn the TRUNCATE's log position; 0 if unknown (nothing is removed then)
     * @param c   capture's repair session: its deletes are not captured again
     */
    @Override
    public void recordLocal(Connection c, TableShape t, RowVersion h, long lsn, String nodeId) throws SQLException {
        if (lsn > 0) {
            String sql = "DELETE FROM " + name(t) + " t WHERE EXISTS (SELECT 1 FROM mirror.row_version v"
                    + " WHERE v.tbl = ? AND " + NOT_NEWER + " AND NOT v.deleted AND v.origin <> ? AND v.writer_lsn > ?"
                    + " AND v.writer_xid = t.xmin::text::bigint" + keyMatch(t) + ")";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int p = bindVersion(ps, 1, t.qualifiedName(), h);
                ps.setString(p++, nodeId);
                ps.setLong(p, lsn);
                ps.executeUpdate();
            }
        }
        dropVersions(c, t.qualifiedName(), h);
        record(c, t.qualifiedName(), h);
    }

    /** Forgets the cache (after a rolled back transaction that may have recorded a tombstone). */
    @Override
    public void forget() {
        loaded = false;
    }

    private void record(Connection c, String table, RowVersion h) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
            ps.setString(1, table);
            ps.setLong(2, h.clock());
            ps.setString(3, h.origin());
            ps.executeUpdate();
        }
        tombstones.merge(table, h, (a, b) -> a.isNewerThan(b) ? a : b);
    }

    /** Row versions and row tombstones of {@code table} up to {@code h}: the table tombstone covers them. */
    private static void dropVersions(Connection c, String table, RowVersion h) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM mirror.row_version v WHERE v.tbl = ? AND "
                + NOT_NEWER)) {
            bindVersion(ps, 1, table, h);
            ps.executeUpdate();
        }
    }

    private synchronized void load(Connection c) throws SQLException {
        if (loaded) {
            return;
        }
        Map<String, RowVersion> fresh = new ConcurrentHashMap<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT tbl, clock, origin FROM " + TABLE)) {
            while (rs.next()) {
                fresh.put(rs.getString(1), new RowVersion(rs.getLong(2), rs.getString(3)));
            }
        }
        tombstones.clear();
        tombstones.putAll(fresh);
        loaded = true;
    }

    private static int bindVersion(PreparedStatement ps, int p, String table, RowVersion h) throws SQLException {
        ps.setString(p++, table);
        ps.setLong(p++, h.clock());
        ps.setLong(p++, h.clock());
        ps.setString(p++, h.origin());
        return p;
    }

    /** Matches the stored key text (a JSON array of the key's values, see {@link PostgresVersionStore#keyText}) to row t. */
    private static String keyMatch(TableShape t) {
        StringBuilder b = new StringBuilder();
        List<String> cols = t.primaryKey();
        for (int i = 0; i < cols.size(); i++) {
            String col = cols.get(i);
            String value = "(v.pk::json ->> " + i + ")";
            value = t.binary().contains(col) ? "decode(" + value + ", 'base64')" : value + "::" + t.columns().get(col);
            b.append(" AND t.").append(PostgresDialect.quote(col)).append(" = ").append(value);
        }
        return b.toString();
    }

    private static String name(TableShape t) {
        return PostgresDialect.quote(t.schema()) + "." + PostgresDialect.quote(t.table());
    }
}
