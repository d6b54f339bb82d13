package org.activemirroring.capture;

import java.sql.SQLException;
import java.sql.Connection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.change.HybridClock;
import org.activemirroring.change.RowChange;
import org.activemirroring.db.CaptureSource;
import org.activemirroring.db.Dialect;
import org.activemirroring.schema.MirroredTables;
import org.activemirroring.transport.Envelope;
import org.activemirroring.transport.PeerTransport;
import org.activemirroring.transport.TransportException;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.activemirroring.schema.HeldOutTables;

/**
 * Captures this mirror's committed transactions from its database with the Debezium embedded
 * engine and publishes each as one {@link ChangeSet} through the {@link PeerTransport}. What is
 * specific to the database (its connector's settings, the preflight, bookkeeping, schema-change
 * capture) comes from the dialect's {@link CaptureSource}.
 *
 * <p>Offsets (in {@code <dataDir>/capture/offsets.dat}) advance only after the transport has
 * journaled a transaction, so a crash re-delivers, never loses; re-delivered transactions are
 * recognised by their source txId among this node's recent journal entries and not published
 * twice. Changes written by our own applier are dropped by the {@link EchoPolicy}.
 *
 * <p>Lifecycle: {@link #start()} once, then {@link #close()}. The engine runs on its own thread
 * {@code am-capture-<node>}.
 */
public final class DebeziumCapture implements AutoCloseable {
    /** Set at start: whether the server drops changes with a replication origin (see properties()). */
    private boolean filterOriginsOnServer;
    /** Set at start: key columns of the tables identified by a unique index, not a primary key (see properties()). */
    private Map<String, List<String>> indexKeyColumns = Map.of();

    private static final Logger LOG = LoggerFactory.getLogger(DebeziumCapture.class);

    /** How many of this node's newest journal entries are read at start to recognise replays. */
    static final int REPLAY_WINDOW = TransactionAssembler.REPLAY_MEMORY;
    private static final long START_TIMEOUT_SECONDS = 120;
    /** Debezium's fully-qualified type names (database.schema.table.type) of numeric columns. */
    static final String NUMERIC_TYPES = "(?i).+\\.numeric";
    private static final long MAX_BACKOFF_MS = 5_000;

    private final CaptureConfig config;
    private final Dialect dialect;
    private final CaptureSource source;
    private final String nodeId;
    private final Path offsetsFile;
    private final String topicPrefix;
    private final PeerTransport transport;
    private final EchoPolicy echoPolicy;
    private final CaptureVersioner versioner;
    private final ChangeSetCodec codec = new ChangeSetCodec();
    /** Tables that cannot be mirrored (no key, a type capture cannot carry): never published. */
    private final HeldOutTables heldOut;
    private final CompletableFuture<Void> started = new CompletableFuture<>();
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();

    private volatile boolean closing;
    private volatile boolean held;
    private volatile Throwable failure;
    private volatile TransactionAssembler assembler;
    private DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private Thread thread;

    /**
     * @param config     database, slot and publication settings
     * @param nodeId     this mirror's id; names the thread and, by default, the replication slot
     * @param dataDir    this mirror's data directory; offsets go to {@code capture/offsets.dat} in it
     * @param transport  where ChangeSets are published; also asked for this node's journal tail at start
     * @param echoPolicy recognises the applier's writes
     * @param dialect    the database: its {@link Dialect#captureSource()} and catalog
     */
    public DebeziumCapture(CaptureConfig config, String nodeId, Path dataDir, PeerTransport transport,
                           EchoPolicy echoPolicy, Dialect dialect) {
        this(config, nodeId, dataDir, transport, echoPolicy, dialect, new CaptureVersioner(config, dialect, nodeId,
                new HybridClock(Clock.systemUTC()), Map::of));
    }

