package org.activemirroring.postgres;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.activemirroring.change.RowVersion;
import org.activemirroring.db.RowJson;
import org.activemirroring.db.SqlTexts;
import org.activemirroring.db.StatementChain;
import org.activemirroring.db.StoredVersion;
import org.activemirroring.db.TableShape;
import org.activemirroring.db.VersionStore;
import org.activemirroring.versions.Conflict;

/**
 * The row-version store and the conflict log on PostgreSQL, both in the {@code mirror} schema.
 *
 * <p>{@code mirror.row_version} holds, per mirrored row that a mirrored write has touched, the
 * version of its last winning write (deletes stay as tombstones). The applier writes it in the
 * same transaction as the rows it applies; capture writes it for this mirror's own writes. Both
 * take the advisory transaction lock {@link #LOCK_KEY} first, so neither decides on a version the
 * other is about to replace.
 *
 * <p>{@code mirror.conflict} keeps every write that lost, with both row images. Stateless; every
 * method works on the given connection and never commits.
 */
public final class PostgresVersionStore implements VersionStore {

    /** Advisory lock key serialising the writers of {@code mirror.row_version} ("amvr"). */
    static final long LOCK_KEY = 0x616d7672L;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final TableTruncation truncations = new TableTruncation();

    /** The 32-bit id of the current transaction, comparable with a row's {@code xmin}. */
    public static final String CURRENT_XID = "(pg_current_xact_id()::text::bigint % 4294967296)";
    /** The current WAL insert position as a number, comparable with Debezium's {@code source.lsn}. */
    static final String CURRENT_LSN = "(pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint";




    private static final String SET_PROGRESS_SQL = "INSERT INTO mirror.capture_progress (node, stamped_commit_us)"
            + " VALUES (?, ?) ON CONFLICT (node) DO UPDATE SET stamped_commit_us ="
            + " greatest(mirror.capture_progress.stamped_commit_us, EXCLUDED.stamped_commit_us)";

