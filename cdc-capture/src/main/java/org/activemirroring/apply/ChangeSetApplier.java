package org.activemirroring.apply;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.activemirroring.transport.DeliveryHandler;
import org.activemirroring.transport.Envelope;
import org.activemirroring.transport.EpochMicros;
import org.activemirroring.transport.NotYetDeliverableException;
import org.activemirroring.transport.PayloadReceiver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.change.ChangeSetFormatException;
import org.activemirroring.change.HybridClock;
import org.activemirroring.change.RowChange;
import org.activemirroring.change.RowVersion;
import org.activemirroring.db.DbSession;
import org.activemirroring.db.Dialect;
import org.activemirroring.db.NoPrimaryKeyException;
import org.activemirroring.db.RowJson;
import org.activemirroring.db.StatementChain;
import org.activemirroring.db.StoredVersion;
import org.activemirroring.db.TableShape;
import org.activemirroring.db.TableTombstones;
import org.activemirroring.db.VersionStore;
import org.activemirroring.versions.Conflict;

/**
 * Applies other mirrors' ChangeSets to this mirror's database, each as one local transaction that
 * also advances the applied vector ({@code mirror.applied}), so a change takes effect at most once
 * even when the transport delivers it again.
 *
 * <p>Conflict rule: each row change takes effect only if the ChangeSet's version (clock, origin)
 * is newer than the row's stored version; an older one goes to the conflict log instead, as does
 * a current row that a newer change replaces without having seen it (a concurrent write). Two
 * different rows claiming the same value of another unique key: the one with the smaller
 * identity is kept on every mirror, the other goes to the conflict log. A ChangeSet waits
 * ({@link NotYetDeliverableException}) until this mirror has applied what its origin had applied
 * when it was captured (its dependencies).
 *
 * <p>Uses one JDBC connection, opened on first use and again after it broke. A failure rolls back
 * and is thrown as {@link ApplyException}, which makes the transport offer the same envelope
 * again; nothing is skipped. The transport calls {@link #deliver} from one thread; the methods
 * are synchronized anyway so that {@link #appliedVector()} can be called from another.
 */
public final class ChangeSetApplier implements DeliveryHandler, AutoCloseable {
    private static final int MAX_BATCH = RowWriter.MAX_BATCH;
    /**
     * Up to this many winning rows, a ChangeSet delivered alone is written, versioned, recorded
     * and committed in one round trip ({@link StatementChain}); larger ones are batched.
     */
    private static final int ONE_TRIP_ROWS = 16;

    private volatile ApplyObserver observer = ApplyObserver.NONE;
    /** Told after the applied vector moved (ChangeSets and every other payload); see {@link #onProgress}. */
    private final List<Runnable> progressListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    private static final Logger LOG = LoggerFactory.getLogger(ChangeSetApplier.class);

    private final CaptureConfig config;
    private final Dialect dialect;
    private final VersionStore versions;
    private final String nodeId;
    private final HybridClock clock;
    /** Per origin the highest applied seq, as committed; loaded with the first connection. */
    private final Map<String, Long> appliedNow = new ConcurrentHashMap<>();
    /** Per origin the applied vector it reported with its newest ChangeSet (its dependencies). */
    private final Map<String, Map<String, Long>> reportedVectors = new ConcurrentHashMap<>();
    private final ChangeSetCodec codec = new ChangeSetCodec();
    private final Set<String> loggedIgnoredTypes = ConcurrentHashMap.newKeySet();
    /** Receivers of other payload types (file changes), by type. */
    private final Map<String, PayloadReceiver> receivers = new ConcurrentHashMap<>();
    /** Receivers that took an envelope since their last prepareCommit. */
    private final Set<PayloadReceiver> receiversToPrepare = new java.util.LinkedHashSet<>();

    private final DbSession session;
    private final ConflictPolicy policy;
    private final RowWriter writer;
    private long applied;
    private long duplicates;
    private long ignored;
    private long failures;
    private long conflicts;
    private long waits;
    private boolean vectorLoaded;
    private final java.util.concurrent.atomic.AtomicBoolean warnedCommitTimestamps =
            new java.util.concurrent.atomic.AtomicBoolean();
    /** Whether the current ChangeSet's applied seq was checked yet (with its first read). */
    private boolean locked;
    /** Whether the current apply transaction recorded its applied seq yet. */
    private boolean recorded;
    /**
     * The ChangeSet being applied is the whole transaction and commits right after: its last
     * statements may carry the commit ({@link #ONE_TRIP_ROWS}).
     */
    private boolean commitWithLastWrite;
    /** Whether the database records commit timestamps (checked on connecting) and they are used. */
    private boolean tracksCommitTimestamps;
    private volatile boolean commitTimestampsAllowed = true;
    private volatile boolean grouping;
    /** Grouped deliveries not applied yet: the next flush applies them together and commits. */
    private final List<ChangeSet> pending = new ArrayList<>();
    /** ChangeSets applied in the open transaction, committed by the next flush. */
    private final List<ChangeSet> staged = new ArrayList<>();
    /**
     * Per origin whose {@code mirror.applied} row the open transaction has locked, its applied seq
     * as this transaction sees it (what was committed, then what this transaction applied): the
     * row lock is taken once per transaction, not once per ChangeSet.
     */
    private final Map<String, Long> txApplied = new HashMap<>();
    /** Whether the open transaction holds the version lock. */
    private boolean versionLocked;
    /**
     * Per origin, the applied seq ({@code [0]}) and count ({@code [1]}) of ChangeSets the open
     * transaction applied but has not recorded in {@code mirror.applied} yet; recorded just before
     * the commit, in the same transaction.
     */
    private final Map<String, long[]> unrecorded = new LinkedHashMap<>();
    private final Map<String, Long> stagedApplied = new HashMap<>();
    private long stagedConflicts;
    /** The open transaction holds locks or writes (e.g. of a duplicate) that a flush should end. */
    private boolean openWork;
    /** Second pass after a unique-key collision: row by row, each in a savepoint. */
    private boolean careful;
    private volatile boolean held;
    /** Per origin, the highest seq a join's snapshot may already hold (see {@link #replayHorizon}). */
    private volatile Map<String, Long> replayHorizon = Map.of();
    /** Changes that failed for good or wait for a schema, and those behind them. */
    private final ParkedChanges parked = new ParkedChanges();
    private final ParkedRetries retries = new ParkedRetries(parked, codec);
    /** The change last failing for a missing table or column, tried once more with fresh shapes before parking. */
    private String schemaRecheck;
    /** A parked change is applied again: its seq is recorded already, so no duplicate check. */
    private boolean replayingParked;
    /** The last ChangeSet delivered and its payload: parked whole if it fails for good alone. */
    private ChangeSet lastDelivered;
    private byte[] lastPayload;

