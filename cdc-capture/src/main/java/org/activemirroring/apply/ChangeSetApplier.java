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

import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.change.ChangeSetFormatException;
import org.activemirroring.change.HybridClock;
import org.activemirroring.change.RowChange;
import org.activemirroring.change.RowVersion;
import org.activemirroring.db.Dialect;
import org.activemirroring.db.NoPrimaryKeyException;
import org.activemirroring.db.RowStatement;
import org.activemirroring.db.StoredVersion;
import org.activemirroring.db.TableShape;
import org.activemirroring.postgres.DdlReplication;
import org.activemirroring.postgres.PostgresVersionStore;
import org.activemirroring.postgres.StatementChain;
import org.activemirroring.postgres.TableTruncation;
import org.activemirroring.transport.DeliveryHandler;
import org.activemirroring.transport.Envelope;
import org.activemirroring.transport.EpochMicros;
import org.activemirroring.transport.NotYetDeliverableException;
import org.activemirroring.versions.Conflict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    /** Rows per JDBC batch: large enough to amortise round trips, small enough to bound driver memory. */
    private static final int MAX_BATCH = 1000;
    /**
     * Up to this many winning rows, a ChangeSet delivered alone is written, versioned, recorded
     * and committed in one round trip ({@link StatementChain}); larger ones are batched.
     */
    private static final int ONE_TRIP_ROWS = 16;

    private volatile ApplyObserver observer = ApplyObserver.NONE;
    private static final Logger LOG = LoggerFactory.getLogger(ChangeSetApplier.class);

    private final CaptureConfig config;
    private final Dialect dialect;
    private final PostgresVersionStore versions;
    private final String nodeId;
    private final HybridClock clock;
    /** Per origin the highest applied seq, as committed; loaded with the first connection. */
    private final Map<String, Long> appliedNow = new ConcurrentHashMap<>();
    /** Per origin the applied vector it reported with its newest ChangeSet (its dependencies). */
    private final Map<String, Map<String, Long>> reportedVectors = new ConcurrentHashMap<>();
    private final Map<String, List<String>> uniqueColumns = new HashMap<>();
    private final ChangeSetCodec codec = new ChangeSetCodec();
    private final Map<String, TableShape> shapes = new HashMap<>();
    private final Set<String> loggedIgnoredTypes = ConcurrentHashMap.newKeySet();

    private Connection connection;
    private boolean closed;
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
    /** A parked change is applied again: its seq is recorded already, so no duplicate check. */
    private boolean replayingParked;
    /** The last ChangeSet delivered and its payload: parked whole if it fails for good alone. */
    private ChangeSet lastDelivered;
    private byte[] lastPayload;
    /** A schema change was applied since parked changes were last retried. */
    private volatile boolean schemaChanged;
    private long lastParkedRetryNanos;
    private boolean parkedTried;
    private long parkedSinceStart;
    /** What {@link #parkedNow()} shows: as of the last park or retry pass. */
    private volatile ParkedChanges.Summary parkedSummary = ParkedChanges.Summary.NONE;

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
            ignored++;
            if (loggedIgnoredTypes.add(envelope.payloadType())) {
                LOG.info("Applier ignores envelopes of payload type '{}' (first: {}); they are not ChangeSets",
                        envelope.payloadType(), envelope);
            }
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
        if (connection != null) {
            abandon(connection);
        }
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
            if (!isUniqueViolation(e) || !alone) {
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
        if (connection == null) {
            // Closed after a failure elsewhere (e.g. appliedVector): the open transaction is gone.
            dropStaged();
            failures++;
            throw new ApplyException("The applier's connection closed with " + n + " ChangeSet(s) not committed;"
                    + " they are delivered again", true, null);
        }
        Connection c = connection;
        ChangeSet alone = n == 1 && pending.size() == 1 && pending.get(0) == lastDelivered ? lastDelivered : null;
        try {
            applyPending(c);
            commitStaged(c);
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
        List<ChangeSet> run = new ArrayList<>();
        List<String[]> runKeys = new ArrayList<>();
        Set<String> runRows = new HashSet<>();
        int runSize = 0;
        for (ChangeSet cs : pending) {
            String[] keys = cs.rows().size() > MAX_BATCH ? null : new String[cs.rows().size()];
            List<String> ids = new ArrayList<>(keys == null ? 0 : keys.length);
            boolean overlaps = false;
            for (int i = 0; keys != null && i < keys.length; i++) {
                RowChange row = cs.rows().get(i);
                if (DdlReplication.isDdl(row) || TableTruncation.isTruncate(row)) {
                    keys = null; // a schema change or truncate: its ChangeSet goes alone, in its order
                    break;
                }
                keys[i] = PostgresVersionStore.keyText(row.key());
                String id = row.table() + '\0' + keys[i];
                ids.add(id);
                overlaps |= runRows.contains(id);
            }
            if (keys == null) {
                applyRun(c, run, runKeys);
                runRows.clear();
                runSize = 0;
                applyAndStage(c, cs, false);
                continue;
            }
            // A row an earlier ChangeSet of the run touches: decide it after that one is written.
            if (overlaps || runSize + keys.length > MAX_BATCH) {
                applyRun(c, run, runKeys);
                runRows.clear();
                runSize = 0;
            }
            run.add(cs);
            runKeys.add(keys);
            runRows.addAll(ids);
            runSize += keys.length;
        }
        applyRun(c, run, runKeys);
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
        for (int r = 0; r < run.size(); r++) {
            ChangeSet cs = run.get(r);
            origins.add(cs.origin());
            for (int i = 0; i < cs.rows().size(); i++) {
                RowChange row = cs.rows().get(i);
                keysByTable.computeIfAbsent(row.table(), t -> new ArrayList<>()).add(runKeys.get(r)[i]);
                allRows.add(row);
                allKeys.add(runKeys.get(r)[i]);
            }
        }
        Map<String, PostgresVersionStore.RowState> rowStates = new HashMap<>();
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
            decide(c, cs, cs.rows(), runKeys.get(r), stored, rowStates, lost, winners, winnerKeys);
            for (int w = winnersBefore; w < winners.size(); w++) {
                winnerSets.add(cs);
            }
            txApplied.put(cs.origin(), cs.seq());
            fresh.add(cs);
            lostCounts.add(lost.size() - lostBefore);
        }
        applyRows(c, null, winners, lost); // batched: a unique-key collision fails the whole group
        Map<String, Map<String, PostgresVersionStore.Write>> writes = new LinkedHashMap<>();
        for (int i = 0; i < winners.size(); i++) {
            RowChange row = winners.get(i);
            ChangeSet cs = winnerSets.get(i);
            String key = winnerKeys.get(i);
            // The run's keys are disjoint between its ChangeSets, and the read holds the version lock.
            writes.computeIfAbsent(row.table(), t -> new LinkedHashMap<>()).put(key,
                    new PostgresVersionStore.Write(key, cs.version(), row.op() == RowChange.Op.DELETE, row.prev(), 0,
                            cs.seq(), 0, stored.get(row.table()).get(key) == null));
        }
        StatementChain versionWrites = new StatementChain();
        for (Map.Entry<String, Map<String, PostgresVersionStore.Write>> e : writes.entrySet()) {
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
            Map<String, PostgresVersionStore.RowState> rowStates) throws SQLException {
        List<String> toLock = new ArrayList<>();
        for (String o : origins) {
            if (!txApplied.containsKey(o)) {
                toLock.add(o);
            }
        }
        // Per table the indexes of its rows' first occurrences: one row-state query per table.
        List<PostgresVersionStore.RowStateQuery> queries = new ArrayList<>();
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
                queries.add(new PostgresVersionStore.RowStateQuery(shape(c, e.getKey()), keys));
                queried.add(e.getValue());
            }
        }
        PostgresVersionStore.AppliedAndVersions r = versions.lockAppliedAndRead(c, toLock, !versionLocked,
                keysByTable, queries, nodeId);
        versionLocked = true;
        txApplied.putAll(r.appliedSeqs());
        for (int q = 0; q < queries.size(); q++) {
            PostgresVersionStore.RowState[] found = r.rowStates().get(q);
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
            if (DdlReplication.isDdl(rows.get(from)) || TableTruncation.isTruncate(rows.get(from))) {
                // A schema change or truncate, in its place among the rows (see DdlReplication, TableTruncation).
                if (!locked) {
                    lockedRead(c, List.of(cs.origin()), Map.of(), List.of(), new String[0], new HashMap<>());
                    locked = true;
                    if (!replayingParked && txApplied.getOrDefault(cs.origin(), 0L) >= cs.seq()) {
                        return false; // applied before: a repeated delivery
                    }
                }
                if (TableTruncation.isTruncate(rows.get(from))) {
                    versions.truncations().applyPeer(c, shape(c, rows.get(from).table()), cs.version(),
                            tracksCommitTimestamps ? nodeId : null);
                    from++;
                    continue;
                }
                DdlReplication.apply(c, rows.get(from), nodeId);
                schemaChanged = true; // what waits for a table or column may go now
                shapes.clear(); // tables and columns may have changed
                uniqueColumns.clear();
                from++;
                continue;
            }
            int to = from;
            while (to < rows.size() && to - from < MAX_BATCH && !DdlReplication.isDdl(rows.get(to))
                    && !TableTruncation.isTruncate(rows.get(to))) {
                to++;
            }
            if (!applyChunk(c, cs, rows.subList(from, to), lost, to == rows.size())) {
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
            keyTexts[i] = PostgresVersionStore.keyText(rows.get(i).key());
            keysByTable.computeIfAbsent(rows.get(i).table(), t -> new ArrayList<>()).add(keyTexts[i]);
        }
        Map<String, PostgresVersionStore.RowState> rowStates = new HashMap<>();
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
        decide(c, cs, rows, keyTexts, stored, rowStates, lost, winners, winnerKeys);
        // A small ChangeSet with nothing lost that is the whole transaction: its rows, their
        // versions, the applied seq and the commit go as one chain, one round trip instead of
        // four. A unique-key collision fails it as a batch would; the careful pass runs as usual.
        boolean oneTrip = last && !recorded && commitWithLastWrite && !careful && lost.isEmpty()
                && winners.size() <= ONE_TRIP_ROWS;
        StatementChain chain = new StatementChain();
        long[] writerXids;
        if (oneTrip) {
            for (RowChange row : winners) {
                chain.add(dialect.rowStatement(shape(c, row.table()), row));
            }
            writerXids = new long[winners.size()]; // no savepoint: the top-level transaction's xid (0)
        } else {
            writerXids = applyRows(c, cs, winners, lost);
        }
        // Per table, per key the last winning write and the xid that wrote its row.
        Map<String, Map<String, PostgresVersionStore.Write>> writes = new LinkedHashMap<>();
        for (int i = 0; i < winners.size(); i++) {
            if (writerXids[i] != LOST) {
                RowChange row = winners.get(i);
                String key = winnerKeys.get(i);
                writes.computeIfAbsent(row.table(), t -> new LinkedHashMap<>()).put(key,
                        new PostgresVersionStore.Write(key, incoming, row.op() == RowChange.Op.DELETE,
                                row.prev(), 0, cs.seq(), writerXids[i], stored.get(row.table()).get(key) == null));
            }
        }
        // The applied seq goes with the last version write (or alone, in a one-trip chain).
        boolean record = last && !recorded && lost.isEmpty() && (oneTrip || !writes.isEmpty());
        int t = 0;
        for (Map.Entry<String, Map<String, PostgresVersionStore.Write>> e : writes.entrySet()) {
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
     * Decides each row of {@code cs} under the conflict rule against the stored versions and row
     * states: the winning rows go to {@code winners} (with their key texts to
     * {@code winnerKeys}), what lost to {@code lost}.
     */
    private void decide(Connection c, ChangeSet cs, List<RowChange> rows, String[] keyTexts,
                        Map<String, Map<String, StoredVersion>> stored,
                        Map<String, PostgresVersionStore.RowState> rowStates, List<Conflict> lost,
                        List<RowChange> winners, List<String> winnerKeys) throws SQLException {
        RowVersion incoming = cs.version();
        Instant now = Instant.now();
        Map<String, Boolean> decided = new HashMap<>(); // table + key -> won, for keys repeated in the chunk
        for (int i = 0; i < rows.size(); i++) {
            RowChange row = rows.get(i);
            String id = row.table() + '\0' + keyTexts[i];
            Boolean won = decided.get(id);
            if (won == null) {
                StoredVersion sv = stored.get(row.table()).get(keyTexts[i]);
                // A truncate of the table newer than the row's version stands for it (TableTruncation).
                RowVersion current = versions.truncations().atLeast(c, row.table(),
                        sv == null ? RowVersion.NONE : sv.version());
                PostgresVersionStore.RowState state = rowStates.get(id);
                if (current.equals(incoming)) {
                    won = true; // an earlier chunk of this same ChangeSet wrote it
                } else if (state != null && state.uncapturedLocal()) {
                    // The row holds a local write capture has not stamped yet. Capture stamps it
                    // after this change (the clock has witnessed this one), so it is the newer
                    // write on every mirror: this change loses here at once rather than
                    // overwriting it (and leaving capture a race to repair).
                    won = false;
                    lost.add(new Conflict(0, now, Conflict.Kind.UPDATE, row.table(), row.key(), incoming,
                            row.op().code(), PostgresVersionStore.imageJson(row.after()),
                            new RowVersion(clock.current(), nodeId), state.json(), cs.seq()));
                } else if (incoming.isNewerThan(current)) {
                    won = true;
                    boolean succession = row.prev() != null && row.prev().equals(current);
                    boolean bothDeletes = sv != null && sv.deleted() && row.op() == RowChange.Op.DELETE;
                    if (sv != null && !succession && !bothDeletes) {
                        String was;
                        boolean log;
                        if (tracksCommitTimestamps) {
                            was = state == null ? null : state.json();
                            log = true;
                        } else {
                            // Without commit timestamps a row holding an unstamped local write is
                            // not recognised here: capture repairs that race and logs what lost.
                            PostgresVersionStore.CurrentRow r = versions.currentRow(c, shape(c, row.table()), row.key());
                            was = r == null ? null : r.json();
                            log = holdsStoredWrite(sv, r);
                        }
                        if (log) {
                            // A concurrent write is replaced: keep what it wrote.
                            lost.add(new Conflict(0, now, Conflict.Kind.UPDATE, row.table(), row.key(), current,
                                    sv.deleted() ? "d" : "u", was, incoming,
                                    PostgresVersionStore.imageJson(row.after()), 0));
                        }
                    }
                } else {
                    won = false;
                }
                decided.put(id, won);
                if (!won && !(state != null && state.uncapturedLocal()) && !replayed(cs)) {
                    String kept = state != null ? state.json() : null;
                    if (!tracksCommitTimestamps) {
                        PostgresVersionStore.CurrentRow r = versions.currentRow(c, shape(c, row.table()), row.key());
                        kept = r == null ? null : r.json();
                    }
                    lost.add(new Conflict(0, now, Conflict.Kind.UPDATE, row.table(), row.key(), incoming,
                            row.op().code(), PostgresVersionStore.imageJson(row.after()),
                            sv == null ? RowVersion.NONE : sv.version(), kept, cs.seq()));
                }
            } else if (!won && !replayed(cs)) {
                // The same key again in this chunk after it lost: this write loses as well.
                StoredVersion sv = stored.get(row.table()).get(keyTexts[i]);
                PostgresVersionStore.RowState state = rowStates.get(id);
                lost.add(new Conflict(0, now, Conflict.Kind.UPDATE, row.table(), row.key(), incoming,
                        row.op().code(), PostgresVersionStore.imageJson(row.after()),
                        sv == null ? RowVersion.NONE : sv.version(), state == null ? null : state.json(), cs.seq()));
            }
            if (won) {
                winners.add(row);
                winnerKeys.add(keyTexts[i]);
            }
        }
    }

    /** {@link #applyRows} result for a row that lost a unique-key conflict and was not written. */
    private static final long LOST = -1;

    /**
     * Whether the row as it is ({@code was}, null if absent) is what the stored version's write
     * left, rather than a later local write that capture has not stamped yet. The stored write
     * left the row's xmin: the applier's (sub)transaction ({@code writer_xid}), the local
     * transaction itself ({@code source_tx}) or capture's race repair ({@code writer_xid}).
     */
    static boolean holdsStoredWrite(StoredVersion sv, PostgresVersionStore.CurrentRow was) {
        if (was == null || sv.deleted()) {
            return (was == null) == sv.deleted();
        }
        long xmin = was.xmin();
        return xmin == sv.writerXid() || xmin == (sv.sourceTx() & 0xFFFF_FFFFL);
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
    private long savepointXid(Connection c, List<RowChange> rows) throws SQLException {
        for (int i = rows.size() - 1; i >= 0; i--) {
            RowChange row = rows.get(i);
            if (row.op() != RowChange.Op.DELETE && !row.key().keySet().containsAll(row.after().keySet())) {
                PostgresVersionStore.CurrentRow r = versions.currentRow(c, shape(c, row.table()), row.key());
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
     * @return per row, the xid that wrote it ({@link #savepointXid}), or {@link #LOST} if it lost a
     *         unique-key conflict and was not written
     */
    private long[] applyRows(Connection c, ChangeSet cs, List<RowChange> rows, List<Conflict> lost)
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
                RowStatement st = dialect.rowStatement(shape(c, row.table()), row);
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
        TableShape t = shape(c, row.table());
        String constraint = PostgresVersionStore.constraintOf(e);
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
        PostgresVersionStore.FoundRow existing = versions.findRow(c, t, probe);
        if (existing == null) {
            return true; // gone meanwhile: try again
        }
        String incomingKey = PostgresVersionStore.keyText(row.key());
        String existingKey = PostgresVersionStore.keyText(existing.identity());
        if (incomingKey.equals(existingKey)) {
            throw e;
        }
        RowVersion existingVersion = versions.read(c, row.table(), List.of(existingKey)).getOrDefault(existingKey,
                new StoredVersion(RowVersion.NONE, false, null, 0, 0, 0)).version();
        Instant now = Instant.now();
        String incomingJson = PostgresVersionStore.imageJson(row.after());
        if (incomingKey.compareTo(existingKey) < 0) {
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
    private void executeBatched(Connection c, List<RowChange> rows) throws SQLException {
        PreparedStatement batch = null;
        String batchSql = null;
        // Keys in the current batch: the driver sends a batch of upserts as one multi-row INSERT,
        // and PostgreSQL refuses ON CONFLICT DO UPDATE touching the same row twice in one
        // statement; a repeated key (insert, then update in one transaction) starts a new batch.
        Set<Map<String, String>> batchKeys = new HashSet<>();
        try {
            for (RowChange row : rows) {
                RowStatement st = dialect.rowStatement(shape(c, row.table()), row);
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
                for (String origin : origins) {
                    long upTo = Long.MAX_VALUE;
                    for (String m : mirrors) {
                        long has;
                        if (m.equals(origin)) {
                            continue; // the origin has its own changes
                        } else if (m.equals(nodeId)) {
                            has = appliedNow.getOrDefault(origin, 0L);
                        } else {
                            Map<String, Long> reported = reportedVectors.get(m);
                            has = reported == null ? 0 : reported.getOrDefault(origin, 0L);
                        }
                        upTo = Math.min(upTo, has);
                    }
                    if (upTo > 0 && upTo < Long.MAX_VALUE) {
                        removed += versions.purgeTombstones(c, origin, upTo);
                    }
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
        if (connection != null) {
            try {
                tracksCommitTimestamps = use && PostgresVersionStore.tracksCommitTimestamps(connection);
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
        Connection c = null;
        try {
            c = connection();
            if (openWork || !pending.isEmpty() || !staged.isEmpty()) {
                applyPending(c); // in order: what was delivered before it goes first
                parked.park(c, origin, seq, tables, reason, error, sqlState, rows, payload);
                openWork = true;
                stagedApplied.put(origin, seq);
                txApplied.put(origin, seq);
                unrecorded.merge(origin, new long[] {seq, 1}, (a, b) -> new long[] {b[0], a[1] + 1});
            } else {
                parked.park(c, origin, seq, tables, reason, error, sqlState, rows, payload);
                dialect.recordApplied(c, origin, seq);
                c.commit();
                endTransaction();
                appliedNow.merge(origin, seq, Math::max);
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
        parkedSinceStart++;
        parkedSummary = parkedSummary.plus(origin, seq, tables, reason, error);
        if (reason == ParkedChanges.Reason.BEHIND) {
            LOG.info("Parked {}#{} ({}): it {}", origin, seq, String.join(", ", tables), error);
        } else {
            LOG.warn("Parked {}#{} ({}), {}: {}. Changes of the same tables wait behind it, everything else goes on;"
                    + " {}", origin, seq, String.join(", ", tables), reason == ParkedChanges.Reason.SCHEMA
                    ? "waiting for a table or column this mirror does not have yet" : "it cannot be applied", error,
                    reason == ParkedChanges.Reason.SCHEMA ? "it is applied once the schema change arrives"
                            : "retry or discard it with POST /_mirror/parked/retry or /_mirror/parked/discard");
        }
    }

    /**
     * Applies parked changes again, oldest first, when a schema change was applied since the last
     * try or {@code everyMillis} passed: those waiting for a schema and those behind them.
     *
     * @return how many were applied
     */
    public synchronized int retryParkedIfDue(long everyMillis) throws ApplyException {
        if (parkedTried && !schemaChanged && System.nanoTime() - lastParkedRetryNanos < everyMillis * 1_000_000L) {
            return 0;
        }
        return retryParked(false, null);
    }

    /**
     * Applies parked changes again, oldest first; one that touches a table of an earlier change
     * still parked stays behind it. Each goes in its own transaction and leaves the park when it
     * applied; one that fails again stays, with the new error.
     *
     * @param includeErrors every change that failed for good (the operator asks); otherwise those
     *                      only with backoff (the operator may have fixed the cause, e.g. added a
     *                      function a schema change needs), and every one waiting for a schema or
     *                      behind another
     * @param onlyId        with {@code includeErrors}, the one failed change to try (null: all)
     * @return how many were applied; 0 also while a group is open (the next call does it)
     */
    public synchronized int retryParked(boolean includeErrors, Long onlyId) throws ApplyException {
        if (closed || openWork || !pending.isEmpty() || !staged.isEmpty()) {
            return 0;
        }
        schemaChanged = false;
        parkedTried = true;
        lastParkedRetryNanos = System.nanoTime();
        Connection c;
        List<ParkedChanges.Stored> list;
        try {
            c = connection();
            parked.markStale(); // read it again: one cheap query every few seconds
            list = parked.count(c) == 0 ? List.of() : parked.list(c);
            c.commit();
        } catch (SQLException e) {
            if (connection != null) {
                abandon(connection);
            }
            throw failure("Cannot read mirror.parked", e);
        }
        if (list.isEmpty()) {
            parkedSummary = ParkedChanges.Summary.NONE;
            return 0;
        }
        shapes.clear(); // the schema may have changed since they failed
        uniqueColumns.clear();
        Set<String> blockedTables = new HashSet<>();
        Set<String> blockedOrigins = new HashSet<>();
        int done = 0;
        List<ParkedChanges.Parked> applied = new ArrayList<>();
        for (ParkedChanges.Stored s : list) {
            ParkedChanges.Parked e = s.entry();
            boolean blocked = blockedOrigins.contains(e.origin())
                    || e.tables().stream().anyMatch(blockedTables::contains);
            boolean error = ParkedChanges.Reason.ERROR.code().equals(e.reason());
            boolean mayTry = !error || (includeErrors ? onlyId == null || onlyId == e.id() : e.retryDue(Instant.now()));
            if (blocked || !mayTry) {
                block(e, blockedTables, blockedOrigins);
                continue;
            }
            List<Conflict> lost = new ArrayList<>();
            try {
                ChangeSet cs = codec.decode(s.payload(), e.origin(), e.seq());
                replayingParked = true;
                applyParked(c, cs, lost);
                parked.delete(c, e.id());
                c.commit();
                endTransaction();
                conflicts += lost.size();
                done++;
                applied.add(e);
                LOG.info("Applied parked {}#{} ({}) after {} attempt(s)", e.origin(), e.seq(),
                        String.join(", ", e.tables()), e.attempts());
            } catch (SQLException | RuntimeException ex) {
                abandon(c);
                if (isRetriable(ex)) {
                    throw failure("Cannot apply parked " + e.origin() + "#" + e.seq() + " now", ex);
                }
                try {
                    c = connection();
                    parked.retried(c, e.id(), ParkedChanges.reasonFor(ex), ex.getMessage(),
                            ParkedChanges.sqlStateOf(ex));
                    c.commit();
                } catch (SQLException ex2) {
                    if (connection != null) {
                        abandon(connection);
                    }
                    throw failure("Cannot record a failed retry in mirror.parked", ex2);
                }
                block(e, blockedTables, blockedOrigins);
            } finally {
                replayingParked = false;
            }
        }
        parked.markStale();
        List<ParkedChanges.Parked> left = new ArrayList<>();
        for (ParkedChanges.Stored s : list) {
            left.add(s.entry());
        }
        left.removeAll(applied);
        parkedSummary = ParkedChanges.Summary.of(left);
        return done;
    }

    /** How many changes are parked and the oldest, as of the last park or retry pass (no database round trip). */
    public ParkedChanges.Summary parkedNow() {
        return parkedSummary;
    }

    private static void block(ParkedChanges.Parked e, Set<String> tables, Set<String> origins) {
        for (String t : e.tables()) {
            if (ParkedChanges.ALL_TABLES.equals(t)) {
                origins.add(e.origin());
            } else {
                tables.add(t);
            }
        }
    }

    /** Applies a parked ChangeSet in the open transaction, without recording its seq (recorded when parked). */
    private void applyParked(Connection c, ChangeSet cs, List<Conflict> lost) throws SQLException {
        try {
            applyInTransaction(c, cs, lost, false);
        } catch (SQLException e) {
            if (!isUniqueViolation(e)) {
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
     * Drops a parked change on the operator's request: this mirror will never have it (logged
     * at WARN with what it held). What waited behind it is tried again at once.
     *
     * @return false if no parked change has that id
     */
    public synchronized boolean discardParked(long id) throws ApplyException {
        if (openWork || !pending.isEmpty() || !staged.isEmpty()) {
            throw new ApplyException("The applier is in the middle of a group; try again in a moment", true, null);
        }
        ParkedChanges.Parked gone = null;
        try {
            Connection c = connection();
            for (ParkedChanges.Parked p : ParkedChanges.entries(c, Integer.MAX_VALUE)) {
                if (p.id() == id) {
                    gone = p;
                }
            }
            boolean deleted = gone != null && parked.delete(c, id);
            c.commit();
            if (!deleted) {
                return false;
            }
        } catch (SQLException e) {
            if (connection != null) {
                abandon(connection);
            }
            throw failure("Cannot discard parked change " + id, e);
        }
        LOG.warn("Discarded parked {}#{} ({} row change(s) of {}) on the operator's request; this mirror will not"
                + " have that change. Its last error: {}", gone.origin(), gone.seq(), gone.rows(),
                String.join(", ", gone.tables()), gone.error());
        retryParked(false, null);
        return true;
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

    /** Replaces the observer of applied ChangeSets (null: none). */
    public void observe(ApplyObserver o) {
        observer = o == null ? ApplyObserver.NONE : o;
    }

    /** Counters since construction. */
    public synchronized ApplierStats stats() {
        return new ApplierStats(applied, duplicates, ignored, failures, conflicts, waits, parkedSinceStart);
    }

    /** Closes the connection; later calls fail. Idempotent. */
    @Override
    public synchronized void close() {
        closed = true;
        closeConnection();
    }

    private TableShape shape(Connection c, String table) throws SQLException {
        TableShape s = shapes.get(table);
        if (s == null) {
            s = dialect.describe(c, table);
            shapes.put(table, s);
        }
        return s;
    }

    private Connection connection() throws SQLException {
        if (closed) {
            throw new SQLException("the applier is closed");
        }
        if (connection != null) {
            return connection;
        }
        // A batch of same-shape upserts goes to the server as multi-row INSERTs: one statement per
        // up to 128 rows for the server to parse and run instead of one per row.
        Connection c = config.connect("reWriteBatchedInserts", "true");
        try {
            // Bookkeeping and session setup run in autocommit: they must persist even if the first
            // ChangeSet is rolled back.
            c.setAutoCommit(true);
            dialect.createBookkeeping(c);
            ParkedChanges.create(c);
            dialect.prepareApplySession(c);
            tracksCommitTimestamps = commitTimestampsAllowed && PostgresVersionStore.tracksCommitTimestamps(c);
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
            c.setAutoCommit(false);
        } catch (SQLException e) {
            try {
                c.close();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        connection = c;
        return c;
    }

    private ApplyException failure(String what, Exception e) {
        failures++;
        boolean retriable = isRetriable(e);
        if (e instanceof SQLException && isConnectionBroken()) {
            closeConnection();
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

    private boolean isConnectionBroken() {
        if (connection == null) {
            return false;
        }
        try {
            return !connection.isValid(2);
        } catch (SQLException e) {
            return true;
        }
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                LOG.debug("Closing the applier connection failed: {}", e.toString());
            }
            connection = null;
        }
    }

    /**
     * Ends a failed apply: rolls back, drops what was staged for the commit, and forgets table
     * shapes (a table may have changed under us, DDL; they are read again on the next attempt).
     */
    private void abandon(Connection c) {
        rollbackQuietly(c);
        parked.markStale();
        versions.truncations().forget(); // a table tombstone this transaction cached is rolled back
        dropStaged();
        shapes.clear();
        uniqueColumns.clear();
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException e) {
            LOG.debug("Rollback failed (connection probably broken): {}", e.toString());
        }
    }
}