    /** Records how far capture has stamped this mirror's transactions (commit time, epoch µs). */
    @Override
    public void setCaptureProgress(Connection c, String node, long stampedCommitMicros) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SET_PROGRESS_SQL)) {
            ps.setString(1, node);
            ps.setLong(2, stampedCommitMicros);
            ps.executeUpdate();
        }
    }

    /** Whether the server records commit timestamps ({@code track_commit_timestamp}). */
    @Override
    public boolean tracksCommitTimestamps(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW track_commit_timestamp")) {
            return rs.next() && "on".equalsIgnoreCase(rs.getString(1));
        }
    }


    private static final String LOCK_APPLIED = "SELECT origin, applied_seq FROM mirror.applied WHERE origin = ANY (?) FOR UPDATE";
    private static final String VERSION_LOCK = "SELECT pg_advisory_xact_lock(" + LOCK_KEY + ")";
    private static final SqlTexts.PerKey<TableShape> ROW_STATES_SQL = new SqlTexts.PerKey<>(PostgresVersionStore::rowStatesSql);

    /**
     * The SQL of a row-state query: for many keys of one table, per key (by its position in the
     * key list, from 1) the row as stored now, the transaction that wrote it and whether that was
     * a local transaction capture has not stamped yet; no row where there is none. Key values are
     * cast by the column types, as the applier binds them, so the canonical text matches exactly.
     * Needs {@code track_commit_timestamp=on} (see {@link #tracksCommitTimestamps}). Parameters:
     * the node, then per key column a text array.
     */
    private static String rowStatesSql(TableShape t) {
        List<String> cols = t.primaryKey();
        // One index lookup per key (LATERAL, kept from being flattened into a join by the LIMIT; a
        // key names one row): a join of the key list against the table is planned, for a few
        // hundred keys, as a hash join over a scan of the whole table (34 ms for 500 keys in a
        // table of 12,000 rows, 3.5 ms with one lookup per key).
        StringBuilder sql = new StringBuilder("SELECT k.ord, x.j, x.xm, x.unc FROM (SELECT coalesce((SELECT")
                .append(" stamped_commit_us FROM mirror.capture_progress WHERE node = ?), 0) AS stamped) p")
                .append(" CROSS JOIN unnest(");
        for (int i = 0; i < cols.size(); i++) {
            sql.append(i > 0 ? ", " : "").append("?::text[]");
        }
        sql.append(") WITH ORDINALITY AS k(");
        for (int i = 0; i < cols.size(); i++) {
            sql.append("c").append(i).append(", ");
        }
        sql.append("ord) CROSS JOIN LATERAL (SELECT row_to_json(t)::text AS j, t.xmin::text::bigint AS xm, ")
                .append("(w.roident = 0 AND w.\"timestamp\" IS NOT NULL AND (extract(epoch FROM w.\"timestamp\")")
                .append(" * 1000000)::bigint > p.stamped) AS unc FROM ")
                .append(PostgresDialect.quote(t.schema())).append('.').append(PostgresDialect.quote(t.table()))
                .append(" t LEFT JOIN LATERAL pg_xact_commit_timestamp_origin(t.xmin) w ON true WHERE ");
        for (int i = 0; i < cols.size(); i++) {
            String col = cols.get(i);
            String value = t.binary().contains(col) ? "decode(k.c" + i + ", 'base64')"
                    : "k.c" + i + "::" + t.columns().get(col);
            sql.append(i > 0 ? " AND " : "").append("t.").append(PostgresDialect.quote(col)).append(" = ").append(value);
        }
        sql.append(" LIMIT 1) x");
        return sql.toString();
    }

    /** Binds a row-state query from parameter {@code p} on; returns the next parameter. */
    private static int bindRowStates(Connection c, PreparedStatement ps, int p, RowStateQuery q, String node)
            throws SQLException {
        List<String> cols = q.table().primaryKey();
        ps.setString(p++, node);
        for (String col : cols) {
            String[] values = new String[q.keys().size()];
            for (int k = 0; k < q.keys().size(); k++) {
                values[k] = q.keys().get(k).get(col);
            }
            ps.setArray(p++, c.createArrayOf("text", values));
        }
        return p;
    }

    @Override
    public RowState rowState(Connection c, TableShape t, Map<String, String> key, String node) throws SQLException {
        RowStateQuery q = new RowStateQuery(t, List.of(key));
        try (PreparedStatement ps = c.prepareStatement(ROW_STATES_SQL.get(t))) {
            bindRowStates(c, ps, 1, q, node);
            return rowStatesOf(ps.executeQuery(), q)[0];
        }
    }

    private static RowState[] rowStatesOf(ResultSet rs, RowStateQuery q) throws SQLException {
        RowState[] out = new RowState[q.keys().size()];
        try (rs) {
            while (rs.next()) {
                out[(int) rs.getLong(1) - 1] = new RowState(rs.getString(2), rs.getLong(3), rs.getBoolean(4));
            }
        }
        return out;
    }

    void createTables(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS mirror");
            s.execute("CREATE TABLE IF NOT EXISTS mirror.row_version ("
                    + "tbl text NOT NULL, pk text NOT NULL, "
                    + "clock bigint NOT NULL, origin text NOT NULL, deleted boolean NOT NULL, "
                    + "prev_clock bigint, prev_origin text, "
                    + "source_tx bigint NOT NULL DEFAULT 0, origin_seq bigint NOT NULL DEFAULT 0, "
                    + "writer_xid bigint NOT NULL, writer_lsn bigint NOT NULL, "
                    + "PRIMARY KEY (tbl, pk))");
            // How far capture has stamped this mirror's own transactions: the commit time of the
            // newest one. A row written by a local transaction that committed later holds a write
            // capture has not stamped yet (see ChangeSetApplier).
            s.execute("CREATE TABLE IF NOT EXISTS mirror.capture_progress ("
                    + "node text PRIMARY KEY, stamped_commit_us bigint NOT NULL)");
            s.execute("CREATE TABLE IF NOT EXISTS mirror.conflict ("
                    + "id bigserial PRIMARY KEY, detected_at timestamptz NOT NULL, kind text NOT NULL, "
                    + "tbl text NOT NULL, row_key jsonb NOT NULL, "
                    + "loser_clock bigint NOT NULL, loser_origin text NOT NULL, loser_op text NOT NULL, "
                    + "loser_row jsonb, loser_seq bigint NOT NULL, "
                    + "winner_clock bigint NOT NULL, winner_origin text NOT NULL, winner_row jsonb)");
            // A mirror's own lost writes, found by origin at every poll of the site's listener.
            s.execute("CREATE INDEX IF NOT EXISTS conflict_loser ON mirror.conflict (loser_origin, id)");
            // Which of them the site acknowledged (a set, not a highest id: conflict ids come from a
            // sequence and may commit out of order, the applier's and capture's transactions race).
            // Per scope (the web application that handled it): applications sharing one node each hear every one.
            s.execute("CREATE TABLE IF NOT EXISTS mirror.lost_write_ack (conflict_id bigint"
                    + " REFERENCES mirror.conflict (id) ON DELETE CASCADE, scope text NOT NULL DEFAULT '',"
                    + " acked_at timestamptz NOT NULL, PRIMARY KEY (conflict_id, scope))");
            TableTruncation.createTable(s);
        }
    }

    /** The tables' truncate tombstones of this mirror; shared by everyone using this store. */
    @Override
    public TableTruncation truncations() {
        return truncations;
    }


    /** Stored versions of the given rows of one table; rows without a version are absent. */
    @Override
    public Map<String, StoredVersion> read(Connection c, String table, Collection<String> keyTexts) throws SQLException {
        return read(c, table, keyTexts, false);
    }

    /**
     * Takes the version lock, records {@link #setCaptureProgress} and reads stored versions, in
     * one round trip: capture's first statement of a stamping transaction. The read sees
     * everything committed before the lock was granted; the progress commits with the versions,
     * so where in the transaction it is written does not matter to readers.
     */
    @Override
    public Map<String, StoredVersion> lockAndReadRecordingProgress(Connection c, String table, Collection<String> keyTexts,
                                                            String node, long stampedCommitMicros) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(" + LOCK_KEY + "); "
                + SET_PROGRESS_SQL + "; " + SELECT_VERSIONS)) {
            ps.setString(1, node);
            ps.setLong(2, stampedCommitMicros);
            Array keys = c.createArrayOf("text", keyTexts.toArray());
            ps.setArray(3, keys);
            ps.setString(4, table);
            boolean isResultSet = ps.execute();
            resultOf(ps, isResultSet).close(); // the lock
            if (ps.getMoreResults() || ps.getUpdateCount() < 0) {
                throw new SQLException("recording capture progress returned no update count");
            }
            Map<String, StoredVersion> out = versionsOf(resultOf(ps, ps.getMoreResults()));
            keys.free();
            return out;
        }
    }


    /**
     * Stored versions of some rows of one table; parameters: the key texts, the table. One unique
     * index lookup per key whatever the planner's statistics say: {@code tbl = ? AND pk = ANY (?)}
     * was planned, while the table was young and not analyzed, as a scan of all of the table's
     * versions filtered by the key list, which made each read slower than the last (up to
     * 0.75 s for 500 keys during catch-up). The LIMIT keeps the lookup from being flattened into
     * a join that can be planned the same way.
     */
    private static final String SELECT_VERSIONS = "SELECT v.pk, v.clock, v.origin, v.deleted, v.prev_clock,"
            + " v.prev_origin, v.source_tx, v.writer_xid, v.writer_lsn FROM unnest(?::text[]) AS k(pk)"
            + " CROSS JOIN LATERAL (SELECT * FROM mirror.row_version v WHERE v.tbl = ? AND v.pk = k.pk LIMIT 1) v";

    /**
     * The applier's reads, in one round trip: locks the applied seqs of {@code origins} and
     * returns them (0 for an origin never applied), takes the version lock if asked, then reads
     * the stored versions of the given rows, per table. The transaction keeps both locks until it
     * ends, so an applier takes them once per transaction and passes no origins and
     * {@code versionLock=false} after that. Then, in the same round trip, the row-state
     * queries {@code states} ({@link #rowStatesSql}) for {@code node}.
     */
    @Override
    public AppliedAndVersions lockAppliedAndRead(Connection c, Collection<String> origins, boolean versionLock,
                                          Map<String, ? extends Collection<String>> keysByTable,
                                          List<RowStateQuery> states, String node) throws SQLException {
        List<String> statements = new ArrayList<>();
        if (!origins.isEmpty()) {
            statements.add(LOCK_APPLIED);
        }
        if (versionLock) {
            statements.add(VERSION_LOCK);
        }
        for (int i = 0; i < keysByTable.size(); i++) {
            statements.add(SELECT_VERSIONS);
        }
        for (RowStateQuery q : states) {
            statements.add(ROW_STATES_SQL.get(q.table()));
        }
        Map<String, Long> applied = new HashMap<>();
        Map<String, Map<String, StoredVersion>> out = new HashMap<>();
        List<RowState[]> found = new ArrayList<>();
        if (statements.isEmpty()) {
            return new AppliedAndVersions(applied, out, found);
        }
        List<Array> arrays = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(SqlTexts.join(statements))) {
            int p = 1;
            if (!origins.isEmpty()) {
                Array a = c.createArrayOf("text", origins.toArray());
                arrays.add(a);
                ps.setArray(p++, a);
            }
            for (Map.Entry<String, ? extends Collection<String>> e : keysByTable.entrySet()) {
                Array a = c.createArrayOf("text", e.getValue().toArray());
                arrays.add(a);
                ps.setArray(p++, a);
                ps.setString(p++, e.getKey());
            }
            for (RowStateQuery q : states) {
                p = bindRowStates(c, ps, p, q, node);
            }
            boolean more = ps.execute();
            if (!origins.isEmpty()) {
                try (ResultSet rs = resultOf(ps, more)) {
                    while (rs.next()) {
                        applied.put(rs.getString(1), rs.getLong(2));
                    }
                }
                more = ps.getMoreResults();
            }
            for (String o : origins) {
                applied.putIfAbsent(o, 0L);
            }
            if (versionLock) {
                resultOf(ps, more).close();
                more = ps.getMoreResults();
            }
            for (String table : keysByTable.keySet()) {
                out.put(table, versionsOf(resultOf(ps, more)));
                more = ps.getMoreResults();
            }
            for (RowStateQuery q : states) {
                found.add(rowStatesOf(resultOf(ps, more), q));
                more = ps.getMoreResults();
            }
        } finally {
            for (Array a : arrays) {
                a.free();
            }
        }
        return new AppliedAndVersions(applied, out, found);
    }

    private static ResultSet resultOf(PreparedStatement ps, boolean isResultSet) throws SQLException {
        if (!isResultSet || ps.getResultSet() == null) {
            throw new SQLException("the applier's locking read returned fewer results than statements");
        }
        return ps.getResultSet();
    }

    private static Map<String, StoredVersion> versionsOf(ResultSet rs) throws SQLException {
        Map<String, StoredVersion> out = new HashMap<>();
        try (rs) {
            while (rs.next()) {
                long prevClock = rs.getLong(5);
                RowVersion prev = rs.wasNull() ? null : new RowVersion(prevClock, rs.getString(6));
                out.put(rs.getString(1), new StoredVersion(new RowVersion(rs.getLong(2), rs.getString(3)),
                        rs.getBoolean(4), prev, rs.getLong(7), rs.getLong(8), rs.getLong(9)));
            }
        }
        return out;
    }

    private Map<String, StoredVersion> read(Connection c, String table, Collection<String> keyTexts, boolean lock)
            throws SQLException {
        StringBuilder sql = new StringBuilder();
        if (lock) {
            sql.append("SELECT pg_advisory_xact_lock(" + LOCK_KEY + "); ");
        }
        sql.append(SELECT_VERSIONS);
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            Array keys = c.createArrayOf("text", keyTexts.toArray());
            ps.setArray(1, keys);
            ps.setString(2, table);
            boolean more = ps.execute();
            if (lock) {
                resultOf(ps, more).close();
                more = ps.getMoreResults();
            }
            Map<String, StoredVersion> out = versionsOf(resultOf(ps, more));
            keys.free();
            return out;
        }
    }

    /**
     * Advances the applied vector: per origin its new applied seq ({@code [0]}) and how many
     * ChangeSets of it this transaction applied ({@code [1]}, added to {@code apply_count}). One
     * statement for a whole group, so {@code mirror.applied} gets one new row version per origin
     * and transaction, not one per ChangeSet: each update of a row inside one transaction leaves
     * a dead version that the next update's lookup walks past.
     */
    @Override
    public void recordApplied(Connection c, Map<String, long[]> seqAndCount) throws SQLException {
        if (seqAndCount.isEmpty()) {
            return;
        }
        int n = seqAndCount.size();
        String[] origin = new String[n];
        Long[] seq = new Long[n];
        Long[] count = new Long[n];
        int i = 0;
        for (Map.Entry<String, long[]> e : seqAndCount.entrySet()) {
            origin[i] = e.getKey();
            seq[i] = e.getValue()[0];
            count[i] = e.getValue()[1];
            i++;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO mirror.applied (origin, applied_seq, apply_count,"
                + " applied_at) SELECT u.origin, u.seq, u.n, now() FROM unnest(?::text[], ?::bigint[], ?::bigint[])"
                + " AS u(origin, seq, n) ON CONFLICT (origin) DO UPDATE SET applied_seq = EXCLUDED.applied_seq,"
                + " apply_count = mirror.applied.apply_count + EXCLUDED.apply_count, applied_at = now()")) {
            ps.setArray(1, c.createArrayOf("text", origin));
            ps.setArray(2, c.createArrayOf("int8", seq));
            ps.setArray(3, c.createArrayOf("int8", count));
            ps.executeUpdate();
        }
    }

    /** Inserts versions of rows that have none (see {@link Write#absent}); an existing one fails it. */
    private static final String INSERT_SQL = "INSERT INTO mirror.row_version (tbl, pk, clock, origin, deleted,"
            + " prev_clock, prev_origin, source_tx, origin_seq, writer_xid, writer_lsn) "
            + "SELECT ?, u.pk, u.clock, u.origin, u.deleted, u.prev_clock, u.prev_origin, u.source_tx,"
            + " u.origin_seq, CASE WHEN u.writer_xid > 0 THEN u.writer_xid ELSE " + CURRENT_XID + " END, "
            + CURRENT_LSN + " "
            + "FROM unnest(?::text[], ?::bigint[], ?::text[], ?::boolean[], ?::bigint[], ?::text[],"
            + " ?::bigint[], ?::bigint[], ?::bigint[]) AS u(pk, clock, origin, deleted, prev_clock,"
            + " prev_origin, source_tx, origin_seq, writer_xid)";
    /** Inserts or replaces versions. */
    private static final String WRITE_SQL = INSERT_SQL + " "
            + "ON CONFLICT (tbl, pk) DO UPDATE SET clock = EXCLUDED.clock, origin = EXCLUDED.origin,"
            + " deleted = EXCLUDED.deleted, prev_clock = EXCLUDED.prev_clock,"
            + " prev_origin = EXCLUDED.prev_origin, source_tx = EXCLUDED.source_tx,"
            + " origin_seq = EXCLUDED.origin_seq, writer_xid = EXCLUDED.writer_xid,"
            + " writer_lsn = EXCLUDED.writer_lsn";

    /**
     * Appends to {@code chain} the storing of versions of rows of one table (one key at most
     * once), stamped with the WAL position and each with the (sub)transaction that wrote its row
     * ({@link Write#writerXid}, 0 for this top-level transaction); then, if {@code appliedOrigin}
     * is not null, the record of {@code appliedSeq} as that origin's applied position.
     */
    @Override
    public void addWrite(StatementChain chain, Connection c, String table, Collection<Write> writes, String appliedOrigin,
                  long appliedSeq) throws SQLException {
        List<Write> absent = new ArrayList<>();
        List<Write> stored = new ArrayList<>();
        for (Write w : writes) {
            (w.absent() ? absent : stored).add(w);
        }
        addWrites(chain, c, INSERT_SQL, table, absent);
        addWrites(chain, c, WRITE_SQL, table, stored);
        if (appliedOrigin != null) {
            chain.add(PostgresDialect.RECORD_APPLIED_SQL, 2, (ps, first) -> {
                ps.setString(first, appliedOrigin);
                ps.setLong(first + 1, appliedSeq);
            });
        }
    }

    private static void addWrites(StatementChain chain, Connection c, String sql, String table, List<Write> writes)
            throws SQLException {
        if (!writes.isEmpty()) {
            int n = writes.size();
            String[] pk = new String[n];
            Long[] clock = new Long[n];
            String[] origin = new String[n];
            Boolean[] deleted = new Boolean[n];
            Long[] prevClock = new Long[n];
            String[] prevOrigin = new String[n];
            Long[] sourceTx = new Long[n];
            Long[] originSeq = new Long[n];
            Long[] writerXid = new Long[n];
            int i = 0;
            for (Write w : writes) {
                pk[i] = w.keyText();
                clock[i] = w.version().clock();
                origin[i] = w.version().origin();
                deleted[i] = w.deleted();
                prevClock[i] = w.prev() == null ? null : w.prev().clock();
                prevOrigin[i] = w.prev() == null ? null : w.prev().origin();
                sourceTx[i] = w.sourceTx();
                originSeq[i] = w.originSeq();
                writerXid[i] = w.writerXid();
                i++;
            }
            java.sql.Array[] arrays = {c.createArrayOf("text", pk), c.createArrayOf("int8", clock),
                c.createArrayOf("text", origin), c.createArrayOf("bool", deleted), c.createArrayOf("int8", prevClock),
                c.createArrayOf("text", prevOrigin), c.createArrayOf("int8", sourceTx),
                c.createArrayOf("int8", originSeq), c.createArrayOf("int8", writerXid)};
            chain.add(sql, 1 + arrays.length, (ps, first) -> {
                ps.setString(first, table);
                for (int a = 0; a < arrays.length; a++) {
                    ps.setArray(first + 1 + a, arrays[a]);
                }
            });
        }
    }

    /** Records the envelope seq of this mirror's own tombstones, once publishing gave them one. */
    @Override
    public void setOwnTombstoneSeq(Connection c, String self, long sourceTx, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE mirror.row_version SET origin_seq = ? "
                + "WHERE origin = ? AND source_tx = ? AND deleted AND origin_seq = 0")) {
            ps.setLong(1, seq);
            ps.setString(2, self);
            ps.setLong(3, sourceTx);
            ps.executeUpdate();
        }
    }

    /**
     * Removes tombstones every mirror has applied: those of {@code origin} up to {@code seq}.
     *
     * @return how many were removed
     */
    @Override
    public int purgeTombstones(Connection c, String origin, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM mirror.row_version "
                + "WHERE deleted AND origin = ? AND origin_seq > 0 AND origin_seq <= ?")) {
            ps.setString(1, origin);
            ps.setLong(2, seq);
            return ps.executeUpdate();
        }
    }

    /** The row as stored now, or null if there is none. */
    @Override
    public CurrentRow currentRow(Connection c, TableShape t, Map<String, String> key) throws SQLException {
        return currentRow(c, t, key, false);
    }

    /**
     * The row as stored now, or null if there is none; with {@code lock}, the row is locked
     * ({@code FOR UPDATE}) until the transaction ends. A local transaction that holds the row is
     * waited for, and the row is then read as it left it, so that nothing can change the row
     * between this read and a write that depends on it.
     */
    @Override
    public CurrentRow currentRow(Connection c, TableShape t, Map<String, String> key, boolean lock) throws SQLException {
        List<String> cols = new ArrayList<>(key.keySet());
        StringBuilder sql = new StringBuilder("SELECT row_to_json(t)::text, t.xmin::text::bigint FROM ")
                .append(PostgresDialect.quote(t.schema())).append('.').append(PostgresDialect.quote(t.table()))
                .append(" t WHERE ");
        for (int i = 0; i < cols.size(); i++) {
            sql.append(i > 0 ? " AND " : "").append("t.").append(PostgresDialect.quote(cols.get(i))).append(" = ")
                    .append(PostgresDialect.placeholder(t, cols.get(i)));
        }
        if (lock) {
            sql.append(" FOR UPDATE");
        }
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < cols.size(); i++) {
                PostgresDialect.bindValue(ps, i + 1, t, cols.get(i), key.get(cols.get(i)));
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? new CurrentRow(rs.getString(1), rs.getLong(2)) : null;
            }
        }
    }


    /** The row whose columns have the given values (a unique key), or null. */
    @Override
    public FoundRow findRow(Connection c, TableShape t, Map<String, String> where) throws SQLException {
        List<String> cols = new ArrayList<>(where.keySet());
        StringBuilder sql = new StringBuilder("SELECT row_to_json(t)::text");
        for (String id : t.primaryKey()) {
            sql.append(", t.").append(PostgresDialect.quote(id)).append("::text");
        }
        sql.append(" FROM ").append(PostgresDialect.quote(t.schema())).append('.')
                .append(PostgresDialect.quote(t.table())).append(" t WHERE ");
        for (int i = 0; i < cols.size(); i++) {
            sql.append(i > 0 ? " AND " : "").append("t.").append(PostgresDialect.quote(cols.get(i))).append(" = ")
                    .append(PostgresDialect.placeholder(t, cols.get(i)));
        }
        try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < cols.size(); i++) {
                PostgresDialect.bindValue(ps, i + 1, t, cols.get(i), where.get(cols.get(i)));
            }
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                Map<String, String> identity = new LinkedHashMap<>();
                for (int i = 0; i < t.primaryKey().size(); i++) {
                    identity.put(t.primaryKey().get(i), rs.getString(2 + i));
                }
                return new FoundRow(rs.getString(1), identity);
            }
        }
    }

    /** The columns of a unique index or constraint of the table, in index order. */
    @Override
    public List<String> indexColumns(Connection c, TableShape t, String indexName) throws SQLException {
        List<String> cols = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT a.attname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
                        + "JOIN pg_namespace n ON n.oid = ic.relnamespace "
                        + "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
                        + "WHERE n.nspname = ? AND ic.relname = ? "
                        + "ORDER BY array_position(i.indkey::smallint[], a.attnum)")) {
            ps.setString(1, t.schema());
            ps.setString(2, indexName);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    cols.add(rs.getString(1));
                }
            }
        }
        return cols;
    }

    /** The constraint (unique index) a PostgreSQL error names, or null. */
    @Override
    public String constraintOf(SQLException e) {
        for (Throwable t = e; t != null; t = t instanceof SQLException s && s.getNextException() != null
                ? s.getNextException() : t.getCause()) {
            if (t instanceof org.postgresql.util.PSQLException p && p.getServerErrorMessage() != null
                    && p.getServerErrorMessage().getConstraint() != null) {
                return p.getServerErrorMessage().getConstraint();
            }
        }
        return null;
    }


    @Override
    public void log(Connection c, List<Conflict> conflicts) throws SQLException {
        if (conflicts.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO mirror.conflict (detected_at, kind, tbl, row_key,"
                + " loser_clock, loser_origin, loser_op, loser_row, loser_seq, winner_clock, winner_origin, winner_row)"
                + " VALUES (?, ?, ?, ?::jsonb, ?, ?, ?, ?::jsonb, ?, ?, ?, ?::jsonb)")) {
            for (Conflict k : conflicts) {
                ps.setTimestamp(1, Timestamp.from(k.detectedAt()));
                ps.setString(2, k.kind().name().toLowerCase(java.util.Locale.ROOT));
                ps.setString(3, k.table());
                ps.setString(4, RowJson.imageJson(k.key()));
                ps.setLong(5, k.loser().clock());
                ps.setString(6, k.loser().origin());
                ps.setString(7, k.loserOp());
                ps.setString(8, k.loserRow());
                ps.setLong(9, k.loserSeq());
                ps.setLong(10, k.winner().clock());
                ps.setString(11, k.winner().origin());
                ps.setString(12, k.winnerRow());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    private static final String CONFLICT_COLUMNS = "k.id, k.detected_at, k.kind, k.tbl, k.row_key::text,"
            + " k.loser_clock, k.loser_origin, k.loser_op, k.loser_row::text, k.loser_seq, k.winner_clock,"
            + " k.winner_origin, k.winner_row::text";

    /** The newest conflicts, newest first, at most {@code limit}; after {@code beforeId} if it is above 0. */
    @Override
    public List<Conflict> recent(Connection c, int limit, long beforeId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + CONFLICT_COLUMNS
                + " FROM mirror.conflict k WHERE (? <= 0 OR k.id < ?) ORDER BY k.id DESC LIMIT ?")) {
            ps.setLong(1, beforeId);
            ps.setLong(2, beforeId);
            ps.setInt(3, limit);
            return conflicts(ps);
        }
    }

    @Override
    public List<Conflict> unacknowledgedLosses(Connection c, String origin, String scope, int limit)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + CONFLICT_COLUMNS + " FROM mirror.conflict k"
                + " WHERE k.loser_origin = ? AND NOT EXISTS (SELECT 1 FROM mirror.lost_write_ack a"
                + " WHERE a.conflict_id = k.id AND a.scope = ?) ORDER BY k.id LIMIT ?")) {
            ps.setString(1, origin);
            ps.setString(2, scope);
            ps.setInt(3, limit);
            return conflicts(ps);
        }
    }

    @Override
    public void acknowledgeLoss(Connection c, long conflictId, String scope) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO mirror.lost_write_ack (conflict_id, scope, acked_at)"
                + " VALUES (?, ?, now()) ON CONFLICT (conflict_id, scope) DO NOTHING")) {
            ps.setLong(1, conflictId);
            ps.setString(2, scope);
            ps.executeUpdate();
        }
    }

    /** Runs a query selecting {@link #CONFLICT_COLUMNS}. */
    private static List<Conflict> conflicts(PreparedStatement ps) throws SQLException {
        List<Conflict> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Map<String, String> key;
                try {
                    key = JSON.readValue(rs.getString(5), new TypeReference<LinkedHashMap<String, String>>() { });
                } catch (JsonProcessingException e) {
                    key = Map.of("?", rs.getString(5));
                }
                out.add(new Conflict(rs.getLong(1), rs.getTimestamp(2).toInstant(),
                        Conflict.Kind.valueOf(rs.getString(3).toUpperCase(java.util.Locale.ROOT)), rs.getString(4),
                        key, new RowVersion(rs.getLong(6), rs.getString(7)), rs.getString(8), rs.getString(9),
                        new RowVersion(rs.getLong(11), rs.getString(12)), rs.getString(13), rs.getLong(10)));
            }
        }
        return out;
    }

    /** How many conflicts this mirror's log holds. */
    @Override
    public long count(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM mirror.conflict")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    public long currentTransactionId(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT " + CURRENT_XID)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
