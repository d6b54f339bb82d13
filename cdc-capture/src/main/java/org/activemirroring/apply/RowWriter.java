package org.activemirroring.apply;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.RowChange;
import org.activemirroring.change.RowVersion;
import org.activemirroring.db.DbSession;
import org.activemirroring.db.Dialect;
import org.activemirroring.db.RowJson;
import org.activemirroring.db.RowStatement;
import org.activemirroring.db.StoredVersion;
import org.activemirroring.db.TableShape;
import org.activemirroring.db.VersionStore;
import org.activemirroring.versions.Conflict;

/**
 * Writes the winning row changes of a ChangeSet into the site's tables: in JDBC batches, or, in
 * the careful pass after a unique-key collision, each row alone in a savepoint so that a collision
 * with another row can be resolved the same way on every mirror (the row whose identity sorts
 * first is kept, the other goes to the conflict log).
 */
public final class RowWriter {
    /** Rows per JDBC batch: large enough to amortise round trips, small enough to bound driver memory. */
    static final int MAX_BATCH = 1000;

    /** {@link #applyRows} result for a row that lost a unique-key conflict and was not written. */
    static final long LOST = -1;


    private final Dialect dialect;
    private final VersionStore versions;
    private final DbSession session;
    private final Map<String, List<String>> uniqueColumns = new HashMap<>();
    private final String nodeId;
    private final BooleanSupplier tracksCommitTimestamps;

    /**
     * @param nodeId                 this mirror's id
     * @param tracksCommitTimestamps whether the server tells unstamped local writes
     *                               ({@link VersionStore#rowState}), read at each use
     */
    RowWriter(Dialect dialect, VersionStore versions, DbSession session, String nodeId,
              BooleanSupplier tracksCommitTimestamps) {
        this.dialect = dialect;
        this.versions = versions;
        this.session = session;
        this.nodeId = nodeId;
        this.tracksCommitTimestamps = tracksCommitTimestamps;
    }

    /** The schema may have changed: unique constraints are read again. */
    void forget() {
        uniqueColumns.clear();
    }

    /**
     * The xid that wrote the rows of the current savepoint, read from one written row's
     * {@code xmin}; 0 (the top-level transaction) if none can tell. The version store records it
     * so that capture can tell whether a row still holds what the applier wrote: rows written
     * inside a savepoint carry the savepoint's own xid, not the top-level one.
     *
     * <p>Only rows that certainly got a new tuple can tell: not deletes, and not upserts carrying
     * key columns only (those are {@code DO NOTHING} and may leave an older row untouched).
     */
    long savepointXid(Connection c, List<RowChange> rows) throws SQLException {
        for (int i = rows.size() - 1; i >= 0; i--) {
            RowChange row = rows.get(i);
            if (row.op() != RowChange.Op.DELETE && !row.key().keySet().containsAll(row.after().keySet())) {
                VersionStore.CurrentRow r = versions.currentRow(c, session.shape(c, row.table()), row.key());
                if (r != null) {
                    return r.xmin();
                }
            }
        }
        return 0;
    }

    /**
     * Executes the rows in order, in batches. A unique-key collision aborts the transaction; the
     * ChangeSet is then applied again in careful mode, where each row runs alone inside a
     * savepoint so that a colliding one can be resolved ({@link #resolveUnique}). Savepoints cost
     * round trips, so only that rare second pass pays for them.
     *
     * @param careful each row alone in a savepoint, unique-key collisions resolved (else batched)
     * @return per row, the xid that wrote it ({@link #savepointXid}), or {@link #LOST} if it lost a
     *         unique-key conflict and was not written
     */
    long[] applyRows(Connection c, ChangeSet cs, List<RowChange> rows, List<Conflict> lost, boolean careful)
            throws SQLException {
        long[] done = new long[rows.size()];
        if (!careful) {
            executeBatched(c, rows);
            // No savepoint: the rows carry the top-level transaction's xid (0 stands for it).
            java.util.Arrays.fill(done, 0L);
            return done;
        }
        for (int i = 0; i < rows.size(); i++) {
            done[i] = applyOne(c, cs, rows.get(i), lost);
        }
        return done;
    }

    /** One row in a savepoint of its own; returns the xid that wrote it, or {@link #LOST}. */
    private long applyOne(Connection c, ChangeSet cs, RowChange row, List<Conflict> lost) throws SQLException {
        // Each attempt may clear one colliding row; a row can collide on several unique keys.
        for (int attempt = 0; attempt < 8; attempt++) {
            Savepoint sp = c.setSavepoint();
            try {
                RowStatement st = dialect.rowStatement(session.shape(c, row.table()), row);
                try (PreparedStatement ps = c.prepareStatement(st.sql())) {
                    st.bind(ps);
                    ps.executeUpdate();
                }
                long xid = savepointXid(c, List.of(row));
                c.releaseSavepoint(sp);
                return xid;
            } catch (SQLException e) {
                if (!isUniqueViolation(e)) {
                    throw e;
                }
                c.rollback(sp);
                if (!resolveUnique(c, cs, row, e, lost)) {
                    return LOST;
                }
            }
        }
        throw new SQLException("Row " + row.key() + " of " + row.table() + " still collides on unique keys after"
                + " clearing 8 rows; giving up on this ChangeSet", "23505");
    }

