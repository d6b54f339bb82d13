package org.activemirroring.mirror;

import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicReference;

import org.activemirroring.join.JoinSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates, on a thread of its own, the foreign keys a join added {@code NOT VALID}, once the
 * mirror serves ({@link JoinSink#validateNext}) and has replayed what its snapshot may already
 * have held: until then replay passes through states that never existed on any mirror (a row the
 * snapshot had deleted comes back until the delete is replayed too), and a validation could see
 * an order without its customer. Nothing to do on most starts; a mirror stopped halfway goes on
 * at its next start, and a failure is tried again with a growing wait.
 */
final class ForeignKeyValidation implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ForeignKeyValidation.class);

    private final JoinSink sink;
    private final String node;
    private final java.util.function.BooleanSupplier replayed;
    private final AtomicReference<Statement> running = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean closed;
    /** How often it looks whether replay has reached the horizon. */
    static final long REPLAY_POLL_MS = 50;
    /** After a failure (the database went away, a statement was cancelled): the first wait before trying again. */
    static final long FIRST_RETRY_MS = 1_000;
    /** The longest wait between attempts. */
    static final long MAX_RETRY_MS = 300_000;

    private ForeignKeyValidation(JoinSink sink, String node, java.util.function.BooleanSupplier replayed) {
        this.sink = sink;
        this.node = node;
        this.replayed = replayed;
        this.thread = org.activemirroring.logging.LogContext.thread(node, "am-validate-" + node, this::run);
    }

    /** @param replayed whether the mirror has applied every change up to its join's replay horizon */
    static ForeignKeyValidation start(JoinSink sink, String node, java.util.function.BooleanSupplier replayed) {
        ForeignKeyValidation v = new ForeignKeyValidation(sink, node, replayed);
        v.thread.start();
        return v;
    }

    private void run() {
        int done = 0;
        int failures = 0;
        long retryMs = FIRST_RETRY_MS;
        while (!closed) {
            try {
                if (sink.validationsLeft() > 0) {
                    while (!closed && !replayed.getAsBoolean()) {
                        Thread.sleep(REPLAY_POLL_MS);
                    }
                }
                while (!closed && sink.validateNext(running::set)) {
                    done++;
                    retryMs = FIRST_RETRY_MS;
                }
                break;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // stopping: what is left is tried at the next start
                return;
            } catch (SQLException | RuntimeException e) {
                if (closed) {
                    return;
                }
                if (failures++ == 0) {
                    LOG.warn("Validating the foreign keys its join copied failed ({}); the constraints stay"
                            + " NOT VALID (still enforced on new rows) and it tries again, less and less often",
                            e.getMessage());
                } else {
                    LOG.debug("Validating foreign keys failed again: {}", e.toString());
                }
                try {
                    Thread.sleep(retryMs);
                } catch (InterruptedException stop) {
                    Thread.currentThread().interrupt();
                    return;
                }
                retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
            }
        }
        if (done > 0) {
            LOG.info("Validated the {} foreign key(s) its join left to check{}", done,
                    failures > 0 ? " (after " + failures + " failed attempt(s))" : "");
        }
    }

    /** Whether validation has ended (nothing was left, or it stopped). */
    boolean finished() {
        return !thread.isAlive();
    }

    /** Cancels a validation that is running; it is tried again at the next start. */
    @Override
    public void close() throws InterruptedException {
        closed = true;
        Statement s = running.get();
        if (s != null) {
            try {
                s.cancel();
            } catch (SQLException e) {
                LOG.debug("cancelling a validation: {}", e.toString());
            }
        }
        thread.interrupt(); // waiting for replay
        thread.join(10_000);
    }
}
