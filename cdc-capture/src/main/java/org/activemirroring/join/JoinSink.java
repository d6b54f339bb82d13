package org.activemirroring.join;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.activemirroring.apply.ChangeSetApplier;
import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.db.BulkCopy;
import org.activemirroring.db.Dialect;
import org.activemirroring.db.RowStash;
import org.activemirroring.db.SchemaCopy;
import org.activemirroring.schema.MirroredTables;
import org.activemirroring.transport.Reply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The joining side of a join: what this mirror's site database holds of a join, and loading a
 * donor's snapshot into it, chunk by chunk, each chunk committed together with the record of
 * how far the load got, so a join that dies anywhere resumes from its last loaded chunk.
 *
 * <p>Bookkeeping in the site database: {@code mirror.join_state} (one row: seed, loading or
 * complete), {@code mirror.join_session} (the donor snapshots used, with what each holds) and
 * {@code mirror.join_table} (per table: which snapshot it is loaded from and how far).
 *
 * <p>Several snapshots can end up in one join (the donor died, or its session expired, and the
 * join went on from another mirror). Each table is loaded, rows and row versions, from exactly
 * one snapshot: a table half loaded from a snapshot that is gone is emptied and loaded again from
 * the new one; finished tables stay. The applied vector the mirror starts from is, per origin, the
 * lowest of those snapshots: replaying from there brings every table forward to the same point,
 * since applying a change a table already holds (or one its row versions say is older) leaves it
 * as it is.
 *
 * <p>Loads run with {@code session_replication_role = replica} (no site triggers, no foreign key
 * checks: tables arrive in any order) and the applier's replication origin, so capture never
 * publishes loaded rows as this mirror's own writes.
 */
public final class JoinSink {

    private static final Logger LOG = LoggerFactory.getLogger(JoinSink.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, Long>> VECTOR = new TypeReference<>() {
    };

    /** Row versions per chunk. */
    public static final int VERSION_CHUNK = 20_000;
    /**
     * Chunks asked for ahead of the one loading. With one, a chunk that took longer to arrive
     * than the one before took to load left the joiner's database idle.
     */
    static final int PREFETCH = 2;

    public enum State {
        /** No decision yet: a new mirror. */
        NONE,
        /** A join started and has not finished. */
        LOADING,
        /**
         * Lost history no peer holds any more: its mirrored tables are emptied and loaded again
         * from a peer's snapshot.
         */
        REJOIN,
        /** Holds its data: started from its own database, or finished a join. */
        COMPLETE
    }

    /** Sends one join request to the donor and returns the answer. */
    @FunctionalInterface
    public interface Donor {
        Reply call(JoinWire.Request request) throws Exception;
    }

    private final CaptureConfig config;
    private final Dialect dialect;
    private final SchemaCopy schema;
    private final BulkCopy bulk;
    private final RowStash stash;
    private final String node;
    private final long chunkPages;
    private int chunksLoaded;
    private long donorHeadRecorded = -1;
    private long bytesLoaded;

    /**
     * @param schema creates the donor's tables here when this database has none of them
     * @param bulk   loads the donor's chunks of rows and row versions
     * @param stash  holds what this mirror's site wrote into a table before the join loads it
     *               ({@link JoinStash})
     */
    public JoinSink(CaptureConfig config, Dialect dialect, SchemaCopy schema, BulkCopy bulk, RowStash stash,
                    String node) {
        this.config = config;
        this.dialect = dialect;
        this.schema = schema;
        this.bulk = bulk;
        this.stash = stash;
        this.node = node;
        this.chunkPages = Math.max(1, Math.min(config.joinChunkPages(), JoinSource.MAX_PAGES));
    }

    /** Chunks this sink committed since it was made. */
    public int chunksLoaded() {
        return chunksLoaded;
    }

    /** Creates the bookkeeping if needed and says where this mirror stands. */
    public State state() throws SQLException {
        try (Connection c = config.connect()) {
            createTables(c);
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT status FROM mirror.join_state")) {
                if (!rs.next()) {
                    return State.NONE;
                }
                return switch (rs.getString(1)) {
                    case "complete" -> State.COMPLETE;
                    case "rejoin" -> State.REJOIN;
                    default -> State.LOADING;
                };
            }
        }
    }

