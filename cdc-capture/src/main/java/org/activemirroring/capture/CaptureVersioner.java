package org.activemirroring.capture;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.HybridClock;
import org.activemirroring.change.RowChange;
import org.activemirroring.change.RowVersion;
import org.activemirroring.db.Dialect;
import org.activemirroring.db.RowJson;
import org.activemirroring.db.RowStatement;
import org.activemirroring.db.StatementChain;
import org.activemirroring.db.StoredVersion;
import org.activemirroring.db.TableShape;
import org.activemirroring.db.TableTombstones;
import org.activemirroring.db.VersionStore;
import org.activemirroring.versions.Conflict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.activemirroring.db.DbSession;

/**
 * Gives each captured local transaction its version before it is published: a fresh
 * {@link HybridClock} timestamp, the applied vector it depends on, and per row the version it
 * replaced. Stores the new versions in {@code mirror.row_version}.
 *
 * <p>It also repairs the log-capture race. A local write W commits; before capture sees it, the
 * applier applies a peer's change R to the same row (the stored version did not know W yet).
 * Capture then finds a stored version written by the applier AFTER W in the log. W's timestamp,
 * taken now, is newer than R's (the clock has witnessed R), so W wins on every mirror: here the
 * row is set back to W's image (if nothing else wrote it since R), and R goes to the conflict log.
 *
 * <p>A race is not over with W. Other local writes to the row committed before R (W2, ...) were
 * crossed by R too, but once W is stamped the stored version is W's own and no longer shows R. So
 * the versioner keeps, per raced row, a {@link Barrier} at R's log position until capture passes
 * it: a crossed W2 is restored as well if the row still holds the restored image (else the row
 * would keep W's image here while peers apply W2), and the first local write after R gets as its
 * prev the version its writer actually saw: R's if the row was not restored (e.g. a later local
 * write L replaced R before capture came), else the last restored one. Without that, L would claim
 * to succeed W2 and peers would drop W2 without a conflict record. Barriers live in memory: after
 * a restart, a race whose first write was stamped before the stop is resolved as before.
 *
 * <p>A repair checks and restores a row atomically: a row that still looks untouched is read
 * again {@code FOR UPDATE} before it is restored, so a local transaction that holds the row (say
 * it read R with {@code FOR UPDATE} and is about to write) is waited for, and the repair then sees
 * its write and leaves the row alone. Without
 * the lock, the restore would overwrite that write here while peers applied it, and the writer,
 * who saw R, would be sent as succeeding the restored image. A row found absent cannot be locked;
 * its restore is an insert that gives way to a concurrent local insert of the same key.
 *
 * <p>Used by the capture thread only. One database connection, set up as a repair session (its
 * writes are not captured again).
 */