    /**
     * Creates an applier; it connects on first use.
     *
     * @param config  database URL and credentials
     * @param dialect the SQL of that database
     */
    public ChangeSetApplier(CaptureConfig config, Dialect dialect) {
        this(config, dialect, "", new HybridClock(Clock.systemUTC()));
    }

    /**
     * @param nodeId this mirror's id (its own entries in a ChangeSet's dependencies are always met)
     * @param clock  this mirror's clock; it witnesses every applied ChangeSet's clock, so this
     *               mirror's later writes are newer than what it has applied
     */
    public ChangeSetApplier(CaptureConfig config, Dialect dialect, String nodeId, HybridClock clock) {
        this.config = config;
        this.dialect = dialect;
        this.versions = dialect.versions();
        this.nodeId = nodeId;
        this.clock = clock;
        // A batch of same-shape upserts goes to the server as multi-row INSERTs: one statement per
        // up to 128 rows for the server to parse and run instead of one per row.
        this.session = new DbSession("applier", () -> config.connect("reWriteBatchedInserts", "true"), dialect,
                this::setUpSession);
        this.policy = new ConflictPolicy(versions, clock, nodeId, session);
        this.writer = new RowWriter(dialect, versions, session, nodeId, () -> tracksCommitTimestamps);
    }

    /** Per origin, the applied vector that origin reported with its newest ChangeSet applied here. */
    public Map<String, Map<String, Long>> reportedVectors() {
        return Map.copyOf(reportedVectors);
    }

    /** The applied vector as committed, from memory (no database round trip); empty before the first connection. */
    public Map<String, Long> appliedNow() {
        return Map.copyOf(appliedNow);
    }

