package org.activemirroring.join;

import java.io.ByteArrayOutputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.db.Dialect;
import org.activemirroring.postgres.CopyText;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.postgres.PostgresSchemaScript;
import org.activemirroring.schema.MirroredTables;
import org.activemirroring.transport.Reply;
import org.activemirroring.transport.RequestHandler;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The donor side of a join: serves one consistent cut of this mirror's site database to a joining
 * mirror, in chunks, over the transport's unicast requests ({@link JoinWire}).
 *
 * <p>A session is one {@code REPEATABLE READ} read-only transaction on its own connection: every
 * table, the row versions and the applied vector are read in that one snapshot, however long the
 * copy takes and however many requests it needs. Rows are cut into chunks by page ranges of the
 * table ({@code ctid}), which within one snapshot are stable, so a joiner that restarts can go on
 * from its last loaded chunk as long as this session lives. Row versions come per table in key
 * order. The session's applied vector says which changes the cut holds: for every other origin,
 * exactly those up to the applied seq (the applier commits the vector with the changes); for this
 * mirror's own changes, at least those its journal held before the snapshot was taken (later
 * ones may be in it too, and are replayed harmlessly: applying a change the row already holds
 * changes nothing).
 *
 * <p>Sessions idle longer than {@link #IDLE_TIMEOUT_MS} are closed (an open snapshot holds back
 * vacuum on this database); at most {@link #MAX_SESSIONS} run at once.
 */
public final class JoinSource implements RequestHandler, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JoinSource.class);

    static final long IDLE_TIMEOUT_MS = 10 * 60_000L;
    /** A session no chunk was asked from yet (its joiner died right after begin) goes sooner. */
    static final long UNUSED_TIMEOUT_MS = 60_000L;
    static final int MAX_SESSIONS = 4;
    /** Row versions per chunk, at most. */
    static final int MAX_VERSION_ROWS = 50_000;
    /** Pages per rows chunk, at most (the joiner asks for fewer). */
    static final long MAX_PAGES = 4096;

    private final CaptureConfig config;
    private final Dialect dialect;
    private final String node;
    private final LongSupplier ownJournalHead;
    private final Supplier<JoinWire.Hello> hello;
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private static final class Session {
        final String id;
        final Connection connection;
        final JoinWire.Begin begin;
        final Map<String, JoinWire.TableInfo> tables = new LinkedHashMap<>();
        volatile long lastUsed = System.currentTimeMillis();
        volatile boolean served;

        Session(String id, Connection connection, JoinWire.Begin begin) {
            this.id = id;
            this.connection = connection;
            this.begin = begin;
            for (JoinWire.TableInfo t : begin.tables()) {
                tables.put(t.name(), t);
            }
        }
    }

    /**
     * @param ownJournalHead this mirror's own journal head: how many of its changes it published
     * @param hello          this mirror's state, answered to {@code hello}
     */
    public JoinSource(CaptureConfig config, Dialect dialect, String node, LongSupplier ownJournalHead,
                      Supplier<JoinWire.Hello> hello) {
        this.config = config;
        this.dialect = dialect;
        this.node = node;
        this.ownJournalHead = ownJournalHead;
        this.hello = hello;
    }

    @Override
    public byte[] handle(String from, byte[] body) throws Exception {
        return reply(from, body).toBytes();
    }

    /** Answers one join request; chunks leave the transport its byte, so they go out without a copy. */
    @Override
    public Reply reply(String from, byte[] body) throws Exception {
        JoinWire.Request r = JoinWire.parse(body, JoinWire.Request.class);
        if (r.version() != JoinWire.VERSION) {
            throw new IllegalArgumentException("join protocol version " + r.version() + " from " + from
                    + ", this mirror speaks " + JoinWire.VERSION + "; run the same ActiveMirroring release on both");
        }
        expireIdle();
        if (r.op() == null) {
            throw new IllegalArgumentException("join request without op");
        }
        switch (r.op()) {
            case "hello":
                return Reply.of(JoinWire.json(hello.get()));
            case "begin":
                return Reply.of(JoinWire.json(begin(from).begin));
            case "resume": {
                Session s = session(r.session());
                return Reply.of(JoinWire.json(s.begin));
            }
            case "rows":
                return rows(session(r.session()), r);
            case "versions":
                return versions(session(r.session()), r);
            case "end": {
                Session s = sessions.remove(r.session());
                if (s != null) {
                    closeSession(s, "finished");
                }
                return Reply.of(new byte[0]);
            }
            default:
                throw new IllegalArgumentException("unknown join op '" + r.op() + "'");
        }
    }

    /** Open sessions (for status and tests). */
    public int openSessions() {
        return sessions.size();
    }

    private Session session(String id) {
        Session s = id == null ? null : sessions.get(id);
        if (s == null) {
            throw new IllegalStateException("no join session '" + id + "' on " + node
                    + " (it ended, timed out, or this mirror restarted); begin a new one");
        }
        s.lastUsed = System.currentTimeMillis();
        s.served = true;
        return s;
    }

    /**
     * A mirror with parked changes counts them as applied without holding their effect: a copy of
     * it would lack them for good. It does not donate until the operator retried or discarded them.
     */
    private void refuseWhileParked(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT to_regclass('mirror.parked') IS NULL")) {
            rs.next();
            if (rs.getBoolean(1)) {
                return; // no applier ever ran here: nothing parked
            }
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*), min(origin || '#' || seq) FROM mirror.parked")) {
            rs.next();
            if (rs.getLong(1) > 0) {
                throw new IllegalStateException("mirror " + node + " holds " + rs.getLong(1) + " parked change(s)"
                        + " (first: " + rs.getString(2) + ") that a copy of it would lack; ask another mirror, or"
                        + " retry or discard them on " + node + " (GET /_mirror/parked)");
            }
        }
    }

    private Session begin(String joiner) throws SQLException {
        JoinWire.Hello me = hello.get();
        if (!"complete".equals(me.state()) || !me.ready()) {
            throw new IllegalStateException("mirror " + node + " cannot serve a join now (state " + me.state()
                    + ", ready " + me.ready() + "); ask another one");
        }
        if (closed) {
            throw new IllegalStateException("mirror " + node + " is stopping");
        }
        if (sessions.size() >= MAX_SESSIONS) {
            throw new IllegalStateException("mirror " + node + " already serves " + sessions.size()
                    + " joins; ask another mirror or retry later");
        }
        // Read before the snapshot exists: everything this mirror published up to here is in it.
        long head = ownJournalHead.getAsLong();
        Connection c = config.connect();
        try {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                // A migration holding a table exclusively makes begin fail after this, not hang a
                // transport thread; the joiner asks again.
                st.execute("SET LOCAL lock_timeout = '30s'");
                // The first query fixes the transaction's snapshot.
                try (ResultSet rs = st.executeQuery("SELECT pg_export_snapshot()")) {
                    rs.next();
                }
            }
            Map<String, Long> vector = new LinkedHashMap<>();
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT origin, applied_seq FROM mirror.applied ORDER BY origin")) {
                while (rs.next()) {
                    vector.put(rs.getString(1), rs.getLong(2));
                }
            }
            vector.put(node, head);
            refuseWhileParked(c);
            List<String> names = new ArrayList<>();
            List<JoinWire.TableInfo> tables = new ArrayList<>();
            for (MirroredTables.Table t : MirroredTables.of(config, dialect.catalog()).mirrorable(c)) {
                names.add(t.qualified());
            }
            for (String t : names) {
                // No DROP, TRUNCATE or table rewrite while the copy runs: they would change what
                // the page ranges point at.
                try (Statement st = c.createStatement()) {
                    st.execute("LOCK TABLE " + quoted(t) + " IN ACCESS SHARE MODE");
                }
                // the columns COPY can write: generated ones are computed by the joiner
                List<String> columns = List.copyOf(dialect.describe(c, t).columns().keySet());
                ColumnTypes types = columnTypes(c, t, columns);
                tables.add(new JoinWire.TableInfo(t, columns, pages(c, t), types.names(), types.binary()));
            }
            List<String> local = MirroredTables.of(config, dialect.catalog()).keptLocal(c);
            String localProblem = null;
            PostgresSchemaScript ddl = new PostgresSchemaScript(List.of(), List.of());
            String ddlProblem = null;
            if (!local.isEmpty()) {
                // The tables kept local are created on the joiner too (without rows): the site
                // writes to them there as well. If the donor cannot describe them, the mirrored
                // tables' DDL is read alone and the joiner says which ones it has to create.
                List<String> all = new ArrayList<>(names);
                all.addAll(local);
                try {
                    ddl = readDdl(c, all);
                } catch (SQLException e) {
                    localProblem = e.getMessage();
                }
            }
            if (local.isEmpty() || localProblem != null) {
                try {
                    ddl = readDdl(c, names);
                } catch (SQLException e) {
                    // Only a joiner without the tables needs the DDL; it reports this then.
                    ddlProblem = e.getMessage();
                }
            }
            String id = UUID.randomUUID().toString();
            Session s = new Session(id, c, new JoinWire.Begin(id, node, vector, tables, ddl.beforeData(), ddl.afterData(),
                    ddlProblem, serverVersion(c), localProblem == null ? local : List.of(), localProblem));
            sessions.put(id, s);
            LOG.info("Mirror {}: serving a join to {} from one snapshot of {} tables (session {}, vector {})", node,
                    joiner, tables.size(), id, vector);
            return s;
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    /** The DDL of {@code tables} in the snapshot's transaction; on failure the transaction goes on. */
    private static PostgresSchemaScript readDdl(Connection c, List<String> tables) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("SAVEPOINT ddl");
        }
        try {
            PostgresSchemaScript ddl = PostgresSchemaScript.read(c, tables);
            try (Statement st = c.createStatement()) {
                st.execute("RELEASE SAVEPOINT ddl");
            }
            return ddl;
        } catch (SQLException e) {
            try (Statement st = c.createStatement()) {
                st.execute("ROLLBACK TO SAVEPOINT ddl");
            }
            throw e;
        }
    }

    /** {@code server_version_num} of the database behind {@code c}. */
    static int serverVersion(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW server_version_num")) {
            rs.next();
            return Integer.parseInt(rs.getString(1));
        }
    }

    /**
     * The types of {@code columns} of a table, in that order, as {@code format_type} writes them,
     * and whether COPY's binary format carries them safely to another database of the same major
     * version (see {@link JoinWire.TableInfo}).
     */
    record ColumnTypes(List<String> names, boolean binary) {
    }

    static ColumnTypes columnTypes(Connection c, String table, List<String> columns) throws SQLException {
        Map<String, String> names = new java.util.HashMap<>();
        boolean binary = true;
        // 16384 is FirstNormalObjectId: below it, the types initdb made, the same in every
        // database of a major version. reg* values are object ids of the database they come from.
        // tsquery: its binary input refuses the empty query its binary output writes ("malformed
        // tsquery: operand not found", PostgreSQL 16), so those rows go as text.
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attname, format_type(a.atttypid, a.atttypmod),"
                + " t.oid < 16384 AND t.typsend::oid <> 0 AND t.typreceive::oid <> 0 AND t.typname NOT LIKE 'reg%'"
                + " AND t.oid <> 'tsquery'::regtype"
                + " AND (e.oid IS NULL OR (e.oid < 16384 AND e.typsend::oid <> 0 AND e.typreceive::oid <> 0"
                + " AND e.typname NOT LIKE 'reg%' AND e.oid <> 'tsquery'::regtype))"
                + " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
                + " LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'"
                + " WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped")) {
            ps.setString(1, quoted(table));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    names.put(rs.getString(1), rs.getString(2));
                    if (columns.contains(rs.getString(1))) {
                        binary &= rs.getBoolean(3);
                    }
                }
            }
        }
        List<String> out = new ArrayList<>(columns.size());
        for (String col : columns) {
            String type = names.get(col);
            if (type == null) {
                throw new IllegalStateException("column " + col + " of " + table + " has no type in pg_attribute");
            }
            out.add(type);
        }
        return new ColumnTypes(List.copyOf(out), binary);
    }

    /** Pages of the table now; tuples this snapshot sees cannot be beyond them. -1 for a partitioned table. */
    private static long pages(Connection c, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT CASE WHEN relkind = 'p' THEN -1 ELSE "
                + "pg_relation_size(oid) / current_setting('block_size')::bigint END FROM pg_class WHERE oid = ?::regclass")) {
            ps.setString(1, quoted(table));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private Reply rows(Session s, JoinWire.Request r) throws Exception {
        JoinWire.TableInfo t = table(s, r.table());
        StringBuilder sql = new StringBuilder("COPY (SELECT ");
        appendColumns(sql, t.columns());
        sql.append(" FROM ").append(quoted(t.name()));
        if (t.pages() >= 0) {
            if (r.fromPage() < 0 || r.toPage() <= r.fromPage() || r.toPage() - r.fromPage() > MAX_PAGES) {
                throw new IllegalArgumentException("page range " + r.fromPage() + ".." + r.toPage() + " of " + t.name()
                        + " is empty, negative or wider than " + MAX_PAGES + " pages");
            }
            sql.append(" WHERE ctid >= '(").append(r.fromPage()).append(",0)'::tid AND ctid < '(")
                    .append(r.toPage()).append(",0)'::tid");
        }
        // Binary only for a table whose every type allows it, whatever the joiner asked.
        boolean binary = r.wantsBinary() && t.binary();
        sql.append(binary ? ") TO STDOUT WITH (FORMAT binary)" : ") TO STDOUT");
        long sizeGuess = t.pages() >= 0 ? (r.toPage() - r.fromPage()) * 8192 : 0;
        return copyOut(s, sql.toString(), null, binary, sizeGuess);
    }

    private Reply versions(Session s, JoinWire.Request r) throws Exception {
        JoinWire.TableInfo t = table(s, r.table());
        int limit = Math.max(1, Math.min(r.limit(), MAX_VERSION_ROWS));
        // The key goes first so the last key of the chunk is easy to find; writer xid and LSN are
        // this database's own and mean nothing on the joiner.
        StringBuilder sql = new StringBuilder("COPY (SELECT pk, tbl, clock, origin, deleted, prev_clock, prev_origin, "
                + "source_tx, origin_seq, 0::bigint, 0::bigint FROM mirror.row_version WHERE tbl = ")
                .append(PostgresDialect.literal(t.name()));
        if (r.after() != null) {
            sql.append(" AND pk > ").append(PostgresDialect.literal(r.after()));
        }
        sql.append(" ORDER BY pk LIMIT ").append(limit).append(") TO STDOUT");
        return copyOut(s, sql.toString(), r.table(), false, (long) limit * 128);
    }

    /**
     * Runs a COPY TO of this session's snapshot and frames what it wrote. {@code sizeGuess}: about
     * how many bytes to expect (the pages of the range), so the buffer does not grow by doubling
     * and copying; the data can be larger (values stored compressed) or much smaller.
     */
    private Reply copyOut(Session s, String sql, String keyedTable, boolean binary, long sizeGuess) throws Exception {
        Buffer out = new Buffer((int) Math.max(1 << 16, Math.min(sizeGuess + (sizeGuess >> 3), 64 << 20)));
        out.write(new byte[JoinWire.DATA_OFFSET]); // the frame goes around the data in place
        long rows;
        synchronized (s) {
            rows = s.connection.unwrap(PGConnection.class).getCopyAPI().copyOut(sql, out);
            s.lastUsed = System.currentTimeMillis();
        }
        String last = keyedTable == null || rows == 0 ? null
                : CopyText.firstFieldOfLastLine(out.bytes(), JoinWire.DATA_OFFSET, out.size());
        return JoinWire.chunkInPlace(new JoinWire.ChunkHeader(rows, last, ownJournalHead.getAsLong(),
                binary ? JoinWire.BINARY : null), out.bytes(), out.size());
    }

    /** A byte buffer whose contents are framed without another copy. */
    private static final class Buffer extends ByteArrayOutputStream {
        Buffer(int size) {
            super(size);
        }

        byte[] bytes() {
            return buf;
        }
    }

    private static JoinWire.TableInfo table(Session s, String name) {
        JoinWire.TableInfo t = name == null ? null : s.tables.get(name);
        if (t == null) {
            throw new IllegalArgumentException("table '" + name + "' is not one of this join's tables");
        }
        return t;
    }

    private static void appendColumns(StringBuilder sql, List<String> columns) {
        for (int i = 0; i < columns.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append(PostgresDialect.quote(columns.get(i)));
        }
    }

    /** {@code schema.table} as a quoted identifier pair. */
    static String quoted(String qualified) {
        int dot = qualified.indexOf('.');
        if (dot <= 0) {
            throw new IllegalArgumentException("'" + qualified + "' is not schema.table");
        }
        return PostgresDialect.quote(qualified.substring(0, dot)) + "." + PostgresDialect.quote(qualified.substring(dot + 1));
    }

    /**
     * Closes sessions idle longer than {@link #IDLE_TIMEOUT_MS} ({@link #UNUSED_TIMEOUT_MS} if never
     * used after begin); also called on every request.
     */
    public void expireIdle() {
        long now = System.currentTimeMillis();
        for (Session s : sessions.values()) {
            long limit = s.served ? IDLE_TIMEOUT_MS : UNUSED_TIMEOUT_MS;
            if (now - s.lastUsed > limit && sessions.remove(s.id, s)) {
                closeSession(s, "idle for " + (now - s.lastUsed) / 1000 + " s");
            }
        }
    }

    private void closeSession(Session s, String why) {
        synchronized (s) {
            closeQuietly(s.connection);
        }
        LOG.info("Mirror {}: join session {} closed ({})", node, s.id, why);
    }

    private static void closeQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException | RuntimeException e) {
            // closing anyway
        }
        try {
            c.close();
        } catch (SQLException e) {
            // nothing to do
        }
    }

    /** Ends every session. */
    @Override
    public void close() {
        closed = true;
        for (Session s : sessions.values()) {
            if (sessions.remove(s.id, s)) {
                closeSession(s, "mirror stopping");
            }
        }
    }
}
