package org.activemirroring.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.activemirroring.capture.EchoPolicy;
import org.activemirroring.change.RowChange;
import org.activemirroring.db.Dialect;
import org.activemirroring.db.NoPrimaryKeyException;
import org.activemirroring.db.RowStatement;
import org.activemirroring.db.TableShape;
import org.activemirroring.join.JoinStash;

/**
 * {@link Dialect} for PostgreSQL.
 *
 * <p>Values arrive as the canonical text of {@link RowChange} and are bound as text with a
 * {@code ?::<type>} cast, so PostgreSQL's own input functions parse them by the local column type
 * (numeric, timestamptz, jsonb, uuid, enums, intervals, arrays, composites alike). The type is
 * {@code format_type}'s name, quoted and schema-qualified where the session's search_path needs it.
 * Only bytea (and a domain over it) is different: base64 is not bytea's text input, so those values
 * are decoded and bound as bytes.
 *
 * <p>The apply session runs with {@code session_replication_role = replica}, as PostgreSQL's own
 * logical replication does: the site's triggers already fired on the origin, and their effects
 * arrive as rows of the same transaction. It also sets up the replication origin
 * {@value #APPLY_ORIGIN}, which makes pgoutput tag the applier's transactions so that capture
 * drops them ({@link EchoPolicy}). Both need a superuser, or from PostgreSQL 15 on a role granted
 * {@code SET} on {@code session_replication_role} and {@code EXECUTE} on the origin functions
 * ({@link MirrorRoleSql}).
 */
public final class PostgresDialect implements Dialect {

    /** The replication origin the applier's sessions use. One applier session per database at a time. */
    public static final String APPLY_ORIGIN = "activemirroring_apply";
    /**
     * The replication origin of capture's repair session, which restores a local write that an
     * applied change overwrote before capture saw it. Its writes are echoes too ({@link EchoPolicy}).
     */
    public static final String REPAIR_ORIGIN = APPLY_ORIGIN + "_repair";
    /**
     * The origin under which a joined mirror moves aside rows capture never saw
     * ({@link JoinStash#sweepUncaptured}): a session of its own, while the applier and capture's
     * repairs hold theirs.
     */
    public static final String SWEEP_ORIGIN = APPLY_ORIGIN + "_sweep";

    /** The plugin's own schema: bookkeeping, never mirrored. */
    public static final String BOOKKEEPING_SCHEMA = "mirror";
    /** Capture's heartbeat table (see DebeziumCapture); its changes are never published. */
    public static final String HEARTBEAT_TABLE = BOOKKEEPING_SCHEMA + ".heartbeat";

    private final PostgresVersionStore versions = new PostgresVersionStore();
    private final PostgresCatalog catalog = new PostgresCatalog();
    private final PostgresCaptureSource captureSource = new PostgresCaptureSource();

    @Override
    public PostgresVersionStore versions() {
        return versions;
    }

    @Override
    public PostgresCatalog catalog() {
        return catalog;
    }

    @Override
    public PostgresCaptureSource captureSource() {
        return captureSource;
    }

    @Override
    public boolean isSchemaChange(RowChange row) {
        return DdlReplication.isDdl(row);
    }

    @Override
    public void applySchemaChange(Connection c, RowChange row, String nodeId) throws SQLException {
        DdlReplication.apply(c, row, nodeId);
    }

    @Override
    public String renamedTable(Connection c, String table) throws SQLException {
        return TableHistory.current(c, table);
    }

    @Override
    public org.activemirroring.db.FormerColumns formerColumns(Connection c, TableShape table, Set<String> names)
            throws SQLException {
        return ColumnHistory.lookup(c, table, names);
    }

    private enum Op { UPSERT, DELETE, INSERT_IF_ABSENT }

    private record SqlKey(String table, Op op, List<String> columns) {
    }

    // SQL text per (table, op, column set): building it is cheap, but a busy applier would rebuild
    // the same few statements for every row. pgjdbc caches the server-side prepared statement per
    // connection by this text.
    private final Map<SqlKey, String> sqlCache = new ConcurrentHashMap<>();

    @Override
    public String applyOriginName() {
        return APPLY_ORIGIN;
    }