    /**
     * Per origin, the highest seq applied here (origins never applied are absent): where the
     * transport resumes delivery.
     */
    public synchronized Map<String, Long> appliedVector() throws ApplyException {
        try {
            Connection c = connection();
            try {
                Map<String, Long> v = dialect.readAppliedVector(c);
                if (staged.isEmpty() && pending.isEmpty() && !openWork) {
                    c.commit(); // ends the read; an open group is the next flush's to commit
                }
                return v;
            } catch (SQLException e) {
                rollbackQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            throw failure("Cannot read the applied vector from mirror.applied", e);
        }
    }

    @Override
    public synchronized void deliver(Envelope envelope) throws ApplyException, NotYetDeliverableException {
        if (!ChangeSet.PAYLOAD_TYPE.equals(envelope.payloadType())) {
            deliverOther(envelope);
            return;
        }
        ChangeSet cs;
        try {
            cs = codec.decode(envelope);
        } catch (ChangeSetFormatException e) {
            failures++;
            String error = "Cannot read " + envelope + ": " + e.getMessage()
                    + "; the origin runs an incompatible version or the journal is damaged";
            if (envelope.seq() <= appliedNow.getOrDefault(envelope.origin(), 0L)) {
                duplicates++;
                return;
            }
            parkOrThrow(envelope.origin(), envelope.seq(), List.of(ParkedChanges.ALL_TABLES),
                    ParkedChanges.Reason.ERROR, error, null, -1, envelope.payload(),
                    new ApplyException(error, false, e));
            return;
        }
        Connection c;
        try {
            c = connection();
        } catch (SQLException e) {
            throw failure("Cannot connect to apply " + envelope, e);
        }
        if (held) {
            throw new NotYetDeliverableException("applying is on hold");
        }
        String missing = unmetDependency(cs);
        if (missing != null) {
            waits++;
            throw new NotYetDeliverableException(envelope + " waits for " + missing);
        }
        String blocker;
        try {
            blocker = parked.blocker(c, cs);
        } catch (SQLException e) {
            abandon(c);
            throw failure("Cannot read mirror.parked to apply " + envelope, e);
        }
        if (blocker != null) {
            if (cs.seq() <= Math.max(appliedNow.getOrDefault(cs.origin(), 0L),
                    stagedApplied.getOrDefault(cs.origin(), 0L))) {
                duplicates++;
                return;
            }
            parkOrThrow(cs.origin(), cs.seq(), ParkedChanges.tablesOf(cs), ParkedChanges.Reason.BEHIND,
                    "waits behind " + blocker, null, cs.rows().size(), envelope.payload(), null);
            return;
        }
        lastDelivered = cs;
        lastPayload = envelope.payload();
        if (grouping) {
            // Applied at the next flush, with the rest of the group: a few round trips for the
            // whole group instead of a few per ChangeSet.
            long have = Math.max(appliedNow.getOrDefault(cs.origin(), 0L),
                    stagedApplied.getOrDefault(cs.origin(), 0L));
            if (cs.seq() <= have) {
                duplicates++;
                return;
            }
            pending.add(cs);
            stagedApplied.put(cs.origin(), cs.seq());
            return;
        }
        try {
            commitWithLastWrite = staged.isEmpty() && pending.isEmpty() && unrecorded.isEmpty();
            try {
                applyAndStage(c, cs, true);
            } finally {
                commitWithLastWrite = false;
            }
            commitStaged(c);
        } catch (SQLException | RuntimeException e) {
            abandon(c);
            ApplyException f = failure("Cannot apply " + envelope + " (tx " + cs.sourceTxId() + ", "
                    + cs.rows().size() + " rows)", e);
            if (f.isRetriable()) {
                throw f;
            }
            parkOrThrow(cs.origin(), cs.seq(), ParkedChanges.tablesOf(cs), ParkedChanges.reasonFor(e),
                    f.getMessage(), ParkedChanges.sqlStateOf(e), cs.rows().size(), envelope.payload(), f);
        } catch (Error e) {
            abandon(c); // nothing of it may stay staged: delivery restarts from the committed vector
            throw e;
        }
    }

    /**
     * Delivery restarts after an unexpected error: whatever is open or staged is dropped, and it
     * resumes right after the applied vector committed in the database.
     */
    @Override
    public synchronized Map<String, Long> restartFrom() throws ApplyException {
        abandonCurrent();
        return appliedVector();
    }

    /**
     * Applies one ChangeSet in the open transaction and stages it for the commit.
     *
     * @param alone the transaction holds nothing else: a unique-key collision can be retried
     *              row by row after a rollback, and the applied seq is recorded at once
     */
    private void applyAndStage(Connection c, ChangeSet cs, boolean alone) throws SQLException {
        List<Conflict> lost = new ArrayList<>();
        boolean fresh;
        try {
            fresh = applyInTransaction(c, cs, lost, alone);
        } catch (SQLException e) {
            if (!RowWriter.isUniqueViolation(e) || !alone) {
                throw e; // within a group, the transport delivers it again, one by one
            }
            // Rare: another unique key collides. Again, row by row, resolving each collision.
            c.rollback();
            endTransaction();
            lost.clear();
            careful = true;
            try {
                fresh = applyInTransaction(c, cs, lost, true);
            } finally {
                careful = false;
            }
        }
        stage(cs, fresh, lost.size(), alone);
    }

    /** Counts a ChangeSet the open transaction applied (fresh) or found applied before. */
    private void stage(ChangeSet cs, boolean fresh, int lost, boolean recorded) {
        if (!fresh) {
            duplicates++;
            return;
        }
        staged.add(cs);
        stagedApplied.put(cs.origin(), cs.seq());
        txApplied.put(cs.origin(), cs.seq());
        if (!recorded) {
            unrecorded.merge(cs.origin(), new long[] {cs.seq(), 1}, (a, b) -> new long[] {b[0], a[1] + 1});
        }
        stagedConflicts += lost;
        if (lost > 0) {
            LOG.info("{}#{} (tx {}): {} write(s) lost under the conflict rule and went to mirror.conflict",
                    cs.origin(), cs.seq(), cs.sourceTxId(), lost);
        }
    }

    /**
     * Commits the ChangeSets applied since the last flush, as one database transaction (see
     * {@link #groupDeliveries}).
     */
    @Override
    public synchronized void flush() throws ApplyException {
        if (staged.isEmpty() && pending.isEmpty() && !openWork) {
            return;
        }
        int n = staged.size() + pending.size();
        if (session.current() == null) {
            // Closed after a failure elsewhere (e.g. appliedVector): the open transaction is gone.
            dropStaged();
            failures++;
            throw new ApplyException("The applier's connection closed with " + n + " ChangeSet(s) not committed;"
                    + " they are delivered again", true, null);
        }
        Connection c = session.current();
        ChangeSet alone = n == 1 && pending.size() == 1 && pending.get(0) == lastDelivered ? lastDelivered : null;
        try {
            applyPending(c);
            prepareReceivers();
            commitStaged(c);
        } catch (ApplyException e) {
            abandon(c);
            throw e;
        } catch (SQLException | RuntimeException e) {
            abandon(c);
            ApplyException f = failure("Cannot apply and commit a group of " + n
                    + " ChangeSet(s); they are delivered again", e);
            if (alone == null || f.isRetriable()) {
                throw f;
            }
            // Delivered alone (after a lost group, the transport goes one by one) and failed for good.
            parkOrThrow(alone.origin(), alone.seq(), ParkedChanges.tablesOf(alone), ParkedChanges.reasonFor(e),
                    "Cannot apply " + alone.origin() + "#" + alone.seq() + " (tx " + alone.sourceTxId() + ", "
                            + alone.rows().size() + " rows): " + e.getMessage(),
                    ParkedChanges.sqlStateOf(e), alone.rows().size(), lastPayload, f);
        } catch (Error e) {
            abandon(c);
            throw e;
        }
    }

    /**
     * Applies the grouped deliveries in the open transaction: runs of ChangeSets that touch
     * disjoint rows together (one locking version read, one row-state query and one version
     * write per table, batched row statements), the rest one by one. A single one is applied as
     * an ungrouped delivery is.
     */
    private void applyPending(Connection c) throws SQLException {
        if (pending.size() == 1) {
            applyAndStage(c, pending.get(0), true);
            pending.clear();
            return;
        }
        for (ApplyRuns.Step step : ApplyRuns.plan(pending, MAX_BATCH, dialect)) {
            if (step.alone()) {
                applyAndStage(c, step.sets().get(0), false);
            } else {
                applyRun(c, new ArrayList<>(step.sets()), new ArrayList<>(step.keys()));
            }
        }
        pending.clear();
    }

    /**
     * Applies ChangeSets whose rows are disjoint (at most {@link #MAX_BATCH} rows in all) in the
     * open transaction, deciding each as {@link #applyChunk} does, and clears {@code run}.
     */
    private void applyRun(Connection c, List<ChangeSet> run, List<String[]> runKeys) throws SQLException {
        if (run.isEmpty()) {
            return;
        }
        openWork = true;
        Map<String, List<String>> keysByTable = new LinkedHashMap<>();
        Set<String> origins = new java.util.LinkedHashSet<>();
        List<RowChange> allRows = new ArrayList<>();
        List<String> allKeys = new ArrayList<>();
        // A run holds no schema change: its rows are fitted to the tables as they are (key texts
        // stay: they are the key's values).
        List<List<RowChange>> fitted = new ArrayList<>();
        for (int r = 0; r < run.size(); r++) {
            ChangeSet cs = run.get(r);
            origins.add(cs.origin());
            List<RowChange> rows = session.fit(c, cs.rows());
            if (ApplyRuns.namesChanged(cs.rows(), rows)) {
                // Rows under a table's old name: one by one is right whatever the run's ChangeSets write.
                for (ChangeSet each : run) {
                    applyAndStage(c, each, false);
                }
                run.clear();
                runKeys.clear();
                return;
            }
            fitted.add(rows);
            for (int i = 0; i < rows.size(); i++) {
                RowChange row = rows.get(i);
                keysByTable.computeIfAbsent(row.table(), t -> new ArrayList<>()).add(runKeys.get(r)[i]);
                allRows.add(row);
                allKeys.add(runKeys.get(r)[i]);
            }
        }
        Map<String, VersionStore.RowState> rowStates = new HashMap<>();
        Map<String, Map<String, StoredVersion>> stored = lockedRead(c, origins, keysByTable, allRows,
                allKeys.toArray(new String[0]), rowStates);
        List<Conflict> lost = new ArrayList<>();
        List<RowChange> winners = new ArrayList<>();
        List<String> winnerKeys = new ArrayList<>();
        List<ChangeSet> winnerSets = new ArrayList<>();
        List<ChangeSet> fresh = new ArrayList<>();
        List<Integer> lostCounts = new ArrayList<>();
        for (int r = 0; r < run.size(); r++) {
            ChangeSet cs = run.get(r);
            clock.witness(cs.clock());
            if (txApplied.getOrDefault(cs.origin(), 0L) >= cs.seq()) {
                duplicates++; // applied before: a repeated delivery
                continue;
            }
            int lostBefore = lost.size();
            int winnersBefore = winners.size();
            policy.decide(c, cs, fitted.get(r), runKeys.get(r), stored, rowStates, tracksCommitTimestamps, replayed(cs), lost,
                    winners, winnerKeys);
            for (int w = winnersBefore; w < winners.size(); w++) {
                winnerSets.add(cs);
            }
            txApplied.put(cs.origin(), cs.seq());
            fresh.add(cs);
            lostCounts.add(lost.size() - lostBefore);
        }
        writer.applyRows(c, null, winners, lost, careful); // batched: a unique-key collision fails the whole group
        Map<String, Map<String, VersionStore.Write>> writes = new LinkedHashMap<>();
        for (int i = 0; i < winners.size(); i++) {
            RowChange row = winners.get(i);
            ChangeSet cs = winnerSets.get(i);
            String key = winnerKeys.get(i);
            // The run's keys are disjoint between its ChangeSets, and the read holds the version lock.
            writes.computeIfAbsent(row.table(), t -> new LinkedHashMap<>()).put(key,
                    new VersionStore.Write(key, cs.version(), row.op() == RowChange.Op.DELETE, row.prev(), 0,
                            cs.seq(), 0, stored.get(row.table()).get(key) == null));
        }
        StatementChain versionWrites = new StatementChain();
        for (Map.Entry<String, Map<String, VersionStore.Write>> e : writes.entrySet()) {
            versions.addWrite(versionWrites, c, e.getKey(), e.getValue().values(), null, 0);
        }
        versionWrites.execute(c);
        versions.log(c, lost);
        for (int i = 0; i < fresh.size(); i++) {
            stage(fresh.get(i), true, lostCounts.get(i), false);
        }
        run.clear();
        runKeys.clear();
    }

    /**
     * Reads the stored versions of the given rows, taking first what the open transaction does
     * not hold yet: the version lock and the {@code mirror.applied} row of each of
     * {@code origins} (their applied seqs go to {@link #txApplied}). Where the server records
     * commit timestamps, also every existing row of {@code rows} with what wrote it, into
     * {@code rowStates} by table and key text, to recognise local writes capture has not stamped
     * yet. One round trip.
     */
    private Map<String, Map<String, StoredVersion>> lockedRead(Connection c, java.util.Collection<String> origins,
            Map<String, ? extends java.util.Collection<String>> keysByTable, List<RowChange> rows, String[] keyTexts,
            Map<String, VersionStore.RowState> rowStates) throws SQLException {
        List<String> toLock = new ArrayList<>();
        for (String o : origins) {
            if (!txApplied.containsKey(o)) {
                toLock.add(o);
            }
        }
        // Per table the indexes of its rows' first occurrences: one row-state query per table.
        List<VersionStore.RowStateQuery> queries = new ArrayList<>();
        List<List<Integer>> queried = new ArrayList<>();
        if (tracksCommitTimestamps) {
            Map<String, List<Integer>> firstIndex = new LinkedHashMap<>();
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < rows.size(); i++) {
                if (seen.add(rows.get(i).table() + '\0' + keyTexts[i])) {
                    firstIndex.computeIfAbsent(rows.get(i).table(), t -> new ArrayList<>()).add(i);
                }
            }
            for (Map.Entry<String, List<Integer>> e : firstIndex.entrySet()) {
                List<Map<String, String>> keys = new ArrayList<>();
                for (int i : e.getValue()) {
                    keys.add(rows.get(i).key());
                }
                queries.add(new VersionStore.RowStateQuery(session.shape(c, e.getKey()), keys));
                queried.add(e.getValue());
            }
        }
        VersionStore.AppliedAndVersions r = versions.lockAppliedAndRead(c, toLock, !versionLocked,
                keysByTable, queries, nodeId);
        versionLocked = true;
        txApplied.putAll(r.appliedSeqs());
        for (int q = 0; q < queries.size(); q++) {
            VersionStore.RowState[] found = r.rowStates().get(q);
            for (int k = 0; k < found.length; k++) {
                if (found[k] != null) {
                    int i = queried.get(q).get(k);
                    rowStates.put(rows.get(i).table() + '\0' + keyTexts[i], found[k]);
                }
            }
        }
        return r.versions();
    }

