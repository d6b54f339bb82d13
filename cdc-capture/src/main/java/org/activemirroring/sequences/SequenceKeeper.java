package org.activemirroring.sequences;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.capture.CaptureException;
import org.activemirroring.schema.MirroredTables;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the sequences feeding mirrored tables interleaved: each increments by
 * {@code mirror.max-mirrors} and hands out only values congruent to this mirror's
 * {@code mirror.node.slot}, so two mirrors never generate the same key.
 *
 * <p>Sites reset sequences in startup scripts and migrations ({@code ALTER SEQUENCE ... RESTART},
 * {@code setval}, {@code INCREMENT BY 1}), so the keeper checks once before the node is ready
 * ({@link #start}) and then every {@code mirror.sequences.check.interval.ms} on a daemon thread.
 * A check is one query over the catalogs and {@code pg_sequences}; only a sequence that looks
 * wrong (other increment, next value in another slot, never used or reset, moved backwards) gets
 * a closer look and, if needed, a correction, logged at INFO because it means something reset it.
 * Descending sequences are not managed: they are logged once as a problem.
 */
public final class SequenceKeeper implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SequenceKeeper.class);

    private final CaptureConfig config;
    private final String nodeId;
    private final SequenceCatalog catalog;
    private final int slot;
    private final int modulus;
    private final ScheduledExecutorService timer;
    /** Last value seen per sequence, to notice one moved backwards by a script; the timer thread's. */
    private final Map<String, Long> seen = new HashMap<>();
    private final Set<String> reported = new HashSet<>();
    /** Sequences found without a value of this slot below MAXVALUE, with the last value then; not retried until it changes. */
    private final Map<String, Long> exhausted = new HashMap<>();
    private Connection connection;
    private volatile boolean asserted;
    private volatile int managed;
    private volatile long corrections;
    private volatile String lastCorrection;
    private volatile String problem;
    private volatile String lastFailure;

    private SequenceKeeper(CaptureConfig config, String nodeId, SequenceCatalog catalog) {
        this.catalog = catalog;
        this.config = config;
        this.nodeId = nodeId;
        this.slot = config.nodeSlot();
        this.modulus = config.maxMirrors();
        this.timer = Executors.newSingleThreadScheduledExecutor(
                org.activemirroring.logging.LogContext.threads(nodeId, "am-sequences-" + nodeId, false));
    }

    /**
     * Aligns every sequence once, then keeps checking in the background.
     *
     * @param catalog the database's side of it (PostgreSQL: {@code new PostgresSequences()})
     * @throws CaptureException if the first check fails (database unreachable, no privilege)
     */
    public static SequenceKeeper start(CaptureConfig config, String nodeId, SequenceCatalog catalog)
            throws CaptureException {
        SequenceKeeper keeper = new SequenceKeeper(config, nodeId, catalog);
        try {
            keeper.check();
        } catch (SQLException e) {
            keeper.close();
            throw new CaptureException("Mirror '" + nodeId + "' cannot align its sequences in " + config.dbUrl() + ": "
                    + e.getMessage() + "; mirror.db.user needs to read the catalogs and ALTER the site's sequences", e);
        }
        keeper.asserted = true;
        LOG.info("This mirror keeps {} sequence(s) on slot {} of {}", keeper.managed, keeper.slot, keeper.modulus);
        long interval = config.sequencesCheckIntervalMs();
        keeper.timer.scheduleWithFixedDelay(keeper::periodicCheck, interval, interval, TimeUnit.MILLISECONDS);
        return keeper;
    }

    /** True once every sequence was aligned at least once; the node is not ready before. */
    public boolean asserted() {
        return asserted;
    }

    public SequenceStats stats() {
        return new SequenceStats(managed, corrections, lastCorrection, lastFailure != null ? lastFailure : problem);
    }

    private void periodicCheck() {
        try {
            check();
            if (lastFailure != null) {
                LOG.info("Checking sequences works again");
                lastFailure = null;
            }
        } catch (SQLException | RuntimeException e) {
            // Retriable (database restarting): the next tick tries again on a new connection.
            String failure = "checking sequences failed: " + e.getMessage();
            if (!failure.equals(lastFailure)) {
                LOG.warn("{}; trying again in {} ms", failure, config.sequencesCheckIntervalMs());
            }
            lastFailure = failure;
            closeConnection();
        }
    }

    /** One pass over all sequences feeding mirrored tables. */
    private synchronized void check() throws SQLException {
        if (connection == null || connection.isClosed()) {
            connection = config.connect();
            connection.setAutoCommit(true);
        }
        List<SequenceCatalog.Sequence> sequences = catalog.discover(connection, MirroredTables.configured(config));
        Map<String, Long> nowSeen = new HashMap<>();
        int count = 0;
        String newProblem = null;
        for (SequenceCatalog.Sequence s : sequences) {
            if (s.increment() < 0) {
                newProblem = "descending sequence " + s.name() + " is not managed";
                if (reported.add(s.name())) {
                    LOG.warn("Sequence {} feeds {} but counts down (increment {}); descending sequences"
                                    + " are not interleaved, so mirrors can generate the same keys from it. Make it"
                                    + " ascending, or exclude its tables with mirror.tables.exclude.", s.name(),
                            s.feeds().get(0).table(), s.increment());
                }
                continue;
            }
            count++;
            Long previous = seen.get(s.sql());
            boolean looksRight = s.lastValue() != null && previous != null && s.lastValue() >= previous
                    && s.increment() == modulus && s.lastValue() <= Long.MAX_VALUE - modulus
                    && SequenceAlignment.aligned(s.lastValue() + modulus, slot, modulus);
            if (looksRight) {
                nowSeen.put(s.sql(), s.lastValue());
                continue;
            }
            if (s.increment() == modulus && exhausted.containsKey(s.sql())
                    && Objects.equals(exhausted.get(s.sql()), s.lastValue())) {
                newProblem = "sequence " + s.name() + " has no value of slot " + slot + " left below its MAXVALUE";
                continue;
            }
            // A closer look: the real state (is_called) and the keys already stored.
            SequenceAlignment.State state = catalog.state(connection, s);
            Long used = catalog.usedMax(connection, s);
            if (state.isCalled() && SequenceAlignment.isAligned(state, used, slot, modulus)) {
                nowSeen.put(s.sql(), state.lastValue());
                continue;
            }
            SequenceCatalog.Correction c = catalog.correct(connection, s, slot, modulus);
            if (c.exhausted()) {
                exhausted.put(s.sql(), s.lastValue());
                newProblem = "sequence " + s.name() + " has no value of slot " + slot + " left below its MAXVALUE";
                if (reported.add(s.name())) {
                    LOG.error("Sequence {} has no value congruent to slot {} modulo {} left between {} and"
                                    + " its MAXVALUE {}; inserts using it will fail. Raise it with ALTER SEQUENCE {} MAXVALUE ...",
                                    s.name(), slot, modulus, c.before().lastValue(), c.before().maxValue(), s.sql());
                }
                continue;
            }
            reported.remove(s.name());
            exhausted.remove(s.sql());
            long last = c.after() != null ? c.after() : c.before().lastValue();
            nowSeen.put(s.sql(), last);
            String what = describe(s, c);
            corrections++;
            lastCorrection = what;
            LOG.info("This mirror corrected sequence {} (slot {} of {}; a start, script or migration had set it"
                    + " otherwise)", what, slot, modulus);
        }
        seen.clear();
        seen.putAll(nowSeen);
        managed = count;
        problem = newProblem;
    }

    private String describe(SequenceCatalog.Sequence s, SequenceCatalog.Correction c) {
        SequenceAlignment.State b = c.before();
        Long next = SequenceAlignment.nextValue(b);
        Long nextAfter = c.after() != null ? Long.valueOf(c.after() + modulus)
                : SequenceAlignment.nextValue(new SequenceAlignment.State(b.name(), b.lastValue(), b.isCalled(), modulus,
                b.minValue(), b.maxValue()));
        StringBuilder sb = new StringBuilder(s.name()).append(": ");
        if (b.increment() != modulus) {
            sb.append("increment ").append(b.increment()).append(" -> ").append(modulus).append(", ");
        }
        sb.append("next value ").append(next == null ? "none" : next.toString())
                .append(" -> ").append(nextAfter == null ? "none" : nextAfter.toString());
        if (c.usedMax() != null) {
            sb.append(", highest stored key ").append(c.usedMax());
        }
        return sb.toString();
    }

    private synchronized void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                LOG.debug("closing the sequence check connection failed", e);
            }
            connection = null;
        }
    }

    /** Stops the background check and waits for a running one. Idempotent. */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            if (!timer.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("The sequence check did not stop within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeConnection();
    }
}
