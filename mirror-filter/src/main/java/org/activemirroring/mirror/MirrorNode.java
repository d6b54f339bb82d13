package org.activemirroring.mirror;

import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.activemirroring.apply.ApplyException;
import org.activemirroring.apply.ApplyObserver;
import org.activemirroring.apply.ChangeSetApplier;
import org.activemirroring.apply.ParkedChanges;
import org.activemirroring.capture.CaptureVersioner;
import org.activemirroring.capture.DebeziumCapture;
import org.activemirroring.capture.EchoPolicy;
import org.activemirroring.change.HybridClock;
import org.activemirroring.files.sync.FileSync;
import org.activemirroring.join.JoinSink;
import org.activemirroring.join.JoinSource;
import org.activemirroring.join.JoinStash;
import org.activemirroring.join.JoinWire;
import org.activemirroring.logging.LogContext;
import org.activemirroring.postgres.PostgresBulkCopy;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.postgres.PostgresRowStash;
import org.activemirroring.postgres.PostgresSchemaCopy;
import org.activemirroring.postgres.PostgresSequences;
import org.activemirroring.postgres.PrivilegeCheck;
import org.activemirroring.postgres.SlotMonitor;
import org.activemirroring.sequences.SequenceKeeper;
import org.activemirroring.transport.DeliveryStatus;
import org.activemirroring.transport.JGroupsPeerTransport;
import org.activemirroring.transport.TransportObserver;
import org.activemirroring.transport.TransportStats;
import org.activemirroring.versions.Conflict;
import org.activemirroring.versions.ConflictLogReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of one mirror: config, then transport, applier and capture, started in
 * the order that loses nothing and stopped in reverse.
 *
 * <p>Start order: the applier connects first (it owns the applied vector), the transport joins
 * the network and resumes delivery right after that vector, and capture starts last so that
 * nothing is published before the transport can journal it. Stop order is the reverse: capture
 * stops producing, the transport stops delivering, the applier disconnects.
 *
 * <p>Before all of them the node aligns its sequences to its key-allocation slot
 * ({@link SequenceKeeper}) and keeps them aligned while it runs: a mirror that accepted writes
 * before could hand out keys another mirror also generates.
 */