public final class CaptureVersioner implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CaptureVersioner.class);
    private static final int CHUNK = 1000;

    private final CaptureConfig config;
    private final Dialect dialect;
    private final VersionStore versions;
    private final String nodeId;
    private final HybridClock clock;
    private final Supplier<Map<String, Long>> appliedVector;
    /** One connection, set up as a repair session, again after it broke. */
    private final DbSession session;
    /** table + key -> an applied change that crossed local writes not yet captured; see the class doc. */
    private final Map<String, Barrier> barriers = new HashMap<>();
    /** Barrier changes of the stamp in progress, kept only once it commits (null value: barrier ended). */
    private final Map<String, Barrier> pendingBarriers = new HashMap<>();
    /** Whether the current transaction holds the version lock yet (taken with the first read). */
    private boolean locked;
    /** The newest commit time among the ChangeSets being stamped: capture's progress once they commit. */
    private long stampedCommit;
    /**
     * The latest chunk's version writes, not sent yet: sent before the next statement, or with
     * the commit when nothing follows (one round trip less per stamp).
     */
    private StatementChain unsent;
    private volatile long repairs;

    /**
     * @param appliedVector this mirror's applied vector as committed (per other origin the highest
     *                      seq); a local write made now can only have seen what it contains
     */
    public CaptureVersioner(CaptureConfig config, Dialect dialect, String nodeId, HybridClock clock,
                            Supplier<Map<String, Long>> appliedVector) {
        this.config = config;
        this.dialect = dialect;
        this.versions = dialect.versions();
        this.nodeId = nodeId;
        this.clock = clock;
        this.appliedVector = appliedVector;
        this.session = new DbSession("capture versioner", config::connect, dialect, c -> {
            dialect.createBookkeeping(c);
            dialect.prepareRepairSession(c);
        });
    }

    /** Writes restored after losing a log-capture race, since start. */
    public long repairs() {
        return repairs;
    }

    /**
     * Stamps several local ChangeSets, in commit order, in one database transaction.
     *
     * @param rowLsns per ChangeSet, per row the log position of its change
     * @return the ChangeSets to publish, in the same order
     */
    public List<ChangeSet> stamp(List<ChangeSet> changeSets, List<long[]> rowLsns) throws SQLException {
        Connection c = connection();
        try {
            locked = false;
            pendingBarriers.clear();
            // Rows written by local transactions committed after this are not stamped yet: the
            // applier leaves them alone (see ChangeSetApplier). Recorded with the first read.
            stampedCommit = 0;
            for (ChangeSet cs : changeSets) {
                stampedCommit = Math.max(stampedCommit, cs.commitTimeMicros());
            }
            List<ChangeSet> out = new ArrayList<>(changeSets.size());
            for (int i = 0; i < changeSets.size(); i++) {
                out.add(stamp(c, changeSets.get(i), rowLsns.get(i)));
            }
            if (!locked) {
                versions.setCaptureProgress(c, nodeId, stampedCommit);
            }
            if (unsent != null) {
                unsent.commit(); // the last version writes carry the commit
                sendUnsent(c);
            }
            c.commit(); // sends nothing if the chain committed
            for (Map.Entry<String, Barrier> e : pendingBarriers.entrySet()) {
                if (e.getValue() == null) {
                    barriers.remove(e.getKey());
                } else {
                    barriers.put(e.getKey(), e.getValue());
                }
            }
            pendingBarriers.clear();
            return out;
        } catch (SQLException | RuntimeException e) {
            unsent = null;
            try {
                c.rollback();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            pendingBarriers.clear();
            session.forgetShapes();
            versions.truncations().forget(); // a tombstone it recorded may be rolled back
            session.disconnect();
            throw e;
        }
    }

    private record Race(RowChange row, StoredVersion stored) {
    }

    /**
     * An applied change R that crossed local writes before capture saw them.
     *
     * @param lsn             R's log position: local changes before it were crossed by R
     * @param seen            the version a local writer after R found in the row: R's, or the last restored
     * @param restored        whether the row was set back to a local image
     * @param repairXid       the repairing transaction, the row's xmin while nobody wrote it since
     * @param restoredDeleted whether the restored image is a delete (the row is then absent)
     */
    private record Barrier(long lsn, RowVersion seen, boolean restored, long repairXid, boolean restoredDeleted) {
    }

    private Barrier barrier(String id) {
        return pendingBarriers.containsKey(id) ? pendingBarriers.get(id) : barriers.get(id);
    }

    private ChangeSet stamp(Connection c, ChangeSet cs, long[] rowLsns) throws SQLException {
        long now = clock.tick();
        RowVersion mine = new RowVersion(now, nodeId);
        Map<String, Long> deps = new HashMap<>(appliedVector.get());
        deps.remove(nodeId);
        List<RowChange> rows = cs.rows();
        List<RowChange> out = new ArrayList<>(rows.size());
        // Keys raced with an applied change, for the whole transaction (usually empty).
        Map<String, Race> races = new LinkedHashMap<>();
        Map<String, RowChange> crossed = new LinkedHashMap<>(); // restored rows crossed again: newest image
        for (int from = 0; from < rows.size(); ) {
            if (rows.get(from).op() == RowChange.Op.TRUNCATE) {
                truncate(c, rows.get(from).table(), mine, rowLsns[from], races, crossed);
                out.add(rows.get(from));
                from++;
                continue;
            }
            int end = from;
            while (end < rows.size() && end - from < CHUNK && rows.get(end).op() != RowChange.Op.TRUNCATE) {
                end++; // a chunk ends at a truncate: the versions before it are written first
            }
            List<RowChange> chunk = rows.subList(from, end);
            String[] keys = new String[chunk.size()];
            Map<String, List<String>> byTable = new LinkedHashMap<>();
            for (int i = 0; i < chunk.size(); i++) {
                keys[i] = RowJson.keyText(chunk.get(i).key());
                byTable.computeIfAbsent(chunk.get(i).table(), t -> new ArrayList<>()).add(keys[i]);
            }
            sendUnsent(c); // a key repeated here must find the version written before
            Map<String, Map<String, StoredVersion>> stored = new HashMap<>();
            for (Map.Entry<String, List<String>> e : byTable.entrySet()) {
                stored.put(e.getKey(), locked ? versions.read(c, e.getKey(), e.getValue())
                        : versions.lockAndReadRecordingProgress(c, e.getKey(), e.getValue(), nodeId, stampedCommit));
                locked = true;
            }
            Map<String, Map<String, VersionStore.Write>> writes = new LinkedHashMap<>();
            // Per chunk only (a key repeated in a later chunk finds this transaction's own stored
            // version and what it replaced): a 200k-row transaction must not keep a map of all keys.
            Map<String, RowVersion> prevs = new HashMap<>();
            for (int i = 0; i < chunk.size(); i++) {
                RowChange row = chunk.get(i);
                String id = row.table() + '\0' + keys[i];
                RowVersion prev;
                if (races.containsKey(id)) {
                    prev = null;
                    races.put(id, new Race(row, races.get(id).stored())); // repair to the newest image
                } else if (prevs.containsKey(id)) {
                    prev = prevs.get(id);
                    if (crossed.containsKey(id)) {
                        crossed.put(id, row);
                    }
                } else {
                    StoredVersion sv = stored.get(row.table()).get(keys[i]);
                    if (sv == null) {
                        prev = RowVersion.NONE;
                    } else if (sv.version().origin().equals(nodeId)) {
                        // Our own version; if it is this very transaction's (stored, then a crash
                        // before publishing), what it replaced is kept with it.
                        prev = sv.sourceTx() == cs.sourceTxId() ? sv.prev() : sv.version();
                        Barrier b = barrier(id);
                        if (b != null && sv.sourceTx() != cs.sourceTxId()) {
                            if (rowLsns[from + i] < b.lsn()) {
                                // Committed before the applied change R the barrier remembers, so R
                                // crossed it too. Its writer saw our previous write, or an applied
                                // change older than R that the store no longer shows (the store
                                // keeps one version per row): which, nobody knows. Unknown, so
                                // receivers log whatever it replaces: a write may be logged as lost
                                // although it was seen, but none is lost without a record.
                                prev = null;
                                if (b.restored()) {
                                    crossed.put(id, row);
                                }
                            } else {
                                prev = b.seen(); // the first local write after R saw R or the restored image
                                pendingBarriers.put(id, null);
                            }
                        }
                    } else if (sv.writerLsn() > rowLsns[from + i]) {
                        prev = null; // the applier wrote after this change: the writer did not see it
                        races.put(id, new Race(row, sv));
                        pendingBarriers.put(id, new Barrier(sv.writerLsn(), sv.version(), false, 0, false));
                    } else {
                        prev = sv.version();
                        if (barrier(id) != null) {
                            pendingBarriers.put(id, null);
                        }
                    }
                    prevs.put(id, prev);
                }
                out.add(row.withPrev(prev));
                // Read in this transaction under the version lock; the chunk before was written first.
                writes.computeIfAbsent(row.table(), t -> new LinkedHashMap<>()).put(keys[i],
                        new VersionStore.Write(keys[i], mine, row.op() == RowChange.Op.DELETE, prev,
                                cs.sourceTxId(), 0, 0, stored.get(row.table()).get(keys[i]) == null));
            }
            StatementChain chain = new StatementChain();
            for (Map.Entry<String, Map<String, VersionStore.Write>> e : writes.entrySet()) {
                versions.addWrite(chain, c, e.getKey(), e.getValue().values(), null, 0);
            }
            unsent = chain;
            from = end;
        }
        if (!races.isEmpty() || !crossed.isEmpty()) {
            sendUnsent(c);
        }
        if (!races.isEmpty()) {
            repair(c, cs, mine, races.values());
        }
        if (!crossed.isEmpty()) {
            restoreCrossed(c, mine, crossed);
        }
        return cs.stamped(now, deps, out);
    }

    /**
     * A local TRUNCATE in the transaction being stamped with {@code mine}: the table's tombstone
     * is recorded with that version (see {@link TableTombstones#recordLocal}), after the version
     * writes of the rows before it. Races and barriers of the table's rows are over: the rows are
     * gone, on every mirror.
     */
    private void truncate(Connection c, String table, RowVersion mine, long lsn, Map<String, Race> races,
                          Map<String, RowChange> crossed) throws SQLException {
        sendUnsent(c);
        if (!locked) {
            versions.lockAndReadRecordingProgress(c, table, List.of(), nodeId, stampedCommit);
            locked = true;
        }
        versions.truncations().recordLocal(c, session.shape(c, table), mine, lsn, nodeId);
        String prefix = table + '\0';
        races.keySet().removeIf(id -> id.startsWith(prefix));
        crossed.keySet().removeIf(id -> id.startsWith(prefix));
        for (String id : barriers.keySet()) {
            if (id.startsWith(prefix)) {
                pendingBarriers.put(id, null);
            }
        }
        pendingBarriers.entrySet().removeIf(e -> e.getKey().startsWith(prefix) && e.getValue() != null);
    }

    private void sendUnsent(Connection c) throws SQLException {
        if (unsent != null) {
            StatementChain chain = unsent;
            unsent = null;
            chain.execute(c);
        }
    }

    private void repair(Connection c, ChangeSet cs, RowVersion mine, Iterable<Race> races) throws SQLException {
        List<Conflict> lost = new ArrayList<>();
        Instant now = Instant.now();
        for (Race race : races) {
            RowChange row = race.row();
            TableShape t = session.shape(c, row.table());
            Predicate<VersionStore.CurrentRow> untouchedSince =
                    r -> r == null ? race.stored().deleted() : r.xmin() == race.stored().writerXid();
            VersionStore.CurrentRow current = lockIf(c, t, row.key(), untouchedSince);
            if (!untouchedSince.test(current) || !restoreImage(c, t, row, current == null)) {
                // A later local write replaced the applied change already; capture sends it next.
                continue;
            }
            lost.add(new Conflict(0, now, Conflict.Kind.RACE, row.table(), row.key(), race.stored().version(),
                    race.stored().deleted() ? "d" : "u", current == null ? null : current.json(), mine,
                    RowJson.imageJson(row.after()), 0));
            String id = row.table() + '\0' + RowJson.keyText(row.key());
            pendingBarriers.put(id, new Barrier(race.stored().writerLsn(), mine, true, currentXid(c),
                    row.op() == RowChange.Op.DELETE));
            repairs++;
        }
        versions.log(c, lost);
        if (!lost.isEmpty()) {
            LOG.info("Local tx {} crossed {} applied change(s) before capture saw it; the local write is newer and"
                    + " was restored, the applied ones are in mirror.conflict", cs.sourceTxId(), lost.size());
        }
    }

    /**
     * Local writes committed before a restored race's applied change, captured after the first
     * one: the row is set to their image too, if it still holds the restored one. Nothing new
     * goes to the conflict log: the applied change is logged already, and these writes succeed
     * the restored one in sequence.
     */
    private void restoreCrossed(Connection c, RowVersion mine, Map<String, RowChange> crossed) throws SQLException {
        for (Map.Entry<String, RowChange> e : crossed.entrySet()) {
            RowChange row = e.getValue();
            Barrier b = barrier(e.getKey());
            TableShape t = session.shape(c, row.table());
            Predicate<VersionStore.CurrentRow> untouchedSince =
                    r -> r == null ? b.restoredDeleted() : r.xmin() == b.repairXid();
            VersionStore.CurrentRow current = lockIf(c, t, row.key(), untouchedSince);
            if (!untouchedSince.test(current) || !restoreImage(c, t, row, current == null)) {
                // A local write after R replaced the restored image: it saw that one, not this.
                continue;
            }
            pendingBarriers.put(e.getKey(), new Barrier(b.lsn(), mine, true, currentXid(c),
                    row.op() == RowChange.Op.DELETE));
            repairs++;
        }
    }

    /**
     * The row as committed now; if it is as {@code untouched} wants it, read again with a lock
     * ({@code FOR UPDATE}), so that nothing can write it before the repair does. A row already
     * written since stays so, and is not waited for: a long local transaction that holds such a
     * row does not hold up capture.
     */
    private VersionStore.CurrentRow lockIf(Connection c, TableShape t, Map<String, String> key,
            Predicate<VersionStore.CurrentRow> untouched) throws SQLException {
        VersionStore.CurrentRow seen = versions.currentRow(c, t, key, false);
        return untouched.test(seen) ? versions.currentRow(c, t, key, true) : seen;
    }

    /**
     * Sets a row back to a local write's image, after {@link VersionStore#currentRow}
     * locked it (or found none). A present row is locked, so nothing wrote it since the check. An
     * absent one cannot be locked: a local transaction may be inserting it right now, and its
     * insert wins, since its writer did not see the restored image.
     *
     * @param absent whether the check found no row
     * @return whether the row now holds the image: false if a concurrent local insert came first
     */
    private boolean restoreImage(Connection c, TableShape t, RowChange row, boolean absent) throws SQLException {
        boolean delete = row.op() == RowChange.Op.DELETE;
        if (absent && delete) {
            return true;
        }
        // Captured before a rename or drop of a column that ran here since: as the table is now.
        RowChange image = session.fit(c, row);
        RowStatement st = absent ? dialect.insertIfAbsent(t, image) : dialect.rowStatement(t, image);
        try (PreparedStatement ps = c.prepareStatement(st.sql())) {
            st.bind(ps);
            return ps.executeUpdate() > 0 || !absent;
        }
    }

    private long currentXid(Connection c) throws SQLException {
        return versions.currentTransactionId(c);
    }

    /** After publishing: this transaction's tombstones get their seq, so they can be purged once all have it. */
    public void published(ChangeSet stamped, long seq) {
        if (stamped.rows().stream().noneMatch(r -> r.op() == RowChange.Op.DELETE)) {
            return;
        }
        try {
            Connection c = connection();
            versions.setOwnTombstoneSeq(c, nodeId, stamped.sourceTxId(), seq);
            c.commit();
        } catch (SQLException e) {
            // Harmless: such tombstones are only kept longer.
            LOG.debug("Could not record the seq of tx {}'s tombstones: {}", stamped.sourceTxId(), e.toString());
            session.disconnect();
        }
    }

    private Connection connection() throws SQLException {
        return session.get();
    }

    @Override
    public void close() {
        session.disconnect(); // a capture started again later uses this versioner again
    }
}