    /**
     * Whether several ChangeSets delivered in a row are applied in one database transaction,
     * committed when the transport flushes: far fewer commits when a backlog is applied (catch-up,
     * bursts). Off by default: each delivery then commits on its own.
     */
    public synchronized void groupDeliveries(boolean on) throws ApplyException {
        if (!on) {
            flush();
        }
        grouping = on;
    }

    private void commitStaged(Connection c) throws SQLException {
        versions.recordApplied(c, unrecorded);
        c.commit();
        endTransaction();
        applied += staged.size();
        conflicts += stagedConflicts;
        stagedApplied.forEach((o, seq) -> appliedNow.merge(o, seq, Math::max));
        progressed();
        long at = EpochMicros.now();
        for (ChangeSet cs : staged) {
            reportedVectors.put(cs.origin(), cs.deps());
            observer.applied(cs, at);
        }
        staged.clear();
        stagedApplied.clear();
        stagedConflicts = 0;
    }

    private void dropStaged() {
        pending.clear();
        staged.clear();
        stagedApplied.clear();
        stagedConflicts = 0;
        endTransaction();
    }

    /** Forgets what the transaction that just ended (commit or rollback) held. */
    private void endTransaction() {
        txApplied.clear();
        versionLocked = false;
        unrecorded.clear();
        openWork = false;
    }