    private void createTables(Connection c) throws SQLException {
        dialect.createBookkeeping(c);
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS mirror.join_state (one boolean PRIMARY KEY DEFAULT true CHECK (one), "
                    + "status text NOT NULL, how text NOT NULL, schema_created boolean NOT NULL DEFAULT false, "
                    + "after_done boolean NOT NULL DEFAULT false, horizon jsonb, started_at timestamptz NOT NULL, "
                    + "completed_at timestamptz)");
            s.execute("ALTER TABLE mirror.join_state ADD COLUMN IF NOT EXISTS warning text");
            // false from the start of a join until JoinStash swept what the site wrote meanwhile
            s.execute("ALTER TABLE mirror.join_state ADD COLUMN IF NOT EXISTS swept boolean NOT NULL DEFAULT true");
            s.execute("CREATE TABLE IF NOT EXISTS mirror.join_session (session text PRIMARY KEY, donor text NOT NULL, "
                    + "vector jsonb NOT NULL, donor_head bigint NOT NULL DEFAULT 0, began_at timestamptz NOT NULL)");
            s.execute("CREATE TABLE IF NOT EXISTS mirror.join_ddl (idx int PRIMARY KEY)");
            s.execute("CREATE TABLE IF NOT EXISTS mirror.join_autovacuum_off (tbl text PRIMARY KEY)");
            s.execute("CREATE TABLE IF NOT EXISTS mirror.join_validate (idx int PRIMARY KEY, stmt text NOT NULL)");
            s.execute("CREATE TABLE IF NOT EXISTS mirror.join_table (tbl text PRIMARY KEY, session text NOT NULL, "
                    + "next_page bigint NOT NULL, rows_done boolean NOT NULL, versions_after text, done boolean NOT NULL)");
        }
        stash.createStorage(c);
    }

    /**
     * Whether this database was mirrored before the join bookkeeping existed: it applied changes
     * of other mirrors, or its capture ran. Such a mirror holds its data.
     */
    public boolean hasHistory() throws SQLException {
        try (Connection c = config.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT EXISTS (SELECT 1 FROM mirror.applied) OR EXISTS "
                     + "(SELECT 1 FROM mirror.capture_progress)")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** Mirrored tables of this database that hold at least one row (empty when none or no tables). */
    public List<String> tablesWithRows() throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = config.connect()) {
            for (MirroredTables.Table t : MirroredTables.of(config, dialect.catalog()).list(c)) {
                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT EXISTS (SELECT 1 FROM " + dialect.quoteTable(t.qualified()) + ")")) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        out.add(t.qualified());
                    }
                }
            }
        }
        return out;
    }

    /** Records that this mirror holds its data without a join ({@code how} says why). */
    public void markComplete(String how) throws SQLException {
        markComplete(how, null);
    }

    /**
     * Records that this mirror holds its data without a join: {@code how} says why, {@code warning}
     * (or null) what an operator should know about it (kept for the status page).
     */
    public void markComplete(String how, String warning) throws SQLException {
        try (Connection c = config.connect(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO mirror.join_state (status, how, warning, started_at, completed_at) VALUES ('complete', ?, ?,"
                        + " now(), now()) ON CONFLICT (one) DO UPDATE SET status = 'complete', how = EXCLUDED.how,"
                        + " warning = EXCLUDED.warning, completed_at = now()")) {
            ps.setString(1, how);
            ps.setString(2, warning);
            ps.executeUpdate();
        }
    }

    /** Where this mirror's data came from (the decision or the join's donors), or null before a decision. */
    public String how() throws SQLException {
        return stateColumn("how");
    }

    /** The warning recorded with the decision, or null. */
    public String warning() throws SQLException {
        return stateColumn("warning");
    }

    private String stateColumn(String column) throws SQLException {
        try (Connection c = config.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT " + column + " FROM mirror.join_state")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /**
     * Records that this mirror must copy its data again (its next start empties the mirrored
     * tables and joins); {@code why} is kept for the log.
     */
    public void markRejoin(String why) throws SQLException {
        try (Connection c = config.connect(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO mirror.join_state (status, how, started_at) VALUES ('rejoin', ?, now()) "
                        + "ON CONFLICT (one) DO UPDATE SET status = 'rejoin', how = EXCLUDED.how, started_at = now(), "
                        + "completed_at = NULL, schema_created = false, after_done = false, horizon = NULL, swept = false")) {
            ps.setString(1, "rejoin: " + why);
            ps.executeUpdate();
        }
    }

    /** Records that a join starts (idempotent: a resumed join keeps its progress). */
    public void markLoading() throws SQLException {
        try (Connection c = config.connect(); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO mirror.join_state (status, how, started_at, swept) VALUES ('loading', 'join', now(),"
                    + " false) ON CONFLICT (one) DO NOTHING");
        }
    }

    /** The session of the last snapshot this join loaded from and its donor, or null. */
    public String[] lastSession() throws SQLException {
        try (Connection c = config.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT session, donor FROM mirror.join_session ORDER BY began_at DESC LIMIT 1")) {
            return rs.next() ? new String[] {rs.getString(1), rs.getString(2)} : null;
        }
    }

    /**
     * Loads what is not loaded yet from the donor's snapshot {@code begin}, then completes the
     * join: constraints and indexes (when the join created the schema), the applied vector, the
     * state. Returns the applied vector this mirror starts from.
     *
     * @throws Exception from the donor (session gone, network) or the database; everything
     *                   committed so far stays, and the next call goes on from there
     */
    public Map<String, Long> load(Donor donor, JoinWire.Begin begin, Consumer<String> progress) throws Exception {
        ExecutorService fetcher = Executors.newFixedThreadPool(PREFETCH,
                org.activemirroring.logging.LogContext.threads(node, "am-join-fetch-" + node, false));
        donorHeadRecorded = -1;
        try (Connection c = config.connect()) {
            createTables(c);
            dialect.prepareApplySession(c);
            // Each chunk commits with its own progress record: a commit lost in a crash loses
            // both, and the join loads that chunk again. No need to wait for every flush.
            bulk.prepareLoadSession(c);
            c.setAutoCommit(false);
            emptyForRejoin(c);
            recordSession(c, begin);
            createSchemaIfAbsent(c, begin);
            try (DdlPhase ddl = new DdlPhase(c, begin)) {
                int i = 0;
                for (JoinWire.TableInfo t : begin.tables()) {
                    i++;
                    loadTable(c, donor, begin, t, fetcher, progress, "table " + i + "/" + begin.tables().size());
                    ddl.tableLoaded(c, t);
                }
                finishSchema(c, begin, progress, ddl);
            }
            return complete(c, begin);
        } finally {
            fetcher.shutdownNow();
        }
    }

    /**
     * For a rejoin: empties every mirrored table and the bookkeeping of what they held, and turns
     * the state into an ordinary join, in one transaction. Nothing when not rejoining.
     */
    private void emptyForRejoin(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT status FROM mirror.join_state")) {
            if (!rs.next() || !"rejoin".equals(rs.getString(1))) {
                c.rollback();
                return;
            }
        }
        List<String> tables = new ArrayList<>();
        for (MirroredTables.Table t : MirroredTables.of(config, dialect.catalog()).mirrorable(c)) {
            tables.add(dialect.quoteTable(t.qualified())); // held-out tables keep their local rows
        }
        try (Statement s = c.createStatement()) {
            if (!tables.isEmpty()) {
                try {
                    s.execute("TRUNCATE " + String.join(", ", tables));
                } catch (SQLException e) {
                    throw new JoinRefusedException("Cannot empty the mirrored tables to copy them again: " + e.getMessage()
                            + ". A table outside mirroring probably references one of them with a foreign key; include it"
                            + " in mirroring or empty the mirrored tables by hand, then restart.");
                }
            }
            s.execute("DELETE FROM mirror.row_version");
            s.execute("DELETE FROM mirror.applied");
            s.execute("DELETE FROM mirror.join_table");
            s.execute("DELETE FROM mirror.join_session");
            s.execute("DELETE FROM mirror.join_ddl");
            s.execute("DELETE FROM mirror.join_validate");
            s.execute("UPDATE mirror.join_state SET status = 'loading'");
        }
        c.commit();
        LOG.warn("Emptied {} mirrored tables to copy them again from a peer", tables.size());
    }

    private void recordSession(Connection c, JoinWire.Begin begin) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO mirror.join_session (session, donor, vector, began_at) "
                + "VALUES (?, ?, ?::jsonb, now()) ON CONFLICT (session) DO NOTHING")) {
            ps.setString(1, begin.session());
            ps.setString(2, begin.donor());
            ps.setString(3, toJson(begin.vector()));
            ps.executeUpdate();
        }
        c.commit();
    }

    private void createSchemaIfAbsent(Connection c, JoinWire.Begin begin) throws SQLException {
        Set<String> present = new HashSet<>();
        for (MirroredTables.Table t : MirroredTables.of(config, dialect.catalog()).list(c)) {
            present.add(t.qualified());
        }
        List<String> missing = new ArrayList<>();
        for (JoinWire.TableInfo t : begin.tables()) {
            if (!present.contains(t.name())) {
                missing.add(t.name());
            }
        }
        if (missing.isEmpty()) {
            warnMissingLocal(c, begin);
            return;
        }
        if (missing.size() < begin.tables().size()) {
            throw new JoinRefusedException("This database has some of the mirrored tables but not " + missing
                    + " (donor " + begin.donor() + " has them). Create them the way the site's migrations do, or drop"
                    + " every mirrored table so the join copies the whole schema.");
        }
        if (begin.ddlProblem() != null) {
            throw new JoinRefusedException("This database has none of the mirrored tables and " + begin.donor()
                    + " cannot describe them for copying: " + begin.ddlProblem());
        }
        schema.run(c, begin.beforeData());
        pauseMaintenance(c, begin);
        try (Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE mirror.join_state SET schema_created = true");
        }
        c.commit();
        LOG.info("Created {} mirrored tables{} from {}'s schema", begin.tables().size(),
                begin.localTables().isEmpty() ? "" : " and " + begin.localTables().size() + " kept local (no rows)",
                begin.donor());
        if (begin.localProblem() != null) {
            LOG.warn("The tables mirror.tables.exclude keeps local were not created ({}); create them with"
                    + " the site's migrations before the site writes to them", begin.localProblem());
        }
    }

    /** Tables kept local that this database lacks while it has the mirrored ones: the site must create them. */
    private void warnMissingLocal(Connection c, JoinWire.Begin begin) throws SQLException {
        if (begin.localTables().isEmpty()) {
            return;
        }
        List<String> absent = new ArrayList<>();
        for (String t : begin.localTables()) {
            if (!schema.exists(c, t)) {
                absent.add(t);
            }
        }
        c.rollback();
        if (!absent.isEmpty()) {
            LOG.warn("This database has the mirrored tables but not {}, which mirror.tables.exclude keeps local"
                    + " (the join copies no rows of them); the site's migrations must create them here", absent);
        }
    }

    private void loadTable(Connection c, Donor donor, JoinWire.Begin begin, JoinWire.TableInfo t, ExecutorService fetcher,
                           Consumer<String> progress, String where) throws Exception {
        String session = begin.session();
        String tbl = t.name();
        long nextPage = 0;
        boolean rowsDone = false;
        String after = null;
        boolean fresh = true;
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT session, next_page, rows_done, versions_after, done FROM mirror.join_table WHERE tbl = ?")) {
            ps.setString(1, tbl);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    fresh = false;
                    if (rs.getBoolean(5)) {
                        return;
                    }
                    if (session.equals(rs.getString(1))) {
                        nextPage = rs.getLong(2);
                        rowsDone = rs.getBoolean(3);
                        after = rs.getString(4);
                    } else {
                        LOG.info("{} was half loaded from another snapshot; loading it again from {}'s",
                                tbl, begin.donor());
                        emptyTable(c, tbl);
                    }
                }
            }
        }
        boolean binary = binaryRows(c, begin, t);
        c.rollback();
        if (fresh) {
            // What the site wrote into this table before the join (schema and seed rows at its
            // start) moves aside in the transaction that starts the load: the table then holds
            // the donor's rows only, and JoinStash puts the site's rows back once capture runs.
            long stashed = stash.stashAll(c, tbl);
            if (stashed > 0) {
                LOG.info("Moved {} row(s) its site wrote into {} before the join aside; they are put back"
                        + " where they do not contradict the network once the mirror runs", stashed, tbl);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO mirror.join_table (tbl, session, next_page, rows_done, "
                + "versions_after, done) VALUES (?, ?, ?, ?, ?, false) ON CONFLICT (tbl) DO UPDATE SET session = "
                + "EXCLUDED.session, next_page = EXCLUDED.next_page, rows_done = EXCLUDED.rows_done, "
                + "versions_after = EXCLUDED.versions_after, done = false")) {
            ps.setString(1, tbl);
            ps.setString(2, session);
            ps.setLong(3, nextPage);
            ps.setBoolean(4, rowsDone);
            ps.setString(5, after);
            ps.executeUpdate();
        }
        c.commit();

        long pages = t.pages();
        if (!rowsDone && pages == 0) {
            recordRows(c, tbl, 0, true);
            c.commit();
            rowsDone = true;
        }
        java.util.ArrayDeque<java.util.concurrent.Future<Reply>> ahead = new java.util.ArrayDeque<>();
        long requested = nextPage;
        long end = pages < 0 ? 1 : pages;
        while (!rowsDone) {
            long from = nextPage;
            long to = Math.min(end, from + chunkPages);
            boolean last = to >= end;
            // This chunk and the next ones travel while the one before loads.
            while (ahead.size() <= PREFETCH && requested < end) {
                long f = requested;
                long t2 = Math.min(end, f + chunkPages);
                ahead.add(fetcher.submit(() -> donor.call(JoinWire.Request.rows(session, tbl, f, t2, binary))));
                requested = t2;
            }
            JoinWire.Chunk chunk = JoinWire.parseChunk(await(ahead.poll()));
            try {
                if (chunk.length() > 0) {
                    bulk.rowsIn(c, tbl, t.columns(), chunk.header().binary(), chunk.frame(), chunk.offset(),
                            chunk.length());
                }
            } catch (SQLException e) {
                if (!bulk.isDuplicateKey(e)) {
                    throw e;
                }
                // The site wrote a row under a key of this chunk while the table loaded (a job of
                // its own; its pages answer 503 until the join is done). Everything the table
                // holds moves aside and the table loads again from its first page: the donor's
                // rows come back as they were, the site's are put back afterwards like the rest.
                c.rollback();
                for (java.util.concurrent.Future<Reply> f : ahead) {
                    f.cancel(true);
                }
                ahead.clear();
                long moved = stash.stashAll(c, tbl);
                recordRows(c, tbl, 0, false);
                c.commit();
                LOG.warn("The site wrote into {} while the join loaded it ({}); moved its {} row(s) aside and"
                        + " loads it again", tbl, e.getMessage(), moved);
                nextPage = 0;
                requested = 0;
                continue;
            }
            recordRows(c, tbl, to, last);
            commitChunk(c, begin, chunk, progress, where + " " + tbl + ", pages " + from + ".." + to + " of "
                    + (pages < 0 ? "all" : Long.toString(pages)) + (chunk.header().binary() ? " (binary)" : ""));
            nextPage = to;
            rowsDone = last;
        }
        while (true) {
            JoinWire.Chunk chunk = JoinWire.parseChunk(donor.call(JoinWire.Request.versions(session, tbl, after, VERSION_CHUNK)));
            boolean last = chunk.header().rows() < VERSION_CHUNK;
            if (chunk.header().rows() > 0) {
                if (chunk.length() > 0) {
                    bulk.versionsIn(c, chunk.frame(), chunk.offset(), chunk.length());
                }
                after = chunk.header().last();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE mirror.join_table SET versions_after = ?, done = ? WHERE tbl = ?")) {
                ps.setString(1, after);
                ps.setBoolean(2, last);
                ps.setString(3, tbl);
                ps.executeUpdate();
            }
            commitChunk(c, begin, chunk, progress, where + " " + tbl + ", row versions");
            if (last) {
                return;
            }
        }
    }

    /**
     * Whether to ask for {@code t}'s rows in the binary bulk format: the donor can give them so, its
     * server writes the binary format this one reads, and this table's columns have exactly the
     * donor's types. Binary input skips parsing every value from text, the larger part of a load's cost
     * (a third to a half less server time for the same rows); text stays the way for everything
     * else, as it converts between types and versions.
     */
    private boolean binaryRows(Connection c, JoinWire.Begin begin, JoinWire.TableInfo t) throws SQLException {
        if (!t.binary() || t.types() == null || !bulk.sameBinaryFormat(begin.serverVersion(), bulk.serverVersion(c))) {
            return false;
        }
        try {
            return bulk.columnTypes(c, t.name(), t.columns()).names().equals(t.types());
        } catch (IllegalStateException e) {
            return false; // a column the donor copies is missing here: the text load reports it
        }
    }

    private static void recordRows(Connection c, String tbl, long nextPage, boolean rowsDone) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE mirror.join_table SET next_page = ?, rows_done = ? WHERE tbl = ?")) {
            ps.setLong(1, nextPage);
            ps.setBoolean(2, rowsDone);
            ps.setString(3, tbl);
            ps.executeUpdate();
        }
    }

    private void commitChunk(Connection c, JoinWire.Begin begin, JoinWire.Chunk chunk, Consumer<String> progress,
                             String where) throws SQLException, InterruptedException {
        if (chunk.header().donorHead() > donorHeadRecorded) {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE mirror.join_session SET donor_head = greatest(donor_head, ?) WHERE session = ?")) {
                ps.setLong(1, chunk.header().donorHead());
                ps.setString(2, begin.session());
                ps.executeUpdate();
            }
            donorHeadRecorded = chunk.header().donorHead();
        }
        c.commit();
        chunksLoaded++;
        bytesLoaded += chunk.length();
        progress.accept("joining from " + begin.donor() + ": " + where + ", " + (bytesLoaded >> 20) + " MiB loaded");
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedException("join stopped: mirror stopping (loaded chunks stay)");
        }
    }

    /** Empties a table loaded partly from another snapshot, with its row versions. */
    private void emptyTable(Connection c, String tbl) throws SQLException {
        try (Statement s = c.createStatement()) {
            // DELETE, not TRUNCATE: foreign keys from other tables would refuse TRUNCATE, and with
            // session_replication_role = replica DELETE does not check them.
            s.executeUpdate("DELETE FROM " + dialect.quoteTable(tbl));
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM mirror.row_version WHERE tbl = ?")) {
            ps.setString(1, tbl);
            ps.executeUpdate();
        }
        c.commit();
    }

    /** Connections that build constraints and indexes at once after the load, like pg_restore -j. */
    static final int DDL_CONNECTIONS = 2;

    /**
     * Constraints, indexes and foreign keys, when this join created the tables. Index builds and
     * key constraints run on {@link #DDL_CONNECTIONS} connections at once; a foreign key, added
     * {@code NOT VALID}, waits for everything before it. A table's own keys and indexes may already
     * be running ({@link DdlPhase#tableLoaded}). Each statement commits together with its number in
     * {@code mirror.join_ddl}, so a resumed join runs each exactly once. Foreign key validations
     * are recorded in {@code mirror.join_validate} with the end of this phase and run once the
     * mirror is ready ({@link #validateNext}).
     */
    private void finishSchema(Connection c, JoinWire.Begin begin, Consumer<String> progress, DdlPhase ddl)
            throws Exception {
        if (!ddl.active) {
            return;
        }
        List<String> statements = begin.afterData();
        Map<Integer, String> validations = new LinkedHashMap<>();
        for (int i = 0; i < statements.size(); i++) {
            if (ddl.finished.contains(i) || ddl.started.contains(i)) {
                continue;
            }
            String sql = statements.get(i);
            if (schema.isValidation(sql)) {
                validations.put(i, sql);
                continue;
            }
            if (!schema.runsBeside(sql)) {
                ddl.awaitAll(); // a barrier: it may need what the ones before it build
                ddl.start(List.of(i));
                ddl.awaitAll();
            } else {
                ddl.start(List.of(i));
            }
            progress.accept("joining from " + begin.donor() + ": constraints and indexes, " + (i + 1) + "/"
                    + statements.size());
        }
        ddl.awaitAll();
        resumeMaintenance(c);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO mirror.join_validate (idx, stmt) VALUES (?, ?)"
                + " ON CONFLICT (idx) DO NOTHING")) {
            for (Map.Entry<Integer, String> v : validations.entrySet()) {
                ps.setInt(1, v.getKey());
                ps.setString(2, v.getValue());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        try (Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE mirror.join_state SET after_done = true");
        }
        c.commit();
    }

    /**
     * Validates one foreign key a join left {@code NOT VALID} for after the mirror is ready, and
     * forgets it in the same transaction. The join adds every foreign key before it completes, so
     * each is enforced on every new write from the start; validating only checks the copied rows
     * against each other, which takes a scan of the table and holds no lock that writers wait
     * for ({@code SHARE UPDATE EXCLUSIVE}). A violation leaves the constraint {@code NOT VALID}
     * and is logged, as during the join; a constraint or table dropped since is forgotten; any
     * other failure (the database went away) leaves the record for the next try.
     *
     * @param running told the statement while it runs, so a stopping mirror can cancel it
     * @return false when there was nothing left to validate
     */
    public boolean validateNext(Consumer<Statement> running) throws SQLException {
        try (Connection c = config.connect()) {
            schema.keepSchemaChangesLocal(c); // validating the copied rows is this mirror's own affair
            c.setAutoCommit(false);
            int idx;
            String sql;
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT idx, stmt FROM mirror.join_validate ORDER BY idx LIMIT 1"
                         + " FOR UPDATE SKIP LOCKED")) {
                if (!rs.next()) {
                    c.rollback();
                    return false;
                }
                idx = rs.getInt(1);
                sql = rs.getString(2);
            }
            try (Statement s = c.createStatement()) {
                s.execute("SAVEPOINT validate");
                running.accept(s);
                try {
                    long t0 = System.nanoTime();
                    s.execute(sql);
                    LOG.info("{} ({} ms)", sql, (System.nanoTime() - t0) / 1_000_000);
                } catch (SQLException e) {
                    SchemaCopy.ValidationFailure failure = schema.validationFailure(e);
                    if (failure == SchemaCopy.ValidationFailure.GONE) {
                        // Someone dropped the constraint or its table since: nothing left to check.
                        s.execute("ROLLBACK TO SAVEPOINT validate");
                        LOG.info("{} has nothing to validate any more ({})", sql, e.getMessage());
                    } else if (failure == SchemaCopy.ValidationFailure.VIOLATED) {
                        s.execute("ROLLBACK TO SAVEPOINT validate");
                        LOG.warn("{} failed ({}); the constraint stays NOT VALID until validated by hand",
                                sql, e.getMessage());
                    } else {
                        throw e;
                    }
                } finally {
                    running.accept(null);
                }
                s.executeUpdate("DELETE FROM mirror.join_validate WHERE idx = " + idx);
            }
            c.commit();
            return true;
        }
    }

    /** Foreign keys a join left to validate after the mirror is ready ({@link #validateNext}). */
    public int validationsLeft() throws SQLException {
        try (Connection c = config.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM mirror.join_validate")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /**
     * The statements that follow the rows, on {@link #DDL_CONNECTIONS} connections of their own.
     * Inactive (nothing to run) unless this join created the schema and has not finished it.
     */
    private final class DdlPhase implements AutoCloseable {
        final boolean active;
        final Set<Integer> finished = new HashSet<>();
        final Set<Integer> started = new HashSet<>();
        private final List<String> statements;
        private final List<java.util.concurrent.Future<?>> running = new ArrayList<>();
        private final java.util.concurrent.BlockingQueue<Connection> pool =
                new java.util.concurrent.ArrayBlockingQueue<>(DDL_CONNECTIONS);
        private ExecutorService workers;

        DdlPhase(Connection c, JoinWire.Begin begin) throws SQLException {
            this.statements = begin.afterData();
            boolean created;
            boolean done;
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT schema_created, after_done FROM mirror.join_state")) {
                if (!rs.next()) {
                    throw new IllegalStateException("mirror.join_state has no row; the join was not started with markLoading");
                }
                created = rs.getBoolean(1);
                done = rs.getBoolean(2);
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT idx FROM mirror.join_ddl")) {
                while (rs.next()) {
                    finished.add(rs.getInt(1));
                }
            }
            c.rollback();
            this.active = created && !done;
        }

        /**
         * Starts the keys and indexes of {@code t}, whose rows are all loaded, while the next table
         * loads: on 2 cores the load leaves gaps (waits for the donor, commits) they fill. A
         * statement is matched to its table by the name the donor's script uses for it
         * ({@link SchemaCopy#scriptName}); one that does not match waits for {@link #finishSchema}.
         */
        void tableLoaded(Connection c, JoinWire.TableInfo t) throws Exception {
            if (!active) {
                return;
            }
            String name = schema.scriptName(c, t.name());
            c.rollback();
            List<Integer> own = new ArrayList<>();
            for (int i = 0; i < statements.size(); i++) {
                if (!finished.contains(i) && !started.contains(i) && schema.buildsFromItsTable(statements.get(i), name)) {
                    own.add(i);
                }
            }
            // One after the other on one connection: a key takes its table exclusively, so an index
            // of the same table beside it would only wait, holding the other connection.
            if (!own.isEmpty()) {
                start(own);
            }
        }

        /** Runs the statements {@code idxs}, in that order, on one connection beside whatever runs. */
        void start(List<Integer> idxs) throws SQLException {
            if (workers == null) {
                open();
            }
            started.addAll(idxs);
            running.add(workers.submit(() -> {
                for (int i : idxs) {
                    runDdl(pool, i, statements.get(i));
                }
                return null;
            }));
        }

        void awaitAll() throws Exception {
            JoinSink.awaitAll(running);
        }

        private void open() throws SQLException {
            workers = Executors.newFixedThreadPool(DDL_CONNECTIONS,
                    org.activemirroring.logging.LogContext.threads(node, "am-join-ddl-" + node, false));
            for (int i = 0; i < DDL_CONNECTIONS; i++) {
                Connection w = config.connect();
                schema.prepareBuildSession(w);
                w.setAutoCommit(false);
                pool.add(w);
            }
        }

        @Override
        public void close() {
            if (workers != null) {
                workers.shutdownNow();
            }
            for (Connection w : pool) {
                try {
                    w.close();
                } catch (SQLException e) {
                    LOG.debug("closing a DDL connection: {}", e.toString());
                }
            }
        }
    }

    /**
     * Keeps background maintenance (PostgreSQL: autovacuum) off the tables this join created until
     * their keys, indexes and foreign keys are built, recording which it paused; see
     * {@link SchemaCopy#pauseMaintenance}.
     */
    private void pauseMaintenance(Connection c, JoinWire.Begin begin) throws SQLException {
        try (PreparedStatement record = c.prepareStatement("INSERT INTO mirror.join_autovacuum_off (tbl) VALUES (?)"
                + " ON CONFLICT DO NOTHING")) {
            for (JoinWire.TableInfo t : begin.tables()) {
                if (schema.pauseMaintenance(c, t.name())) {
                    record.setString(1, t.name());
                    record.executeUpdate();
                }
            }
        }
    }

    /** Gives the tables {@link #pauseMaintenance} paused back; in the caller's transaction. */
    private void resumeMaintenance(Connection c) throws SQLException {
        List<String> paused = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT tbl FROM mirror.join_autovacuum_off")) {
            while (rs.next()) {
                paused.add(rs.getString(1));
            }
        }
        for (String t : paused) {
            schema.resumeMaintenance(c, t);
        }
        try (Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM mirror.join_autovacuum_off");
        }
    }

    private static void awaitAll(List<java.util.concurrent.Future<?>> running) throws Exception {
        for (java.util.concurrent.Future<?> f : running) {
            await(f);
        }
        running.clear();
    }

    /** The future's result; its failure rethrown as it was thrown. */
    private static <T> T await(java.util.concurrent.Future<T> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw e;
        }
    }

    private void runDdl(java.util.concurrent.BlockingQueue<Connection> pool, int idx, String sql) throws Exception {
        Connection w = pool.take();
        try (Statement s = w.createStatement()) {
            try {
                schema.run(w, List.of(sql));
            } catch (SQLException e) {
                w.rollback();
                throw e;
            }
            s.executeUpdate("INSERT INTO mirror.join_ddl (idx) VALUES (" + idx + ")");
            w.commit();
        } finally {
            pool.add(w);
        }
    }

    private Map<String, Long> complete(Connection c, JoinWire.Begin begin) throws SQLException {
        Map<String, Map<String, Long>> vectors = new HashMap<>();
        Map<String, String> donors = new HashMap<>();
        Map<String, Long> donorHeads = new HashMap<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT session, donor, vector::text, donor_head FROM mirror.join_session")) {
            while (rs.next()) {
                vectors.put(rs.getString(1), fromJson(rs.getString(3)));
                donors.put(rs.getString(1), rs.getString(2));
                donorHeads.put(rs.getString(1), rs.getLong(4));
            }
        }
        Set<String> used = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT session FROM mirror.join_table WHERE tbl = ?")) {
            for (JoinWire.TableInfo t : begin.tables()) {
                ps.setString(1, t.name());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        used.add(rs.getString(1));
                    }
                }
            }
        }
        used.add(begin.session()); // also when there are no tables
        Set<String> origins = new HashSet<>();
        for (String s : used) {
            origins.addAll(vectors.get(s).keySet());
        }
        Map<String, Long> start = new LinkedHashMap<>();
        Map<String, Long> horizon = new LinkedHashMap<>();
        for (String o : origins) {
            long min = Long.MAX_VALUE;
            long max = 0;
            for (String s : used) {
                long v = vectors.get(s).getOrDefault(o, 0L);
                min = Math.min(min, v);
                max = Math.max(max, o.equals(donors.get(s)) ? Math.max(v, donorHeads.get(s)) : v);
            }
            if (!o.equals(node)) {
                start.put(o, min);
                horizon.put(o, max);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO mirror.applied (origin, applied_seq, apply_count, applied_at) "
                + "VALUES (?, ?, ?, now()) ON CONFLICT (origin) DO UPDATE SET applied_seq = EXCLUDED.applied_seq, "
                + "apply_count = EXCLUDED.apply_count")) {
            for (Map.Entry<String, Long> e : start.entrySet()) {
                ps.setString(1, e.getKey());
                ps.setLong(2, e.getValue());
                ps.setLong(3, e.getValue()); // the snapshot holds their effect: counted as applied once
                ps.addBatch();
            }
            ps.executeBatch();
        }
        Set<String> usedDonors = new java.util.TreeSet<>();
        for (String s : used) {
            usedDonors.add(donors.get(s));
        }
        try (PreparedStatement ps = c.prepareStatement("UPDATE mirror.join_state SET status = 'complete', completed_at = now(), "
                + "horizon = ?::jsonb, how = CASE WHEN how LIKE 'rejoin%' THEN how || '; copied again from ' || ?"
                + " ELSE 'joined the network: copied from ' || ? END")) {
            ps.setString(1, toJson(horizon));
            ps.setString(2, String.join(", ", usedDonors));
            ps.setString(3, String.join(", ", usedDonors));
            ps.executeUpdate();
        }
        try (Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM mirror.join_table");
            s.executeUpdate("DELETE FROM mirror.join_ddl");
        }
        c.commit();
        LOG.info("Join complete from {} snapshot(s); replaying every origin after {}", used.size(), start);
        return start;
    }

    /**
     * Per origin, the highest seq a snapshot of this join may already hold: replayed changes up to
     * there can be older than what a table holds without being concurrent (see
     * {@link ChangeSetApplier}). Empty when the mirror did not join.
     */
    public Map<String, Long> replayHorizon() throws SQLException {
        try (Connection c = config.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT horizon::text FROM mirror.join_state WHERE horizon IS NOT NULL")) {
            return rs.next() ? fromJson(rs.getString(1)) : Map.of();
        }
    }

    private static String toJson(Map<String, Long> v) {
        try {
            return JSON.writeValueAsString(v);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Long> fromJson(String s) {
        try {
            return JSON.readValue(s, VECTOR);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("unreadable vector in the join bookkeeping: " + s, e);
        }
    }
}