    /**
     * @param versioner stamps each transaction with its clock, dependencies and row versions
     *                  before it is published; closed with this capture
     */
    public DebeziumCapture(CaptureConfig config, String nodeId, Path dataDir, PeerTransport transport,
                           EchoPolicy echoPolicy, Dialect dialect, CaptureVersioner versioner) {
        this.versioner = versioner;
        this.config = config;
        this.dialect = dialect;
        this.source = dialect.captureSource();
        this.nodeId = nodeId;
        this.offsetsFile = dataDir.resolve("capture").resolve("offsets.dat");
        // Topics never leave this process, but Debezium names its JMX metrics after the prefix: a
        // fixed prefix makes a second engine in the same JVM (two nodes in one test or one
        // Tomcat) wait for the first one's MBeans and then fail. One prefix per node.
        this.topicPrefix = "am-" + nodeId;
        this.transport = transport;
        this.echoPolicy = echoPolicy;
        this.heldOut = new HeldOutTables(nodeId, this::leavePublication);
    }

    /**
     * Starts the engine and returns once its connector task runs (slot and publication exist, so
     * every transaction committed from now on will be captured).
     *
     * @throws CaptureException with Debezium's reason when the engine cannot start, or when the
     *                          journal cannot be read
     */
    public synchronized void start() throws CaptureException, InterruptedException {
        if (engine != null) {
            throw new IllegalStateException("capture already started");
        }
        CaptureSource.Preflight preflight = source.preflight(config);
        heldOut.start(preflight.heldOut());
        for (String table : preflight.heldOut().keySet()) {
            leavePublication(table); // held out since the last start
        }
        createBookkeeping();
        Set<String> fullIdentity = preflight.fullIdentity();
        filterOriginsOnServer = config.originFilter() && preflight.serverFiltersOrigins();
        indexKeyColumns = preflight.keyColumns();
        List<Long> known = knownTxIds();
        assembler = new TransactionAssembler(nodeId, topicPrefix + ".transaction", echoPolicy,
                new RowChangeConverter(new ValueEncoder(), fullIdentity, indexKeyColumns), this::publishWithRetry, known, Clock.systemUTC(),
                heldOut, source.heartbeatTable(), source.eventFields());
        try {
            Files.createDirectories(offsetsFile.getParent());
        } catch (IOException e) {
            throw new CaptureException("Cannot create the capture directory " + offsetsFile.getParent() + ": " + e
                    + "; check that mirror.data.dir is writable", e);
        }
        // Connect format, not Json: the consumer gets SourceRecord + Struct with their Connect
        // schemas, so Debezium's semantic types (io.debezium.time.MicroTimestamp, ...) are known
        // and values need no JSON round trip.
        engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(properties())
                .using(DebeziumCapture.class.getClassLoader())
                .using(new DebeziumEngine.ConnectorCallback() {
                    @Override
                    public void taskStarted() {
                        org.activemirroring.logging.LogContext.enter(nodeId);
                        started.complete(null);
                    }
                })
                .using((success, message, error) -> {
                    org.activemirroring.logging.LogContext.enter(nodeId);
                    // Stopped first: start() closes on failure and must see the engine as stopped.
                    stopped.complete(null);
                    if (!success) {
                        failure = error != null ? error : new IllegalStateException(message);
                        // Before start() returned, start() throws it; afterwards nobody else reports it.
                        if (started.isDone() && !closing) {
                            LOG.error("Capture stopped: {}", explain(message, error), error);
                        }
                    }
                    started.completeExceptionally(new CaptureException(explain(message, error), error));
                })
                .notifying(assembler)
                .build();
        thread = org.activemirroring.logging.LogContext.thread(nodeId, "am-capture-" + nodeId, engine);
        thread.start();
        try {
            started.get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            close();
            if (e.getCause() instanceof CaptureException ce) {
                throw ce;
            }
            throw new CaptureException("Capture could not start: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            close();
            throw new CaptureException("Capture did not start within " + START_TIMEOUT_SECONDS
                    + " s; check that the database at " + config.dbUrl() + " is reachable", e);
        }
        markFirstStart();
        LOG.info("Capture started: slot {}, publication {}, {} recent own transactions known",
                config.slotName(nodeId), config.publication(), known.size());
    }

    /**
     * The bookkeeping tables (heartbeats, row versions) exist before the engine uses them, and
     * schema changes are captured.
     */
    private void createBookkeeping() throws CaptureException {
        String warning = source.prepare(config);
        if (warning != null) {
            LOG.warn("Capture: {}", warning);
        }
    }

    /**
     * On this node's very first capture start, records "stamped up to now" in
     * {@code mirror.capture_progress}: rows committed before capture existed (the site's data
     * from before mirroring) will never be captured, and must not look like local writes waiting
     * for capture to the applier. On later starts the recorded position stays: what the site
     * wrote while the node was down is still to be captured.
     */
    private void markFirstStart() throws CaptureException {
        try (java.sql.Connection c = config.connect()) {
            source.markFirstStart(c, nodeId);
        } catch (java.sql.SQLException e) {
            close();
            throw new CaptureException("Cannot record capture's start in mirror.capture_progress: " + e.getMessage(), e);
        }
    }

    /** Counters since start; zeros before. */
    public CaptureStats stats() {
        TransactionAssembler a = assembler;
        return a == null ? new CaptureStats(0, 0, 0, 0, null) : a.stats();
    }

    /** True from a successful {@link #start()} until the engine stops, by {@link #close()} or by an error. */
    public boolean isRunning() {
        return started.isDone() && !started.isCompletedExceptionally() && !stopped.isDone();
    }

    /** The error that stopped the engine after it started, or null while it runs or after a clean stop. */
    public Throwable failure() {
        return failure;
    }

    /** Stops the engine (dropping the slot if so configured) and waits for its thread. Idempotent. */
    @Override
    public synchronized void close() {
        closing = true;
        if (engine == null) {
            return;
        }
        // An engine that stopped on its own (start failure, error) refuses a second close.
        if (!stopped.isDone()) {
            try {
                engine.close();
            } catch (IOException | IllegalStateException e) {
                LOG.warn("Stopping capture failed: {}", e.toString());
            }
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(60));
            if (thread.isAlive()) {
                LOG.warn("Capture thread {} did not stop within 60 s", thread.getName());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        engine = null;
        versioner.close();
    }

    Properties properties() {
        Properties p = new Properties();
        p.setProperty("name", "am-capture-" + nodeId);
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
        p.setProperty("offset.storage.file.filename", offsetsFile.toString());
        p.setProperty("offset.flush.interval.ms", Integer.toString(config.offsetFlushIntervalMs()));
        p.setProperty("topic.prefix", topicPrefix);
        MirroredTables mirrored = MirroredTables.configured(config);
        List<String> excluded = new ArrayList<>(mirrored.excluded());
        excluded.addAll(heldOut.snapshot().keySet());
        // Connector, database, slot, table filters, converters, heartbeat action, origin filter.
        source.addConnectorProperties(p, config, nodeId, mirrored.schemas(), excluded, filterOriginsOnServer);
        // The mirror copies data itself when a node joins; capture starts at "now".
        p.setProperty("snapshot.mode", "no_data");
        p.setProperty("poll.interval.ms", Integer.toString(config.pollIntervalMs()));
        p.setProperty("provide.transaction.metadata", "true");
        p.setProperty("tombstones.on.delete", "false");
        // Debezium skips truncates by default ("t"); they are mirrored (see TableTombstones).
        p.setProperty("skipped.operations", "none");
        // The value forms ValueEncoder expects.
        p.setProperty("decimal.handling.mode", "string");
        // Marks numeric columns with their type: Debezium spells numeric's infinities as
        // POSITIVE_INFINITY/NEGATIVE_INFINITY strings, which ValueEncoder must tell apart from text.
        p.setProperty("datatype.propagate.source.type", NUMERIC_TYPES);
        p.setProperty("interval.handling.mode", "string");
        p.setProperty("time.precision.mode", "adaptive_time_microseconds");
        p.setProperty("binary.handling.mode", "bytes");
        // Set explicitly because RowChangeConverter recognises unchanged TOASTed values by it.
        p.setProperty("unavailable.value.placeholder", RowChangeConverter.UNAVAILABLE);
        if (config.heartbeatIntervalMs() > 0) {
            // A quiet mirrored schema must not pin the log that other tables (or other databases of
            // the server) write: heartbeats make Debezium confirm the newest position it read (the
            // source's action query, if any, makes sure there is one).
            p.setProperty("heartbeat.interval.ms", Integer.toString(config.heartbeatIntervalMs()));
        }
        if (!indexKeyColumns.isEmpty()) {
            // Tables without a primary key: Debezium would send them without a record key. Their
            // unique index (the identity the preflight chose) keys them instead.
            p.setProperty("message.key.columns", messageKeyColumns(indexKeyColumns));
        }
        return p;
    }

    /**
     * Debezium's {@code message.key.columns}: {@code schema\.table:col1,col2;schema\.t2:c}. The
     * table part is a regular expression, like the include lists.
     */
    static String messageKeyColumns(Map<String, List<String>> keyColumns) {
        return keyColumns.entrySet().stream()
                .map(e -> regex(e.getKey()) + ":" + String.join(",", e.getValue()))
                .collect(Collectors.joining(";"));
    }

    /** Tables held out of mirroring, with why: see {@link HeldOutTables}. */
    public HeldOutTables heldOut() {
        return heldOut;
    }

    /**
     * Looks again for tables that cannot be mirrored (one created since start without a key, say)
     * and holds them out; returns how many are held out in all.
     */
    public int findHeldOutTables() throws SQLException {
        try (Connection c = config.connect()) {
            for (Map.Entry<String, String> e : MirroredTables.of(config, dialect.catalog()).heldOut(c).entrySet()) {
                heldOut.hold(e.getKey(), e.getValue());
            }
        }
        return heldOut.snapshot().size();
    }

    /**
     * Takes a held-out table out of the publication, if it is in it: its changes are no longer
     * decoded (see {@link CaptureSource#leavePublication}).
     */
    private void leavePublication(String table) {
        try (Connection c = config.connect()) {
            if (!source.leavePublication(c, config, table)) {
                return;
            }
            LOG.info("Took held-out table {} out of publication {}", table, config.publication());
        } catch (SQLException e) {
            LOG.warn("Could not take held-out table {} out of publication {} ({}); its changes are still"
                    + " decoded and dropped", table, config.publication(), e.getMessage());
        }
    }

    /** Debezium's include/exclude lists are regular expressions; names are matched literally. */
    private static String regex(String name) {
        return name.replace(".", "\\.");
    }

    private List<Long> knownTxIds() throws CaptureException {
        List<Envelope> tail;
        try {
            tail = transport.journalTail(nodeId, REPLAY_WINDOW);
        } catch (TransportException e) {
            throw new CaptureException("Cannot read this node's journal to recognise already published"
                    + " transactions: " + e.getMessage(), e);
        }
        List<Long> ids = new ArrayList<>(tail.size());
        for (Envelope env : tail) {
            if (ChangeSet.PAYLOAD_TYPE.equals(env.payloadType())) {
                ids.add(codec.sourceTxId(env.payload()));
            }
        }
        return ids;
    }

    /**
     * Publishes, retrying with backoff until it works: skipping would lose the transaction, and
     * offsets stay where they are meanwhile. Logs once per streak of failures.
     */
    /**
     * Holds (true) or resumes (false) publishing: while held, capture keeps the next transaction
     * it read and waits before stamping it. For fault-injection tests that need a local write to
     * stay uncaptured for a while.
     */
    /**
     * How far this capture has published in the database's log (see {@link CapturePosition}); a
     * position that never moves before {@link #start}.
     */
    public CapturePosition position() {
        TransactionAssembler a = assembler;
        return a == null ? new CapturePosition() : a.position();
    }

    public void holdPublishing(boolean hold) {
        held = hold;
    }

    private void publishWithRetry(List<ChangeSet> captured, List<long[]> rowLsns) throws InterruptedException {
        while (held && !closing) {
            TimeUnit.MILLISECONDS.sleep(5);
        }
        // Stamped in segments whose transactions touch disjoint rows, each published before the
        // next is stamped. Why: stamping stores each row's new version with the version it
        // replaced, one level deep. If two transactions of one stamp changed the same row and the
        // node died before publishing the first, the restarted capture re-stamps that first one
        // and finds the second's (never published) version stored: it sent that as "replaced",
        // so every peer logged the node's own earlier write as a lost conflict (CrashRecoveryIT).
        // With disjoint segments an unpublished transaction always finds its own stored version,
        // which keeps the right predecessor.
        for (int from = 0; from < captured.size(); ) {
            int to = disjointSegmentEnd(captured, from);
            publishSegmentWithRetry(captured.subList(from, to), rowLsns.subList(from, to));
            from = to;
        }
    }

    /**
     * The end (exclusive) of the longest run of ChangeSets from {@code from} on in which no row
     * is changed by two of them; at least one ChangeSet. Rows are compared by a hash of table and
     * key: a collision only ends a segment early, which is safe.
     */
    static int disjointSegmentEnd(List<ChangeSet> changeSets, int from) {
        if (changeSets.size() - from <= 1) {
            return changeSets.size();
        }
        java.util.Set<Long> seen = new java.util.HashSet<>();
        int i = from;
        for (; i < changeSets.size(); i++) {
            java.util.Set<Long> keys = new java.util.HashSet<>();
            boolean truncates = false;
            for (RowChange row : changeSets.get(i).rows()) {
                keys.add(rowHash(row));
                truncates |= row.op() == RowChange.Op.TRUNCATE;
            }
            if (truncates) {
                // A truncate touches every row of its table: it ends the segment, or is one alone.
                return i > from ? i : i + 1;
            }
            if (i > from && !java.util.Collections.disjoint(seen, keys)) {
                break;
            }
            seen.addAll(keys);
        }
        return i;
    }

    private static long rowHash(RowChange row) {
        return ((long) row.table().hashCode() << 32) ^ (row.key().values().toString().hashCode() & 0xffffffffL);
    }

    private void publishSegmentWithRetry(List<ChangeSet> captured, List<long[]> rowLsns) throws InterruptedException {
        List<ChangeSet> stamped = null;
        int next = 0;
        long backoff = 50;
        int attempts = 0;
        while (true) {
            if (closing) {
                throw new InterruptedException("capture is stopping; " + (captured.size() - next)
                        + " transaction(s) stay unpublished");
            }
            try {
                if (stamped == null) {
                    stamped = versioner.stamp(captured, rowLsns);
                }
                for (; next < stamped.size(); next++) {
                    ChangeSet cs = stamped.get(next);
                    Envelope sent = transport.publish(ChangeSet.PAYLOAD_TYPE, codec.encode(cs));
                    versioner.published(cs, sent.seq());
                }
                if (attempts > 0) {
                    LOG.info("Publishing worked after {} failed attempts", attempts);
                }
                return;
            } catch (TransportException | java.sql.SQLException e) {
                if (attempts++ == 0) {
                    LOG.warn("Cannot {} tx {} ({}); retrying with backoff until it works",
                            stamped == null ? "version" : "publish", captured.get(next).sourceTxId(), e.getMessage());
                }
            }
            TimeUnit.MILLISECONDS.sleep(backoff);
            backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
        }
    }

    /** Debezium's reason, with what to do for the common set-up mistakes. */
    String explain(String message, Throwable error) {
        // Debezium wraps the same message several times; keep each distinct one once.
        java.util.LinkedHashSet<String> parts = new java.util.LinkedHashSet<>();
        if (message != null) {
            parts.add(message.strip());
        }
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t.getMessage() != null) {
                parts.add(t.getMessage().strip());
            }
        }
        parts.removeIf(p -> parts.stream().anyMatch(o -> !o.equals(p) && o.contains(p)));
        String text = String.join(" / ", parts);
        while (text.endsWith(".")) {
            text = text.substring(0, text.length() - 1);
        }
        String hint = source.startFailureHint(text);
        return "Capture of " + config.dbUrl() + " as user " + config.dbUser() + " failed: " + text + "." + hint;
    }
}