    /**
     * Applies the ChangeSet and records it, leaving the transaction open.
     *
     * @return false if it was applied before (nothing done)
     */
    private boolean applyInTransaction(Connection c, ChangeSet cs, List<Conflict> lost, boolean recordNow)
            throws SQLException {
        // The first read locks the origin's applied seq and the versions (one round trip); the
        // last version write records the applied seq (another). A ChangeSet of one table costs
        // four round trips: that read, the row statements, that write, the commit; a small one
        // delivered alone, two (the last three go as one chain, see applyChunk). Within a group
        // (recordNow false) the locks are taken once and the applied seq is recorded at commit.
        locked = false;
        recorded = !recordNow;
        openWork = true;
        clock.witness(cs.clock());
        List<RowChange> rows = cs.rows(); // never empty
        int from = 0;
        while (from < rows.size()) {
            if (dialect.isSchemaChange(rows.get(from)) || rows.get(from).op() == RowChange.Op.TRUNCATE) {
                // A schema change or truncate, in its place among the rows (see Dialect#applySchemaChange, TableTombstones).
                if (!locked) {
                    lockedRead(c, List.of(cs.origin()), Map.of(), List.of(), new String[0], new HashMap<>());
                    locked = true;
                    if (!replayingParked && txApplied.getOrDefault(cs.origin(), 0L) >= cs.seq()) {
                        return false; // applied before: a repeated delivery
                    }
                }
                if (rows.get(from).op() == RowChange.Op.TRUNCATE) {
                    // Fitted: under a name the table had before a rename here, it is the table now.
                    TableShape truncated = session.shape(c, session.fit(c, rows.get(from)).table());
                    versions.truncations().applyPeer(c, truncated, cs.version(),
                            tracksCommitTimestamps ? nodeId : null);
                    from++;
                    continue;
                }
                dialect.applySchemaChange(c, rows.get(from), nodeId);
                retries.schemaChanged(); // what waits for a table or column may go now
                session.forgetShapes(); // tables and columns may have changed
                writer.forget();
                from++;
                continue;
            }
            int to = from;
            while (to < rows.size() && to - from < MAX_BATCH && !dialect.isSchemaChange(rows.get(to))
                    && rows.get(to).op() != RowChange.Op.TRUNCATE) {
                to++;
            }
            // Fitted here, after the schema changes before them: a row written elsewhere under a
            // column's old name finds the column this mirror renamed (or leaves out one it dropped).
            if (!applyChunk(c, cs, session.fit(c, rows.subList(from, to)), lost, to == rows.size())) {
                return false;
            }
            from = to;
        }
        versions.log(c, lost);
        if (!recorded) {
            dialect.recordApplied(c, cs.origin(), cs.seq());
        }
        return true;
    }

    /** The first dependency of {@code cs} this mirror has not applied yet, or null if all are met. */
    /**
     * Hands envelopes of another payload type to its {@link PayloadReceiver} (file changes) and
     * records their seqs as applied with the open group (or at once when ungrouped), after the
     * receiver made them durable. Types without a receiver (a mirror without replicated folders, a
     * newer mirror's payload) are recorded too, so the lag shown for their origin is true.
     */
    public void register(PayloadReceiver receiver) {
        receivers.put(receiver.payloadType(), receiver);
    }

    private void deliverOther(Envelope envelope) throws ApplyException, NotYetDeliverableException {
        if (held) {
            throw new NotYetDeliverableException("applying is on hold");
        }
        String origin = envelope.origin();
        long seq = envelope.seq();
        if (seq <= Math.max(appliedNow.getOrDefault(origin, 0L), stagedApplied.getOrDefault(origin, 0L))) {
            duplicates++;
            return;
        }
        PayloadReceiver receiver = receivers.get(envelope.payloadType());
        if (receiver == null) {
            ignored++;
            if (loggedIgnoredTypes.add(envelope.payloadType())) {
                LOG.info("No receiver here for envelopes of payload type '{}' (first: {}); they are recorded as"
                        + " applied and not used", envelope.payloadType(), envelope);
            }
        } else {
            try {
                receiver.receive(envelope);
            } catch (Exception e) {
                failures++;
                throw new ApplyException("Cannot take " + envelope + ": " + e.getMessage() + "; it is offered again",
                        true, e);
            }
            receiversToPrepare.add(receiver);
        }
        Connection c = null;
        try {
            c = connection();
            if (grouping) {
                applyPending(c); // in order: what was delivered before it goes first
                stageApplied(origin, seq);
            } else {
                prepareReceivers();
                commitApplied(c, origin, seq);
            }
        } catch (SQLException | RuntimeException e) {
            if (c != null) {
                abandon(c);
            }
            throw failure("Cannot record " + envelope + " as applied", e);
        }
    }