    /**
     * Two different rows claim the same unique value: the one whose identity sorts first is kept,
     * on every mirror alike, whichever arrived first. The other goes to the conflict log.
     *
     * @return true if the existing row was removed and the incoming one should be tried again
     */
    private boolean resolveUnique(Connection c, ChangeSet cs, RowChange row, SQLException e, List<Conflict> lost)
            throws SQLException {
        TableShape t = session.shape(c, row.table());
        String constraint = versions.constraintOf(e);
        List<String> cols = constraint == null ? List.of() : uniqueColumns(c, t, constraint);
        Map<String, String> probe = new LinkedHashMap<>();
        for (String col : cols) {
            if (row.after() == null || !row.after().containsKey(col)) {
                throw e; // the change does not carry the colliding value: nothing to decide on
            }
            probe.put(col, row.after().get(col));
        }
        if (probe.isEmpty()) {
            throw e;
        }
        VersionStore.FoundRow existing = versions.findRow(c, t, probe);
        if (existing == null) {
            return true; // gone meanwhile: try again
        }
        String incomingKey = RowJson.keyText(row.key());
        String existingKey = RowJson.keyText(existing.identity());
        if (incomingKey.equals(existingKey)) {
            throw e;
        }
        RowVersion existingVersion = versions.read(c, row.table(), List.of(existingKey)).getOrDefault(existingKey,
                new StoredVersion(RowVersion.NONE, false, null, 0, 0, 0)).version();
        Instant now = Instant.now();
        String incomingJson = RowJson.imageJson(row.after());
        if (incomingKey.compareTo(existingKey) < 0) {
            if (existingVersion.equals(RowVersion.NONE) && tracksCommitTimestamps.getAsBoolean()) {
                // No version yet: a write of this mirror's site that capture has not stamped (it is
                // published later and loses on every other mirror), or a row from before mirroring.
                // The first is this mirror's own lost write: its log must name it as such, since only
                // here is the row removed with its full image. Its clock is not taken yet: 0.
                VersionStore.RowState state = versions.rowState(c, t, existing.identity(), nodeId);
                if (state != null && state.uncapturedLocal()) {
                    existingVersion = new RowVersion(0, nodeId);
                }
            }
            lost.add(new Conflict(0, now, Conflict.Kind.UNIQUE, row.table(), existing.identity(), existingVersion, "c",
                    existing.json(), cs.version(), incomingJson, 0));
            RowChange delete = new RowChange(row.table(), RowChange.Op.DELETE, existing.identity(), null, null, null);
            RowStatement st = dialect.rowStatement(t, delete);
            try (PreparedStatement ps = c.prepareStatement(st.sql())) {
                st.bind(ps);
                ps.executeUpdate();
            }
            return true;
        }
        lost.add(new Conflict(0, now, Conflict.Kind.UNIQUE, row.table(), row.key(), cs.version(), row.op().code(),
                incomingJson, existingVersion, existing.json(), cs.seq()));
        return false;
    }

    private List<String> uniqueColumns(Connection c, TableShape t, String constraint) throws SQLException {
        String k = t.qualifiedName() + '\0' + constraint;
        List<String> cols = uniqueColumns.get(k);
        if (cols == null) {
            cols = versions.indexColumns(c, t, constraint);
            uniqueColumns.put(k, cols);
        }
        return cols;
    }

    public static boolean isUniqueViolation(SQLException e) {
        for (SQLException s = e; s != null; s = s.getNextException()) {
            if ("23505".equals(s.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Executes the rows in order; consecutive rows with the same statement (same table, operation
     * and columns: the common case of a bulk insert or update) go to the database as one JDBC
     * batch, which saves a network round trip per row.
     */
    void executeBatched(Connection c, List<RowChange> rows) throws SQLException {
        PreparedStatement batch = null;
        String batchSql = null;
        // Keys in the current batch: the driver sends a batch of upserts as one multi-row INSERT,
        // and PostgreSQL refuses ON CONFLICT DO UPDATE touching the same row twice in one
        // statement; a repeated key (insert, then update in one transaction) starts a new batch.
        Set<Map<String, String>> batchKeys = new HashSet<>();
        try {
            for (RowChange row : rows) {
                RowStatement st = dialect.rowStatement(session.shape(c, row.table()), row);
                if (!st.sql().equals(batchSql) || batchKeys.size() >= MAX_BATCH || batchKeys.contains(row.key())) {
                    if (batch != null) {
                        batch.executeBatch();
                        batch.close();
                    }
                    batch = c.prepareStatement(st.sql());
                    batchSql = st.sql();
                    batchKeys.clear();
                }
                st.bind(batch);
                batch.addBatch();
                batchKeys.add(row.key());
            }
            if (batch != null) {
                batch.executeBatch();
            }
        } finally {
            if (batch != null) {
                batch.close();
            }
        }
    }

}