public final class MirrorNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MirrorNode.class);

    private final MirrorConfig config;
    private final ChangeSetApplier applier;
    private final JGroupsPeerTransport transport;
    /** The running capture; replaced when it stopped on an error and started again ({@link #restartCaptureIfStopped}). */
    private volatile DebeziumCapture capture;
    private final java.util.function.Supplier<DebeziumCapture> newCapture;
    private volatile boolean publishingHeld;
    private long captureBackoffMs = CAPTURE_RESTART_MIN_MS;
    private long nextCaptureRestart;
    private volatile int captureRestarts;
    private final CaptureVersioner versioner;
    private final ConflictLogReader conflicts;
    private final ScheduledExecutorService maintenance;
    /** How often parked changes waiting for a schema are tried again without a schema change arriving. */
    static final long PARKED_RETRY_MILLIS = 5_000;
    static final String PARKED_PATH = "/_mirror/parked";
    private final SequenceKeeper sequences;
    private final SlotMonitor slotMonitor;
    private final JoinSource joinSource;
    private final JoinSink joinSink;
    private final ForeignKeyValidation validation;
    /** Why this mirror must copy its data again; null while it need not. */
    private volatile String rejoinReason;
    private volatile boolean restartRequested;
    private volatile boolean closed;
    private final DataOrigin dataOrigin;
    private final FileSync files;
    private final org.activemirroring.mirror.dashboard.LocalFacts facts;

    /**
     * Where this mirror's data came from, for status: how it was decided (joined from whom, or why
     * it started from its own database), a warning when that choice may leave it different from the
     * network, and what became of the rows its site wrote before a join (null when none).
     */
    public record DataOrigin(String how, String warning, String siteRowsBeforeJoin) {
    }

    /**
     * Puts back the rows the site wrote before this mirror's join ({@link JoinStash}); returns what
     * happened, or null when there were none. Runs while capture runs, before the node serves.
     */
    private static String restoreStash(MirrorConfig config, PostgresDialect dialect, JoinSink sink) throws Exception {
        JoinStash stash = new JoinStash(config.capture(), dialect, new PostgresRowStash(), config.nodeId());
        stash.sweepUncaptured();
        String[] last = sink.lastSession();
        JoinStash.Outcome o = stash.restore(last == null ? "network" : last[1]);
        return o.total() == 0 ? null : o.toString();
    }

    /** How often tombstones every mirror has applied are purged from mirror.row_version. */
    static final long TOMBSTONE_PURGE_INTERVAL_SECONDS = 60;

    private MirrorNode(MirrorConfig config, SequenceKeeper sequences, ChangeSetApplier applier,
                       JGroupsPeerTransport transport, DebeziumCapture capture,
                       java.util.function.Supplier<DebeziumCapture> newCapture, CaptureVersioner versioner,
                       ConflictLogReader conflicts, JoinSource joinSource, JoinSink joinSink,
                       ForeignKeyValidation validation, DataOrigin dataOrigin, FileSync files,
                       org.activemirroring.mirror.dashboard.LocalFacts facts) {
        this.files = files;
        this.facts = facts;
        this.dataOrigin = dataOrigin;
        this.validation = validation;
        this.joinSource = joinSource;
        this.joinSink = joinSink;
        this.config = config;
        this.sequences = sequences;
        this.slotMonitor = new SlotMonitor(config.capture(), config.nodeId());
        this.applier = applier;
        this.transport = transport;
        this.capture = capture;
        this.newCapture = newCapture;
        this.versioner = versioner;
        this.conflicts = conflicts;
        this.maintenance = Executors.newSingleThreadScheduledExecutor(
                LogContext.threads(config.nodeId(), "am-maintenance-" + config.nodeId(), false));
        maintenance.scheduleWithFixedDelay(this::purgeTombstones, TOMBSTONE_PURGE_INTERVAL_SECONDS,
                TOMBSTONE_PURGE_INTERVAL_SECONDS, TimeUnit.SECONDS);
        maintenance.scheduleWithFixedDelay(joinSource::expireIdle, 60, 60, TimeUnit.SECONDS);
        maintenance.scheduleWithFixedDelay(this::retryParked, 1, 1, TimeUnit.SECONDS);
        maintenance.scheduleWithFixedDelay(this::restartCaptureIfStopped, 1, 1, TimeUnit.SECONDS);
        maintenance.scheduleWithFixedDelay(this::findHeldOutTables, HELD_OUT_CHECK_SECONDS, HELD_OUT_CHECK_SECONDS,
                TimeUnit.SECONDS);
    }

    /**
     * Applies parked changes that waited for a schema (and those behind them) once a schema change
     * arrived, or every {@link #PARKED_RETRY_MILLIS} (the mirror's own migration may have added
     * what they need).
     */
    private void retryParked() {
        try {
            int applied = applier.retryParkedIfDue(PARKED_RETRY_MILLIS);
            if (applied > 0) {
                LOG.info("Applied {} parked change(s); {} still parked", applied,
                        applier.parkedNow().count());
            }
        } catch (ApplyException | RuntimeException e) {
            LOG.debug("Retrying parked changes failed, trying again later: {}", e.toString());
        }
    }

    static final long CAPTURE_RESTART_MIN_MS = 1_000;
    static final long CAPTURE_RESTART_MAX_MS = 60_000;

    /**
     * Starts capture again when it stopped on an error (Debezium's connection lost for good, a
     * change event it could not take): 1 s after it stopped, then with a wait doubling up to 60 s
     * while starts keep failing. It resumes from the last position whose changes are journaled, so
     * nothing is lost or sent twice; meanwhile the mirror is not ready and status says why. A
     * start re-reads the tables (those that cannot be mirrored are held out then).
     */
    void restartCaptureIfStopped() {
        DebeziumCapture current = capture;
        if (closed || current.isRunning() || current.failure() == null) {
            return;
        }
        long now = System.currentTimeMillis();
        if (nextCaptureRestart == 0) {
            nextCaptureRestart = now + captureBackoffMs;
        }
        if (now < nextCaptureRestart) {
            return;
        }
        captureRestarts++;
        LOG.warn("Capture stopped ({}); starting it again (restart {})",
                current.failure().getMessage(), captureRestarts);
        closeQuietly(current, "stopped capture");
        DebeziumCapture fresh = newCapture.get();
        try {
            fresh.holdPublishing(publishingHeld);
            fresh.start();
            capture = fresh;
            captureBackoffMs = CAPTURE_RESTART_MIN_MS;
            nextCaptureRestart = 0;
            LOG.info("Capture runs again after restart {}", captureRestarts);
        } catch (Exception e) {
            closeQuietly(fresh, "capture that did not start");
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
                return;
            }
            captureBackoffMs = Math.min(captureBackoffMs * 2, CAPTURE_RESTART_MAX_MS);
            nextCaptureRestart = System.currentTimeMillis() + captureBackoffMs;
            LOG.warn("Capture did not start again ({}); next try in {} ms", e.getMessage(),
                    captureBackoffMs);
        }
    }

    /** How often capture was started again after it stopped on an error, since the node started. */
    int captureRestarts() {
        return captureRestarts;
    }

    /** Tables created or changed since start that cannot be mirrored show on status within this. */
    static final long HELD_OUT_CHECK_SECONDS = 10;

    private void findHeldOutTables() {
        try {
            capture.findHeldOutTables();
        } catch (SQLException | RuntimeException e) {
            LOG.debug("Looking for tables that cannot be mirrored failed, trying again later: {}", e.toString());
        }
    }

    /** Whether tables are held out of mirroring here (health says so). */
    public boolean hasHeldOutTables() {
        return !capture.heldOut().isEmpty();
    }

    /** The parked changes, oldest first (at most {@code limit}). */
    public List<ParkedChanges.Parked> parkedChanges(int limit) throws ApplyException {
        return applier.parkedChanges(limit);
    }

    /** Retries parked changes on the operator's request: one (by id) or all, failed ones included. */
    public int retryParked(Long id) throws ApplyException {
        return applier.retryParked(true, id);
    }

    /** Drops a parked change on the operator's request; false if there is none with that id. */
    public boolean discardParked(long id) throws ApplyException {
        return applier.discardParked(id);
    }

    /**
     * Purges tombstones that every mirror this node knows of (members now, and every origin it
     * ever applied) has applied. Returns how many went.
     */
    int purgeTombstones() {
        try {
            Set<String> mirrors = new TreeSet<>(transport.members());
            mirrors.addAll(applier.appliedNow().keySet());
            mirrors.add(nodeId());
            int removed = applier.purgeTombstones(mirrors);
            if (removed > 0) {
                LOG.info("Purged {} tombstones every mirror has applied", removed);
            }
            return removed;
        } catch (ApplyException | RuntimeException e) {
            LOG.warn("Purging tombstones failed, trying again later: {}", e.getMessage());
            return 0;
        }
    }

    /**
     * Starts a mirror. When this returns the node replicates in both directions.
     *
     * @throws MirrorStartException saying which part failed and what to do
     */
    public static MirrorNode start(MirrorConfig config) {
        return start(config, phase -> { });
    }

    /**
     * Starts a mirror; a new, empty one first joins (copies a peer's data), which can take long.
     * When this returns the node replicates in both directions.
     *
     * @param progress told what the start is doing while it takes long (a join's progress)
     * @throws MirrorStartException saying which part failed and what to do
     */
    public static MirrorNode start(MirrorConfig config, java.util.function.Consumer<String> progress) {
        try (LogContext.Scope ignored = LogContext.scoped(config.nodeId())) {
            return startNode(config, progress);
        }
    }

    private static MirrorNode startNode(MirrorConfig config, java.util.function.Consumer<String> reported) {
        java.util.concurrent.atomic.AtomicReference<String> phase = new java.util.concurrent.atomic.AtomicReference<>(
                "starting");
        java.util.function.Consumer<String> progress = p -> {
            phase.set(p);
            reported.accept(p);
        };
        List<AutoCloseable> started = new ArrayList<>();
        String node = config.nodeId();
        try {
            // Before anything touches the database: a role lacking a grant hears which, and how.
            PrivilegeCheck.check(config.capture());
            PostgresDialect dialect = new PostgresDialect();
            JGroupsPeerTransport transport = new JGroupsPeerTransport(config.transport());
            started.add(transport);
            // Replicated folders: their request handlers are registered before the transport connects.
            java.util.concurrent.atomic.AtomicReference<ChangeSetApplier> applierRef =
                    new java.util.concurrent.atomic.AtomicReference<>();
            FileSync files = FileSync.create(config.folders(), config.dataDir(), node, transport, () -> {
                ChangeSetApplier a = applierRef.get();
                return a == null ? Map.of() : a.appliedNow();
            }, config.fileSync());
            started.add(files);
            // Serving joins: registered before the transport connects, answered once the node is ready.
            PostgresSchemaCopy schemaCopy = new PostgresSchemaCopy();
            PostgresBulkCopy bulkCopy = new PostgresBulkCopy();
            JoinSink sink = new JoinSink(config.capture(), dialect, schemaCopy, bulkCopy, new PostgresRowStash(), node);
            java.util.concurrent.atomic.AtomicReference<MirrorNode> self = new java.util.concurrent.atomic.AtomicReference<>();
            Joining joining = new Joining(config, transport, sink, progress,
                    () -> transport.stats().journalHeads().getOrDefault(node, 0L));
            JoinSource joinSource = new JoinSource(config.capture(), dialect, schemaCopy, bulkCopy, node,
                    () -> transport.stats().journalHeads().getOrDefault(node, 0L),
                    () -> {
                        MirrorNode n = self.get();
                        return joining.hello(n != null && n.isReady());
                    });
            started.add(joinSource);
            transport.registerRequestHandler(JoinWire.KIND, joinSource);
            // What the dashboards of the other mirrors ask this one, answered from the first moment.
            org.activemirroring.mirror.dashboard.LocalFacts facts = new org.activemirroring.mirror.dashboard.LocalFacts(
                    node, config.capture(), transport, self::get, phase::get);
            transport.registerRequestHandler(org.activemirroring.mirror.dashboard.LocalFacts.KIND, facts);
            joining.ensureComplete();
            if (joining.copiedThisStart()) {
                files.forgetSynced(); // the folders are copied again too, after the database
            }

            SequenceKeeper sequences = SequenceKeeper.start(config.capture(), node, new PostgresSequences());
            started.add(sequences);

            // One clock per node, shared by applier (witnesses peers' clocks) and capture (stamps
            // local writes), so a local write is newer than every change applied before it.
            HybridClock clock = new HybridClock(Clock.systemUTC());
            ChangeSetApplier applier = new ChangeSetApplier(config.capture(), dialect, node, clock);
            // Under the transport, a backlog (catch-up, bursts) is applied several ChangeSets per
            // database transaction, committed when the transport flushes.
            applier.groupDeliveries(true);
            applier.register(files.receiver());
            applierRef.set(applier);
            Map<String, Long> horizon = sink.replayHorizon();
            applier.replayHorizon(horizon);
            started.add(applier);
            Map<String, Long> applied = applier.appliedVector();

            // History loss found while this start still waits for catch-up ends the wait, and
            // reaches the node once it exists.
            java.util.concurrent.CompletableFuture<MirrorNode> built = new java.util.concurrent.CompletableFuture<>();
            java.util.concurrent.atomic.AtomicBoolean lost = new java.util.concurrent.atomic.AtomicBoolean();
            transport.onHistoryLost((origin, from, firsts) -> {
                lost.set(true);
                built.thenAccept(n -> n.historyLost(origin, from, firsts));
            });
            transport.start(applier, applied);
            awaitStartCatchUp(config, transport, progress, lost::get);

            CaptureVersioner versioner = new CaptureVersioner(config.capture(), dialect, node, clock,
                    applier::appliedNow);
            java.util.function.Supplier<DebeziumCapture> newCapture = () -> new DebeziumCapture(config.capture(), node,
                    config.dataDir(), transport, EchoPolicy.forDialect(dialect), dialect, versioner);
            DebeziumCapture capture = newCapture.get();
            started.add(capture);
            capture.start();
            files.start();
            // Rows the site wrote before a join go back now that capture sends them on.
            String restored = restoreStash(config, dialect, sink);

            ForeignKeyValidation validation = ForeignKeyValidation.start(sink, node, () -> horizon.entrySet().stream()
                    .allMatch(h -> applier.appliedNow().getOrDefault(h.getKey(), 0L) >= h.getValue()));
            started.add(validation);

            LOG.info("This mirror is replicating; members {}", transport.members());
            MirrorNode n = new MirrorNode(config, sequences, applier, transport, capture, newCapture, versioner,
                    new ConflictLogReader(config.capture(), dialect), joinSource, sink, validation,
                    new DataOrigin(joining.dataSource(), joining.warning(), restored), files, facts);
            self.set(n);
            built.complete(n);
            return n;
        } catch (Exception e) {
            for (int i = started.size() - 1; i >= 0; i--) {
                try {
                    started.get(i).close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new MirrorStartException("Mirror '" + node + "' could not start: " + e.getMessage(), e);
        }
    }

    /**
     * Applies what this mirror missed while it was away before capture starts and before it
     * serves: its JVM is cold, and the capture engine's start-up would compete with the backlog
     * for the same CPU (a restarted mirror is caught up sooner this way), and a mirror that serves
     * pages 60 s out of date is worse than one that answers 503 for a few seconds while its peers
     * serve. Gives up after {@link MirrorConfig#START_CATCHUP_MAX_MS}, when delivery stops, or
     * when catch-up finds history lost (the node then copies its data again).
     */
    private static void awaitStartCatchUp(MirrorConfig config, JGroupsPeerTransport transport,
                                          java.util.function.Consumer<String> progress,
                                          java.util.function.BooleanSupplier historyLost) throws InterruptedException {
        long maxMs = config.startCatchUpMaxMs();
        if (maxMs == 0) {
            return;
        }
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(maxMs);
        long nextReport = start + TimeUnit.SECONDS.toNanos(1);
        Map<String, Long> first = null;
        Map<String, Long> behind = transport.behindStart();
        while (behind == null || !behind.isEmpty()) {
            if (first == null && behind != null) {
                first = behind;
            }
            long now = System.nanoTime();
            boolean stoppedForGood = !transport.isDelivering() && transport.deliveryStatus().downSince() == null;
            if (historyLost.getAsBoolean() || stoppedForGood) {
                return; // the node goes on and reports it (copying again, or delivery stopped); a
                        // delivery that restarts itself after an error is waited for, up to the limit
            }
            if (now - deadline >= 0) {
                LOG.warn("This mirror starts capturing and serving before it caught up: still behind {} after {} ms"
                        + " ({} is the limit); it catches up meanwhile", behind == null
                        ? "(its peers did not say how far they are)" : "by " + behind, maxMs,
                        MirrorConfig.START_CATCHUP_MAX_MS.key());
                return;
            }
            if (now - nextReport >= 0) {
                progress.accept(behind == null ? "catching up: asking peers how far they are"
                        : "catching up: " + behind.values().stream().mapToLong(Long::longValue).sum()
                                + " ChangeSet(s) to go " + behind);
                nextReport = now + TimeUnit.SECONDS.toNanos(1);
            }
            Thread.sleep(5);
            behind = transport.behindStart();
        }
        if (first != null && !first.isEmpty()) {
            LOG.info("This mirror applied what it missed ({} ChangeSet(s), {}) in {} ms before starting capture",
                    first.values().stream().mapToLong(Long::longValue).sum(), first.keySet(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        }
    }

    public String nodeId() {
        return config.nodeId();
    }

    /**
     * Whether foreign keys a join added {@code NOT VALID} are being validated (the mirror serves
     * meanwhile; see {@link org.activemirroring.join.JoinSink#validateNext}).
     */
    public boolean validatingForeignKeys() {
        return !validation.finished();
    }

    /**
     * True while the node replicates: not closed, sequences aligned at least once, capture
     * running, remote changes being delivered (not while delivery is down after an unexpected
     * error: it restarts by itself, and the node is ready again once it runs).
     */
    public boolean isReady() {
        return !closed && rejoinReason == null && sequences.asserted() && capture.isRunning() && transport.isDelivering()
                && files.synced();
    }

    /** How long a mirror about to copy its data again waits for capture to publish its last writes. */
    static final long REJOIN_DRAIN_MS = 60_000;

    /**
     * Catch-up found that changes this mirror needs are gone from every reachable journal. It
     * stops serving (not ready), waits until capture has published its own last writes (so peers
     * get them before its tables are emptied), records that it must copy its data again, and asks
     * to be restarted ({@link #restartRequested}); the next start empties the mirrored tables and
     * joins from a peer that applied all of this mirror's changes.
     */
    void historyLost(String origin, long from, Map<String, Long> firstHeld) {
        if (rejoinReason != null || closed) {
            return;
        }
        String reason = "changes " + origin + "#" + from + ".. are gone from every reachable mirror's journal (they"
                + " start at " + firstHeld + "); this mirror was away longer than the journals keep history";
        rejoinReason = reason;
        LOG.warn("{}. It stops serving and copies its whole database again from a peer.", reason);
        try {
            maintenance.execute(() -> {
                try {
                    if (!slotMonitor.awaitCaughtUp(REJOIN_DRAIN_MS)) {
                        LOG.warn("Capture did not confirm its last writes within {} ms; going on",
                                REJOIN_DRAIN_MS);
                    }
                    joinSink.markRejoin(reason);
                    restartRequested = true;
                } catch (Exception e) {
                    LOG.error("Cannot prepare copying its data again: {}; restart it", e.toString());
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing
        }
    }

    /** True when this mirror must be closed and started again (it copies its data again then). */
    public boolean restartRequested() {
        return restartRequested;
    }

    /** A consistent-enough snapshot for the status page (each part read once). */
    public NodeStatus status() {
        TransportStats t = transport.stats();
        String problem = closed ? "stopped" : rejoinReason != null ? "copying the data again: " + rejoinReason : null;
        if (problem == null && !capture.isRunning()) {
            Throwable failure = capture.failure();
            problem = "capture stopped: " + (failure == null ? "unknown reason" : failure.getMessage())
                    + (failure == null || closed ? "" : "; it starts again by itself (restarts so far: " + captureRestarts
                    + ", the wait doubles up to 60 s while starts fail)");
        }
        DeliveryStatus delivery = transport.deliveryStatus();
        if (problem == null && !delivery.running()) {
            problem = deliveryProblem(delivery);
        }
        if (problem == null && !files.synced()) {
            problem = "copying the replicated folders' index from another mirror (a new mirror, or a folder new to"
                    + " this one); the log says why if it waits";
        }
        Map<String, Long> applied;
        try {
            applied = applier.appliedVector();
        } catch (ApplyException e) {
            applied = Map.of();
            problem = "cannot read the applied vector from the site database: " + e.getMessage();
        }
        Map<String, NodeStatus.OriginStatus> origins = new TreeMap<>();
        for (Map.Entry<String, Long> head : t.journalHeads().entrySet()) {
            if (head.getKey().equals(nodeId())) {
                continue;
            }
            long a = applied.getOrDefault(head.getKey(), 0L);
            origins.put(head.getKey(), new NodeStatus.OriginStatus(head.getValue(), a, Math.max(0, head.getValue() - a)));
        }
        for (Map.Entry<String, Long> a : applied.entrySet()) {
            origins.putIfAbsent(a.getKey(), new NodeStatus.OriginStatus(a.getValue(), a.getValue(), 0));
        }
        List<String> members = new ArrayList<>(t.members());
        members.sort(null);
        long conflictCount = -1;
        try {
            conflictCount = conflicts.count();
        } catch (SQLException e) {
            LOG.debug("Cannot count the conflict log: {}", e.toString());
        }
        return new NodeStatus(nodeId(), isReady() && problem == null, members, origins, t.originated(),
                t.journalHeads().getOrDefault(nodeId(), 0L), capture.stats(), applier.stats(), delivery,
                sequences.stats(),
                new NodeStatus.ConflictStatus(conflictCount, applier.stats().conflicts(), versioner.repairs()),
                slotStatus(), validatingForeignKeys(), dataOrigin, degraded(delivery), capture.heldOut().snapshot(),
                files.status(), problem);
    }

    /** What is held back although this mirror serves, or null (see {@link NodeStatus#degraded}). */
    public String degraded() {
        return degraded(transport.deliveryStatus());
    }

    private String degraded(DeliveryStatus d) {
        List<String> what = new ArrayList<>();
        if (d.heldBack() != null) {
            what.add("a change of another mirror cannot be applied here since " + d.heldSince()
                    + " and is retried with backoff; that mirror's later changes wait behind it: " + d.heldBack());
        }
        Map<String, String> heldOut = capture.heldOut().snapshot();
        if (!heldOut.isEmpty()) {
            what.add(heldOut.size() + " table(s) held out of mirroring, each keeping what this mirror's site writes: "
                    + String.join(", ", heldOut.keySet()) + " (see heldOut for why)");
        }
        ParkedChanges.Summary p = applier.parkedNow();
        if (p.count() > 0) {
            what.add(p.count() + " change(s) of other mirrors parked since " + p.since() + " ("
                    + (p.failed() > 0 ? p.failed() + " failed for good: retry or discard them at " + PARKED_PATH
                    : "waiting for a schema change or behind one") + "); changes of their tables wait behind them;"
                    + " oldest: " + p.first());
        }
        return what.isEmpty() ? null : String.join("; ", what);
    }

    /** How delivery of other mirrors' changes goes (held back, down). */
    public DeliveryStatus deliveryStatus() {
        return transport.deliveryStatus();
    }

    /** What is parked here now (for metrics). */
    public ParkedChanges.Summary parkedNow() {
        return applier.parkedNow();
    }

    /** The transport's counters: members, journal heads, refused envelopes (for metrics). */
    public TransportStats transportStats() {
        return transport.stats();
    }

    /** Bytes the journal holds per origin (for metrics). */
    public Map<String, Long> journalBytes() {
        return transport.journalBytes();
    }

    /** Whether changes of other mirrors are parked here (health says so). */
    public boolean hasParked() {
        return applier.parkedNow().count() > 0;
    }

    /** Why other mirrors' changes are not applied here, and what happens next. */
    static String deliveryProblem(DeliveryStatus d) {
        if (d.downSince() == null) {
            return "delivery of other mirrors' changes stopped; the log says why; restart this mirror";
        }
        return "delivery of other mirrors' changes is down since " + d.downSince() + " after an unexpected error: "
                + d.lastError() + "; it restarts by itself" + (d.nextRestart() == null ? " now" : " at " + d.nextRestart())
                + " (restarts so far: " + d.restarts() + "; the wait doubles while it keeps failing). If it keeps"
                + " failing, that error needs fixing; the log has its stack trace";
    }

    private SlotMonitor.SlotStatus slotStatus() {
        try {
            SlotMonitor.SlotStatus s = slotMonitor.status();
            if (s.warning() != null) {
                LOG.warn("{}", s.warning());
            }
            return s;
        } catch (SQLException e) {
            LOG.debug("Cannot read the replication slot's state: {}", e.toString());
            return null;
        }
    }

    /** Holds or resumes applying peers' changes ({@link ChangeSetApplier#hold}). */
    public void holdApply(boolean hold) {
        applier.hold(hold);
    }

    /** For tests of the fallback without commit timestamps ({@link ChangeSetApplier#useCommitTimestamps}). */
    void useCommitTimestamps(boolean use) throws ApplyException {
        applier.useCommitTimestamps(use);
    }

    /** Fault injection for tests: holds or resumes publishing local transactions. */
    void holdCapture(boolean hold) {
        publishingHeld = hold;
        capture.holdPublishing(hold);
    }

    /** Fault injection for tests: the transport, to cut and heal the network. */
    JGroupsPeerTransport transport() {
        return transport;
    }

    /**
     * Opens a file of a replicated folder for reading; one whose version is known but has not
     * arrived here yet is fetched first, waiting at most {@code maxWait} ({@link FileSync#open}).
     */
    public java.nio.file.Path openFile(String folder, String path, java.time.Duration maxWait)
            throws java.io.IOException, InterruptedException {
        return files.open(folder, path, maxWait);
    }

    /** The replicated folders of this mirror. */
    FileSync files() {
        return files;
    }

    /** This mirror's conflict log, newest first (see {@link ConflictLogReader#recent}). */
    public List<Conflict> conflicts(int limit, long beforeId) throws SQLException {
        return conflicts.recent(limit, beforeId);
    }

    /**
     * Watches ChangeSets pass through this node's stages (journaled, sent, received, applied), for
     * benchmarks and metrics. Either argument may be null to stop watching that side.
     */
    public void observe(TransportObserver transportObserver, ApplyObserver applyObserver) {
        transport.observe(transportObserver);
        applier.observe(applyObserver);
    }

    /** Highest sequence number of this node's own journal: how many ChangeSets it ever originated. */
    public long ownJournalHead() {
        return transport.stats().journalHeads().getOrDefault(nodeId(), 0L);
    }

    /**
     * Waits until capture has published every transaction of this mirror's database that
     * committed before log position {@code lsn} ({@link org.activemirroring.capture.CapturePosition});
     * false when {@code timeoutMs} passed first. For read-your-writes.
     */
    public boolean awaitCaptured(long lsn, long timeoutMs) throws InterruptedException {
        return capture.position().awaitPassed(lsn, timeoutMs, TimeUnit.MILLISECONDS);
    }

    /** The highest sequence number of {@code origin} applied here (in memory, no database read). */
    public long applied(String origin) {
        return applier.appliedNow().getOrDefault(origin, 0L);
    }

    /**
     * Adds a listener told each time the applied vector moved (on the delivery thread: fast, never
     * throwing); read-your-writes wakes its waiting requests with it.
     */
    public void onApplyProgress(Runnable listener) {
        applier.onProgress(listener);
    }

    /** Removes a listener of {@link #onApplyProgress}. */
    public void removeApplyProgress(Runnable listener) {
        applier.removeProgressListener(listener);
    }

    /** The applied vector as stored in the site database. */
    /** The applied vector as the applier holds it in memory (no database read). */
    public Map<String, Long> appliedNow() {
        return applier.appliedNow();
    }

    /** This mirror's facts for the dashboard, and the way to ask the other mirrors for theirs. */
    public org.activemirroring.mirror.dashboard.LocalFacts facts() {
        return facts;
    }

    public Map<String, Long> appliedVector() throws ApplyException {
        return applier.appliedVector();
    }

    /** Stops capture, then the transport, then the applier, then the sequence check. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        try (LogContext.Scope ignored = LogContext.scoped(nodeId())) {
            stop();
        }
    }

    private void stop() {
        closed = true;
        maintenance.shutdownNow();
        try {
            maintenance.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(validation, "foreign key validation");
        closeQuietly(capture, "capture");
        closeQuietly(files, "replicated folders");
        closeQuietly(joinSource, "join sessions");
        closeQuietly(transport, "transport");
        closeQuietly(applier, "applier");
        closeQuietly(sequences, "sequence check");
        LOG.info("This mirror stopped");
    }

    private void closeQuietly(AutoCloseable part, String what) {
        try {
            part.close();
        } catch (Exception e) {
            LOG.warn("Stopping the {} failed: {}", what, e.toString());
        }
    }

}