    /** Records {@code origin#seq} as applied in the open group: written to mirror.applied at its commit. */
    private void stageApplied(String origin, long seq) {
        openWork = true;
        stagedApplied.put(origin, seq);
        txApplied.put(origin, seq);
        unrecorded.merge(origin, new long[] {seq, 1}, (a, b) -> new long[] {b[0], a[1] + 1});
    }

    /** Records {@code origin#seq} as applied and commits, outside any group. */
    private void commitApplied(Connection c, String origin, long seq) throws SQLException {
        dialect.recordApplied(c, origin, seq);
        c.commit();
        endTransaction();
        appliedNow.merge(origin, seq, Math::max);
        progressed();
    }

    /** Makes what receivers took durable, before their seqs are committed as applied. */
    private void prepareReceivers() throws ApplyException {
        for (java.util.Iterator<PayloadReceiver> it = receiversToPrepare.iterator(); it.hasNext(); ) {
            PayloadReceiver r = it.next();
            try {
                r.prepareCommit();
            } catch (Exception e) {
                failures++;
                throw new ApplyException("Cannot make received '" + r.payloadType() + "' envelopes durable: "
                        + e.getMessage() + "; they are offered again", true, e);
            }
            it.remove();
        }
    }

    private String unmetDependency(ChangeSet cs) {
        for (Map.Entry<String, Long> d : cs.deps().entrySet()) {
            if (d.getKey().equals(nodeId) || d.getKey().equals(cs.origin())) {
                continue; // our own writes are here already; the origin's own order is the transport's
            }
            long have = Math.max(appliedNow.getOrDefault(d.getKey(), 0L),
                    stagedApplied.getOrDefault(d.getKey(), 0L)); // staged ones commit together with this one
            if (have < d.getValue()) {
                return d.getKey() + "#" + d.getValue() + " (applied here: " + have + ")";
            }
        }
        return null;
    }

