package org.activemirroring.join;

import java.io.ByteArrayOutputStream;
import java.sql.Connection;
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
import org.activemirroring.db.BulkCopy;
import org.activemirroring.db.Dialect;
import org.activemirroring.db.SchemaCopy;
import org.activemirroring.schema.MirroredTables;
import org.activemirroring.transport.Reply;
import org.activemirroring.transport.RequestHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The donor side of a join: serves one consistent cut of this mirror's site database to a joining
 * mirror, in chunks, over the transport's unicast requests ({@link JoinWire}).
 *
 * <p>A session is one read-only snapshot transaction on its own connection
 * ({@link BulkCopy#beginSnapshot}): every table, the row versions and the applied vector are read
 * in that one snapshot, however long the copy takes and however many requests it needs. Rows are
 * cut into chunks by ranges of the table's units ({@link BulkCopy#units}; PostgreSQL: heap pages),
 * which within one snapshot are stable, so a joiner that restarts can go on from its last loaded
 * chunk as long as this session lives. Row versions come per table in key
 * order. The session's applied vector says which changes the cut holds: for every other origin,
 * exactly those up to the applied seq (the applier commits the vector with the changes); for this
 * mirror's own changes, at least those its journal held before the snapshot was taken (later
 * ones may be in it too, and are replayed harmlessly: applying a change the row already holds
 * changes nothing).
 *
 * <p>Sessions idle longer than {@link #IDLE_TIMEOUT_MS} are closed (an open snapshot holds back
 * the database's cleanup of old rows); at most {@link #MAX_SESSIONS} run at once.
 */
public final class JoinSource implements RequestHandler, AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JoinSource.class);

    static final long IDLE_TIMEOUT_MS = 10 * 60_000L;
    /** A session no chunk was asked from yet (its joiner died right after begin) goes sooner. */
    static final long UNUSED_TIMEOUT_MS = 60_000L;
    static final int MAX_SESSIONS = 4;
    /** Row versions per chunk, at most. */
    static final int MAX_VERSION_ROWS = 50_000;
    /** Units (PostgreSQL: pages) per rows chunk, at most (the joiner asks for fewer). */
    static final long MAX_PAGES = 4096;

    private final CaptureConfig config;
    private final Dialect dialect;
    private final SchemaCopy schema;
    private final BulkCopy bulk;
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
     * @param schema         reads the script a joiner without the tables creates them with
     * @param bulk           the snapshot and the chunks of rows and row versions
     * @param ownJournalHead this mirror's own journal head: how many of its changes it published
     * @param hello          this mirror's state, answered to {@code hello}
     */
    public JoinSource(CaptureConfig config, Dialect dialect, SchemaCopy schema, BulkCopy bulk, String node,
                      LongSupplier ownJournalHead, Supplier<JoinWire.Hello> hello) {
        this.config = config;
        this.dialect = dialect;
        this.schema = schema;
        this.bulk = bulk;
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
            bulk.beginSnapshot(c);
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
                bulk.holdTable(c, t);
                // the columns a load can write: generated ones are computed by the joiner
                List<String> columns = List.copyOf(dialect.describe(c, t).columns().keySet());
                BulkCopy.ColumnTypes types = bulk.columnTypes(c, t, columns);
                tables.add(new JoinWire.TableInfo(t, columns, bulk.units(c, t), types.names(), types.binary()));
            }
            List<String> local = MirroredTables.of(config, dialect.catalog()).keptLocal(c);
            String localProblem = null;
            SchemaCopy.Script ddl = new SchemaCopy.Script(List.of(), List.of());
            String ddlProblem = null;
            if (!local.isEmpty()) {
                // The tables kept local are created on the joiner too (without rows): the site
                // writes to them there as well. If the donor cannot describe them, the mirrored
                // tables' DDL is read alone and the joiner says which ones it has to create.
                List<String> all = new ArrayList<>(names);
                all.addAll(local);
                try {
                    ddl = schema.read(c, all);
                } catch (SQLException e) {
                    localProblem = e.getMessage();
                }
            }
            if (local.isEmpty() || localProblem != null) {
                try {
                    ddl = schema.read(c, names);
                } catch (SQLException e) {
                    // Only a joiner without the tables needs the DDL; it reports this then.
                    ddlProblem = e.getMessage();
                }
            }
            String id = UUID.randomUUID().toString();
            Session s = new Session(id, c, new JoinWire.Begin(id, node, vector, tables, ddl.beforeData(), ddl.afterData(),
                    ddlProblem, bulk.serverVersion(c), localProblem == null ? local : List.of(), localProblem));
            sessions.put(id, s);
            LOG.info("Serving a join to {} from one snapshot of {} tables (session {}, vector {})",
                    joiner, tables.size(), id, vector);
            return s;
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    private Reply rows(Session s, JoinWire.Request r) throws Exception {
        JoinWire.TableInfo t = table(s, r.table());
        if (t.pages() >= 0) {
            if (r.fromPage() < 0 || r.toPage() <= r.fromPage() || r.toPage() - r.fromPage() > MAX_PAGES) {
                throw new IllegalArgumentException("page range " + r.fromPage() + ".." + r.toPage() + " of " + t.name()
                        + " is empty, negative or wider than " + MAX_PAGES + " pages");
            }
        }
        // Binary only for a table whose every type allows it, whatever the joiner asked.
        boolean binary = r.wantsBinary() && t.binary();
        long from = t.pages() >= 0 ? r.fromPage() : -1;
        long to = t.pages() >= 0 ? r.toPage() : -1;
        long sizeGuess = t.pages() >= 0 ? (r.toPage() - r.fromPage()) * bulk.bytesPerUnit() : 0;
        return copyOut(s, (c, out) -> bulk.rowsOut(c, t.name(), t.columns(), from, to, binary, out), false, binary,
                sizeGuess);
    }

    private Reply versions(Session s, JoinWire.Request r) throws Exception {
        JoinWire.TableInfo t = table(s, r.table());
        int limit = Math.max(1, Math.min(r.limit(), MAX_VERSION_ROWS));
        return copyOut(s, (c, out) -> bulk.versionsOut(c, t.name(), r.after(), limit, out), true, false,
                (long) limit * 128);
    }

    /** One bulk read of a session's snapshot into the chunk's buffer; returns the rows it wrote. */
    @FunctionalInterface
    private interface BulkRead {
        long into(Connection c, java.io.OutputStream out) throws SQLException;
    }

    /**
     * Runs a bulk read of this session's snapshot and frames what it wrote; {@code keyed}: row
     * versions, whose last key the chunk carries. {@code sizeGuess}: about
     * how many bytes to expect (the pages of the range), so the buffer does not grow by doubling
     * and copying; the data can be larger (values stored compressed) or much smaller.
     */
    private Reply copyOut(Session s, BulkRead read, boolean keyed, boolean binary, long sizeGuess) throws Exception {
        Buffer out = new Buffer((int) Math.max(1 << 16, Math.min(sizeGuess + (sizeGuess >> 3), 64 << 20)));
        out.write(new byte[JoinWire.DATA_OFFSET]); // the frame goes around the data in place
        long rows;
        synchronized (s) {
            rows = read.into(s.connection, out);
            s.lastUsed = System.currentTimeMillis();
        }
        String last = !keyed || rows == 0 ? null : bulk.lastVersionKey(out.bytes(), JoinWire.DATA_OFFSET, out.size());
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
        LOG.info("Join session {} closed ({})", s.id, why);
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