    @Override
    public void createBookkeeping(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS mirror");
            s.execute("CREATE TABLE IF NOT EXISTS mirror.applied ("
                    + "origin text PRIMARY KEY, "
                    + "applied_seq bigint NOT NULL, "
                    + "apply_count bigint NOT NULL, "
                    + "applied_at timestamptz NOT NULL)");
            // Written by capture's heartbeats (see DebeziumCapture): one row per node.
            s.execute("CREATE TABLE IF NOT EXISTS mirror.heartbeat (node text PRIMARY KEY, beat_at timestamptz NOT NULL)");
            // Read by the applier (formerColumns); written by capture's schema-change trigger.
            s.execute(ColumnHistory.CREATE);
            // Read by the applier (renamedTable); written by capture's schema-change trigger.
            s.execute(TableHistory.CREATE);
        }
        versions.createTables(c);
    }

    @Override
    public void prepareApplySession(Connection c) throws SQLException {
        prepareSession(c, APPLY_ORIGIN);
    }

    @Override
    public void prepareRepairSession(Connection c) throws SQLException {
        prepareSession(c, REPAIR_ORIGIN);
    }

    public static void prepareSession(Connection c, String origin) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET session_replication_role = replica");
            // The session runs the same few statements over and over, each an index lookup per
            // key whatever the values. Left to choose, PostgreSQL keeps planning them afresh for
            // each execution (the custom plan looks cheaper for a key array of unknown length):
            // half of a one-row apply's time was planning (bench/run apply).
            s.execute("SET plan_cache_mode = force_generic_plan");
            // Creating and then setting up is not atomic; a concurrent creator makes the create
            // fail with a unique violation, which a reconnect then gets past.
            s.execute("SELECT pg_replication_origin_create('" + origin + "') "
                    + "WHERE NOT EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = '" + origin + "')");
            s.execute("SELECT pg_replication_origin_session_setup('" + origin + "')");
        }
    }

    @Override
    public TableShape describe(Connection c, String qualifiedTable) throws SQLException {
        int dot = qualifiedTable.indexOf('.');
        if (dot <= 0 || dot == qualifiedTable.length() - 1) {
            throw new SQLException("Table name '" + qualifiedTable + "' is not schema.table");
        }
        String schema = qualifiedTable.substring(0, dot);
        String table = qualifiedTable.substring(dot + 1);
        Map<String, String> columns = new LinkedHashMap<>();
        Set<String> binary = new HashSet<>();
        Set<String> alwaysIdentity = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(
                // bytea, or a domain over it: bound as bytes. Cast from text, base64 would be read
                // as bytea's escape format, i.e. stored as its own characters.
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod), 'bytea'::regtype::oid IN (t.oid, t.typbasetype), "
                        + "a.attidentity = 'a' FROM pg_attribute a JOIN pg_class cl ON cl.oid = a.attrelid "
                        + "JOIN pg_namespace n ON n.oid = cl.relnamespace JOIN pg_type t ON t.oid = a.atttypid "
                        + "WHERE n.nspname = ? AND cl.relname = ? AND a.attnum > 0 AND NOT a.attisdropped "
                        + "AND a.attgenerated = '' ORDER BY a.attnum")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.put(rs.getString(1), rs.getString(2));
                    if (rs.getBoolean(3)) {
                        binary.add(rs.getString(1));
                    }
                    if (rs.getBoolean(4)) {
                        alwaysIdentity.add(rs.getString(1));
                    }
                }
            }
        }
        if (columns.isEmpty()) {
            throw new SQLException("Table " + qualifiedTable + " does not exist in this mirror's database (or has no"
                    + " columns); every mirror needs the same schema: create it as on the origin", "42P01");
        }
        Identity identity = identity(c, schema, table);
        if (identity == null) {
            // Not a retriable condition: the applier cannot find rows without a key.
            throw new NoPrimaryKeyException(qualifiedTable);
        }
        return new TableShape(schema, table, columns, binary, identity.columns(), alwaysIdentity);
    }

    /**
     * How rows of a table are identified: its primary key, else a unique index over NOT NULL
     * columns that PostgreSQL accepts as {@code REPLICA IDENTITY USING INDEX} (valid, not partial,
     * not deferrable, no expressions). Of several such indexes the one with the fewest columns,
     * then the first by name, so that every mirror picks the same one from the same schema.
     *
     * @param index   the index's name
     * @param primary whether it is the primary key
     * @param columns its key columns in index order
     */
    record Identity(String index, boolean primary, List<String> columns) {
    }

    /** The table's {@link Identity}, or null when it has neither a primary key nor such an index. */
    static Identity identity(Connection c, String schema, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT ci.relname, i.indisprimary, ARRAY(SELECT a.attname::text"
                        + "  FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)"
                        + "  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
                        + "  WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) "
                        + "FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid "
                        + "JOIN pg_class cl ON cl.oid = i.indrelid JOIN pg_namespace n ON n.oid = cl.relnamespace "
                        + "WHERE n.nspname = ? AND cl.relname = ? AND (i.indisprimary OR (i.indisunique"
                        + "  AND i.indimmediate AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL"
                        + "  AND NOT EXISTS (SELECT 1 FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)"
                        + "    LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
                        + "    WHERE k.ord <= i.indnkeyatts AND (a.attnum IS NULL OR a.attnum <= 0 OR NOT a.attnotnull)))) "
                        + "ORDER BY i.indisprimary DESC, i.indnkeyatts, ci.relname LIMIT 1")) {
            ps.setString(1, schema);
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                return new Identity(rs.getString(1), rs.getBoolean(2), List.of((String[]) rs.getArray(3).getArray()));
            }
        }
    }

    @Override
    public RowStatement rowStatement(TableShape t, RowChange row) throws SQLException {
        if (row.op() == RowChange.Op.DELETE) {
            List<String> cols = new ArrayList<>(row.key().keySet());
            checkColumns(t, cols);
            if (!new HashSet<>(cols).equals(new HashSet<>(t.primaryKey()))) {
                throw new SQLException("Delete on " + t.qualifiedName() + " identifies the row by " + cols
                        + " but the local primary key is " + t.primaryKey() + "; every mirror needs the same schema");
            }
            String sql = sqlCache.computeIfAbsent(new SqlKey(t.qualifiedName(), Op.DELETE, cols),
                    k -> deleteSql(t, cols));
            return statement(sql, t, cols, row.key());
        }
        return insertStatement(t, row, Op.UPSERT);
    }

    @Override
    public RowStatement insertIfAbsent(TableShape t, RowChange row) throws SQLException {
        if (row.op() == RowChange.Op.DELETE) {
            throw new SQLException("A delete of " + t.qualifiedName() + " has no row image to insert");
        }
        return insertStatement(t, row, Op.INSERT_IF_ABSENT);
    }

    private RowStatement insertStatement(TableShape t, RowChange row, Op op) throws SQLException {
        // Key values come from the after-image where present; the key map fills any gap.
        Map<String, String> values = new LinkedHashMap<>(row.after());
        for (Map.Entry<String, String> k : row.key().entrySet()) {
            values.putIfAbsent(k.getKey(), k.getValue());
        }
        List<String> cols = new ArrayList<>(values.keySet());
        checkColumns(t, cols);
        String sql = sqlCache.computeIfAbsent(new SqlKey(t.qualifiedName(), op, cols),
                k -> op == Op.UPSERT ? upsertSql(t, cols) : insertIfAbsentSql(t, cols));
        return statement(sql, t, cols, values);
    }

    private static RowStatement statement(String sql, TableShape t, List<String> cols, Map<String, String> values) {
        Object[] params = new Object[cols.size()];
        boolean[] binary = new boolean[cols.size()];
        for (int i = 0; i < cols.size(); i++) {
            String col = cols.get(i);
            String value = values.get(col);
            binary[i] = t.binary().contains(col);
            params[i] = binary[i] && value != null ? Base64.getDecoder().decode(value) : value;
        }
        return new RowStatement(sql, params, binary);
    }

    @Override
    public Map<String, Long> readAppliedVector(Connection c) throws SQLException {
        Map<String, Long> out = new HashMap<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT origin, applied_seq FROM mirror.applied")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    /** Records an applied seq: parameters origin, seq. */
    static final String RECORD_APPLIED_SQL =
            "INSERT INTO mirror.applied (origin, applied_seq, apply_count, applied_at) VALUES (?, ?, 1, now()) "
                    + "ON CONFLICT (origin) DO UPDATE SET applied_seq = EXCLUDED.applied_seq, "
                    + "apply_count = mirror.applied.apply_count + 1, applied_at = now()";

    /** Locks an origin's applied seq: parameter origin. */
    static final String LOCK_APPLIED_SQL = "SELECT applied_seq FROM mirror.applied WHERE origin = ? FOR UPDATE";

    @Override
    public void recordApplied(Connection c, String origin, long seq) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(RECORD_APPLIED_SQL)) {
            ps.setString(1, origin);
            ps.setLong(2, seq);
            ps.executeUpdate();
        }
    }

    static String upsertSql(TableShape t, List<String> cols) {
        StringBuilder sb = insertOnConflict(t, cols);
        List<String> set = new ArrayList<>();
        for (String col : cols) {
            if (!t.primaryKey().contains(col) && !t.alwaysIdentity().contains(col)) {
                set.add(col);
            }
        }
        if (set.isEmpty()) {
            sb.append("DO NOTHING");
        } else {
            sb.append("DO UPDATE SET ");
            appendJoined(sb, set, col -> quote(col) + " = EXCLUDED." + quote(col));
        }
        return sb.toString();
    }

    static String insertIfAbsentSql(TableShape t, List<String> cols) {
        return insertOnConflict(t, cols).append("DO NOTHING").toString();
    }

    /** {@code INSERT INTO t (cols) VALUES (...) ON CONFLICT (primary key) }, the action left to add. */
    private static StringBuilder insertOnConflict(TableShape t, List<String> cols) {
        StringBuilder sb = new StringBuilder("INSERT INTO ").append(table(t)).append(" (");
        appendJoined(sb, cols, PostgresDialect::quote);
        // The origin's identity value is the row's identity everywhere: write it, not a local one.
        sb.append(cols.stream().anyMatch(t.alwaysIdentity()::contains) ? ") OVERRIDING SYSTEM VALUE VALUES (" : ") VALUES (");
        appendJoined(sb, cols, col -> placeholder(t, col));
        sb.append(") ON CONFLICT (");
        appendJoined(sb, t.primaryKey(), PostgresDialect::quote);
        sb.append(") ");
        return sb;
    }

    static String deleteSql(TableShape t, List<String> cols) {
        StringBuilder sb = new StringBuilder("DELETE FROM ").append(table(t)).append(" WHERE ");
        appendJoined(sb, cols, col -> quote(col) + " = " + placeholder(t, col), " AND ");
        return sb.toString();
    }

    /** Quotes an identifier, doubling embedded quotes, so any table or column name is safe. */
    /** A read in the caller's open transaction. */
    @FunctionalInterface
    interface Read<T> {
        T run() throws SQLException;
    }

    /**
     * Runs {@code read} in the caller's open transaction under a savepoint, so that its failure
     * (say, a bookkeeping table the plugin has not created in this database) leaves that
     * transaction usable: then {@code onFailure}'s answer is returned instead.
     */
    static <T> T underSavepoint(Connection c, Read<T> read, java.util.function.Function<SQLException, T> onFailure)
            throws SQLException {
        java.sql.Savepoint sp = c.setSavepoint();
        try {
            T out = read.run();
            c.releaseSavepoint(sp);
            return out;
        } catch (SQLException e) {
            c.rollback(sp);
            return onFailure.apply(e);
        }
    }

    /** A string literal, for statements that cannot take parameters (COPY, DO blocks, DDL). */
    public static String literal(String value) {
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a NUL character cannot be in an SQL literal");
        }
        return "'" + value.replace("'", "''") + "'";
    }

    public static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    /** {@code schema.table} as a quoted identifier pair. */
    public static String quoteQualified(String qualified) {
        int dot = qualified.indexOf('.');
        if (dot <= 0) {
            throw new IllegalArgumentException("'" + qualified + "' is not schema.table");
        }
        return quote(qualified.substring(0, dot)) + "." + quote(qualified.substring(dot + 1));
    }

    @Override
    public String quoteTable(String qualifiedTable) {
        return quoteQualified(qualifiedTable);
    }

    @Override
    public void prepareSweepSession(Connection c) throws SQLException {
        prepareSession(c, SWEEP_ORIGIN);
    }

    private static String table(TableShape t) {
        return quote(t.schema()) + "." + quote(t.table());
    }

    /** Binds one canonical value the way {@link #placeholder} expects it. */
    static void bindValue(PreparedStatement ps, int index, TableShape t, String col, String value) throws SQLException {
        if (t.binary().contains(col)) {
            ps.setBytes(index, value == null ? null : Base64.getDecoder().decode(value));
        } else {
            ps.setString(index, value);
        }
    }

    static String placeholder(TableShape t, String col) {
        return t.binary().contains(col) ? "?" : "?::" + t.columns().get(col);
    }

    private static void checkColumns(TableShape t, List<String> cols) throws SQLException {
        for (String col : cols) {
            if (!t.columns().containsKey(col)) {
                throw new SQLException("Column " + col + " of " + t.qualifiedName()
                        + " in the ChangeSet does not exist (or is generated) in this mirror's table; every mirror"
                        + " needs the same schema", "42703");
            }
        }
    }

    private static void appendJoined(StringBuilder sb, List<String> items, java.util.function.Function<String, String> f) {
        appendJoined(sb, items, f, ", ");
    }

    private static void appendJoined(StringBuilder sb, List<String> items, java.util.function.Function<String, String> f,
                                     String sep) {
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                sb.append(sep);
            }
            sb.append(f.apply(items.get(i)));
        }
    }
}