    /**
     * Decides, applies and versions up to {@link #MAX_BATCH} rows of a ChangeSet: one read of the
     * stored versions, one batch per run of same-shape statements, the version writes of every
     * table in one round trip.
     */
    private boolean applyChunk(Connection c, ChangeSet cs, List<RowChange> rows, List<Conflict> lost, boolean last)
            throws SQLException {
        RowVersion incoming = cs.version();
        String[] keyTexts = new String[rows.size()];
        Map<String, List<String>> keysByTable = new LinkedHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            keyTexts[i] = RowJson.keyText(rows.get(i).key());
            keysByTable.computeIfAbsent(rows.get(i).table(), t -> new ArrayList<>()).add(keyTexts[i]);
        }
        Map<String, VersionStore.RowState> rowStates = new HashMap<>();
        Map<String, Map<String, StoredVersion>> stored = lockedRead(c,
                locked ? List.of() : List.of(cs.origin()), keysByTable, rows, keyTexts, rowStates);
        if (!locked) {
            locked = true;
            if (!replayingParked && txApplied.getOrDefault(cs.origin(), 0L) >= cs.seq()) {
                return false; // applied before: a repeated delivery
            }
        }
        List<RowChange> winners = new ArrayList<>();
        List<String> winnerKeys = new ArrayList<>();
        policy.decide(c, cs, rows, keyTexts, stored, rowStates, tracksCommitTimestamps, replayed(cs), lost, winners,
                winnerKeys);
        // A small ChangeSet with nothing lost that is the whole transaction: its rows, their
        // versions, the applied seq and the commit go as one chain, one round trip instead of
        // four. A unique-key collision fails it as a batch would; the careful pass runs as usual.
        boolean oneTrip = last && !recorded && commitWithLastWrite && !careful && lost.isEmpty()
                && winners.size() <= ONE_TRIP_ROWS;
        StatementChain chain = new StatementChain();
        long[] writerXids;
        if (oneTrip) {
            for (RowChange row : winners) {
                chain.add(dialect.rowStatement(session.shape(c, row.table()), row));
            }
            writerXids = new long[winners.size()]; // no savepoint: the top-level transaction's xid (0)
        } else {
            writerXids = writer.applyRows(c, cs, winners, lost, careful);
        }
        // Per table, per key the last winning write and the xid that wrote its row.
        Map<String, Map<String, VersionStore.Write>> writes = new LinkedHashMap<>();
        for (int i = 0; i < winners.size(); i++) {
            if (writerXids[i] != RowWriter.LOST) {
                RowChange row = winners.get(i);
                String key = winnerKeys.get(i);
                writes.computeIfAbsent(row.table(), t -> new LinkedHashMap<>()).put(key,
                        new VersionStore.Write(key, incoming, row.op() == RowChange.Op.DELETE,
                                row.prev(), 0, cs.seq(), writerXids[i], stored.get(row.table()).get(key) == null));
            }
        }
        // The applied seq goes with the last version write (or alone, in a one-trip chain).
        boolean record = last && !recorded && lost.isEmpty() && (oneTrip || !writes.isEmpty());
        int t = 0;
        for (Map.Entry<String, Map<String, VersionStore.Write>> e : writes.entrySet()) {
            t++;
            boolean recordHere = record && t == writes.size();
            versions.addWrite(chain, c, e.getKey(), e.getValue().values(), recordHere ? cs.origin() : null, cs.seq());
        }
        if (record && writes.isEmpty()) {
            versions.addWrite(chain, c, null, List.of(), cs.origin(), cs.seq());
        }
        if (oneTrip) {
            chain.commit();
        }
        chain.execute(c);
        recorded |= record;
        return true;
    }

    /**
     * Removes tombstones that every mirror has applied: a tombstone of origin o written by o's
     * change #s goes once this mirror and every other one in {@code mirrors} are known to have
     * applied o#s (others report their applied vector with each ChangeSet). Until then a late,
     * older change to a deleted row is still recognised as older.
     *
     * @param mirrors every mirror of the network that might still send a concurrent change (this
     *                one included); a mirror that has not reported a vector yet keeps everything
     * @return how many tombstones were removed
     */
    public synchronized int purgeTombstones(java.util.Collection<String> mirrors) throws ApplyException {
        if (!staged.isEmpty() || !pending.isEmpty() || openWork) {
            return 0; // a group is open: its commit is the transport's; purge next time
        }
        Set<String> origins = new HashSet<>(appliedNow.keySet());
        origins.add(nodeId);
        origins.addAll(mirrors);
        int removed = 0;
        try {
            Connection c = connection();
            try {
                for (Map.Entry<String, Long> e : ConflictPolicy.tombstonesPurgeableUpTo(origins, mirrors, nodeId, appliedNow,
                        reportedVectors).entrySet()) {
                    removed += versions.purgeTombstones(c, e.getKey(), e.getValue());
                }
                c.commit();
            } catch (SQLException e) {
                rollbackQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            throw failure("Cannot purge tombstones from mirror.row_version", e);
        }
        return removed;
    }

    /**
     * For tests of the fallback: whether commit timestamps may be used to recognise unstamped
     * local writes (when the server records them). Takes effect at once.
     */
    public synchronized void useCommitTimestamps(boolean use) throws ApplyException {
        commitTimestampsAllowed = use;
        if (session.current() != null) {
            try {
                tracksCommitTimestamps = use && versions.tracksCommitTimestamps(session.current());
            } catch (SQLException e) {
                throw failure("Cannot read track_commit_timestamp", e);
            }
        }
    }

    /**
     * Holds (true) or resumes (false) applying peers' changes: while held, they stay in the
     * journal and are applied, in order, once resumed. For maintenance and fault-injection tests.
     */
    /**
     * After a join, changes up to these seqs may already be in the copied tables, and replaying
     * one that a later write superseded finds it older than the row: not a concurrent write, so it
     * is skipped without a conflict entry. Later changes are judged as always.
     */
    public void replayHorizon(Map<String, Long> horizon) {
        this.replayHorizon = Map.copyOf(horizon);
    }

    private boolean replayed(ChangeSet cs) {
        return cs.seq() <= replayHorizon.getOrDefault(cs.origin(), 0L);
    }

    public void hold(boolean hold) {
        held = hold;
    }

    /**
     * Parks a change that cannot be applied now, and records its seq as applied in the same
     * transaction: the open group's (whatever it applied before goes first) or one of its own.
     * If even that fails, a retriable failure: the transport offers the change again.
     */
    private void parkOrThrow(String origin, long seq, List<String> tables, ParkedChanges.Reason reason, String error,
                             String sqlState, int rows, byte[] payload, ApplyException cause) throws ApplyException {
        if (reason == ParkedChanges.Reason.SCHEMA && !(origin + "#" + seq).equals(schemaRecheck)) {
            // The table shapes cached here may predate this mirror's own migration: read them
            // again and let the transport offer the change once more before parking it.
            schemaRecheck = origin + "#" + seq;
            throw new ApplyException(error + " (the schema is read again and the change tried once more)", true, cause);
        }
        Connection c = null;
        try {
            c = connection();
            if (openWork || !pending.isEmpty() || !staged.isEmpty()) {
                applyPending(c); // in order: what was delivered before it goes first
                parked.park(c, origin, seq, tables, reason, error, sqlState, rows, payload);
                stageApplied(origin, seq);
            } else {
                parked.park(c, origin, seq, tables, reason, error, sqlState, rows, payload);
                commitApplied(c, origin, seq);
            }
        } catch (SQLException | RuntimeException e) {
            if (c != null) {
                abandon(c);
            }
            ApplyException f = failure("Cannot park " + origin + "#" + seq + " in mirror.parked", e);
            if (cause != null) {
                f.addSuppressed(cause);
            }
            throw new ApplyException(f.getMessage(), true, f);
        }
        retries.noteParked(origin, seq, tables, reason, error);
    }

    /**
     * Applies parked changes again, oldest first, when a schema change was applied since the last
     * try or {@code everyMillis} passed: those waiting for a schema and those behind them.
     *
     * @return how many were applied
     */
    public synchronized int retryParkedIfDue(long everyMillis) throws ApplyException {
        return retries.due(everyMillis) ? retryParked(false, null) : 0;
    }

    /**
     * Applies parked changes again (see {@link ParkedRetries#retry}).
     *
     * @param includeErrors also those that failed for good, without waiting for their backoff
     * @param onlyId        with {@code includeErrors}, the one failed change to try (null: all)
     * @return how many were applied; 0 also while a group is open (the next call does it)
     */
    public synchronized int retryParked(boolean includeErrors, Long onlyId) throws ApplyException {
        if (openWork || !pending.isEmpty() || !staged.isEmpty()) {
            return 0;
        }
        session.forgetShapes(); // the schema may have changed since they failed
        writer.forget();
        return retries.retry(parkingHost, includeErrors, onlyId);
    }

    /**
     * Drops a parked change on the operator's request (see {@link ParkedRetries#discard}).
     *
     * @return false if no parked change has that id
     */
    public synchronized boolean discardParked(long id) throws ApplyException {
        if (openWork || !pending.isEmpty() || !staged.isEmpty()) {
            throw new ApplyException("The applier is in the middle of a group; try again in a moment", true, null);
        }
        return retries.discard(parkingHost, id);
    }

    /** The parked changes, oldest first, at most {@code limit}. */
    public synchronized List<ParkedChanges.Parked> parkedChanges(int limit) throws ApplyException {
        try {
            Connection c = connection();
            List<ParkedChanges.Parked> list = ParkedChanges.entries(c, limit);
            if (staged.isEmpty() && pending.isEmpty() && !openWork) {
                c.commit();
            }
            return list;
        } catch (SQLException e) {
            throw failure("Cannot read mirror.parked", e);
        }
    }

    /** How many changes are parked and the oldest, as of the last park or retry pass (no database round trip). */
    public ParkedChanges.Summary parkedNow() {
        return retries.summary();
    }

    /** What parked changes need from the applier to be applied again (its session and transaction state). */
    private final ParkedRetries.Host parkingHost = new ParkedRetries.Host() {
        @Override
        public Connection connection() throws SQLException {
            return ChangeSetApplier.this.connection();
        }

        @Override
        public void replay(Connection c, ChangeSet cs, List<Conflict> lost) throws SQLException {
            replayingParked = true;
            try {
                applyParked(c, cs, lost);
            } finally {
                replayingParked = false;
            }
        }

        @Override
        public void committed(int lost) {
            endTransaction();
            conflicts += lost;
        }

        @Override
        public void abandon(Connection c) {
            ChangeSetApplier.this.abandon(c);
        }

        @Override
        public void abandonCurrent() {
            ChangeSetApplier.this.abandonCurrent();
        }

        @Override
        public ApplyException failure(String what, Exception e) {
            return ChangeSetApplier.this.failure(what, e);
        }
    };

    /** Applies a parked ChangeSet in the open transaction, without recording its seq (recorded when parked). */
    private void applyParked(Connection c, ChangeSet cs, List<Conflict> lost) throws SQLException {
        try {
            applyInTransaction(c, cs, lost, false);
        } catch (SQLException e) {
            if (!RowWriter.isUniqueViolation(e)) {
                throw e;
            }
            c.rollback();
            endTransaction();
            lost.clear();
            careful = true;
            try {
                applyInTransaction(c, cs, lost, false);
            } finally {
                careful = false;
            }
        }
    }

    /**
     * Adds a listener told, on the delivery thread, each time {@link #appliedNow} moved after a
     * commit (a ChangeSet or any other payload). It must be fast and must not throw: read-your-writes
     * wakes its waiting requests with it.
     */
    public void onProgress(Runnable listener) {
        progressListeners.add(listener);
    }

    /** Removes a listener added with {@link #onProgress}. */
    public void removeProgressListener(Runnable listener) {
        progressListeners.remove(listener);
    }

    private void progressed() {
        for (Runnable r : progressListeners) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.warn("A listener of applied progress failed: {}", e.toString());
            }
        }
    }

    /** Replaces the observer of applied ChangeSets (null: none). */
    public void observe(ApplyObserver o) {
        observer = o == null ? ApplyObserver.NONE : o;
    }

    /** Counters since construction. */
    public synchronized ApplierStats stats() {
        return new ApplierStats(applied, duplicates, ignored, failures, conflicts, waits, retries.parkedSinceStart());
    }

    /** Closes the connection; later calls fail. Idempotent. */
    @Override
    public synchronized void close() {
        session.close();
    }

    private Connection connection() throws SQLException {
        return session.get();
    }

    /** Bookkeeping and session setup, in autocommit: they persist even if the first ChangeSet is rolled back. */
    private void setUpSession(Connection c) throws SQLException {
        dialect.createBookkeeping(c);
        ParkedChanges.create(c);
        dialect.prepareApplySession(c);
        tracksCommitTimestamps = commitTimestampsAllowed && versions.tracksCommitTimestamps(c);
        if (!tracksCommitTimestamps && warnedCommitTimestamps.compareAndSet(false, true)) {
            LOG.warn("track_commit_timestamp is off on {}: an applied change can overwrite a local write that"
                    + " capture has not stamped yet; capture then restores the local write, but in rare"
                    + " interleavings a write can be lost without a conflict record. Set"
                    + " track_commit_timestamp = on in postgresql.conf and restart PostgreSQL.", config.dbUrl());
        }
        if (!vectorLoaded) {
            appliedNow.putAll(dialect.readAppliedVector(c));
            vectorLoaded = true;
        }
    }

    private ApplyException failure(String what, Exception e) {
        failures++;
        boolean retriable = isRetriable(e);
        if (e instanceof SQLException && session.isBroken()) {
            session.disconnect();
        }
        return new ApplyException(what + ": " + e.getMessage(), retriable, e);
    }

    /**
     * Sorts a failure: connection problems (SQLState class 08), server shutdown (57P), lock and
     * serialization conflicts (40xxx, 55P03), an origin still in use (55006) and insufficient
     * resources (53) can pass; bad data,
     * missing tables or keys cannot.
     */
    static boolean isRetriable(Exception e) {
        if (e instanceof NoPrimaryKeyException) {
            return false;
        }
        if (e instanceof SQLException sql) {
            String state = sql.getSQLState();
            if (state == null) {
                return true; // pgjdbc I/O problems often come without a state
            }
            return state.startsWith("08") || state.startsWith("57P") || state.startsWith("40")
                    || state.startsWith("53") || state.equals("55P03")
                    // 55006: the replication origin is still held by our previous, dying session.
                    || state.equals("55006");
        }
        return false;
    }

    /**
     * Ends a failed apply: rolls back, drops what was staged for the commit, and forgets table
     * shapes (a table may have changed under us, DDL; they are read again on the next attempt).
     */
    /** {@link #abandon} on the open connection, if one is open. */
    private void abandonCurrent() {
        if (session.current() != null) {
            abandon(session.current());
        }
    }

    private void abandon(Connection c) {
        rollbackQuietly(c);
        parked.markStale();
        versions.truncations().forget(); // a table tombstone this transaction cached is rolled back
        dropStaged();
        session.forgetShapes();
        writer.forget();
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            LOG.debug("Rollback failed (connection probably broken): {}", e.toString());
        }
    }
}
