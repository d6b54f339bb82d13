package org.activemirroring.mirror;

import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicReference;

import org.activemirroring.capture.JoinSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Validates, on a thread of its own, the foreign keys a join added {@code NOT VALID}, once the
 * mirror serves ({@link JoinSink#validateNext}). Nothing to do on most starts; a mirror stopped
 * halfway goes on at its next start.
 */
final class ForeignKeyValidation implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ForeignKeyValidation.class);

    private final JoinSink sink;
    private final String node;
    private final AtomicReference<Statement> running = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean closed;

    private ForeignKeyValidation(JoinSink sink, String node) {
        this.sink = sink;
        this.node = node;
        this.thread = new Thread(this::run, "am-validate-" + node);
        thread.setDaemon(true);
    }

    static ForeignKeyValidation start(JoinSink sink, String node) {
        ForeignKeyValidation v = new ForeignKeyValidation(sink, node);
        v.thread.start();
        return v;
    }

    private void run() {
        int done = 0;
        try {
            while (!closed && sink.validateNext(running::set)) {
                done++;
            }
            if (done > 0) {
                LOG.info("Mirror {}: validated the {} foreign key(s) its join left to check", node, done);
            }
        } catch (SQLException | RuntimeException e) {
            if (!closed) {
                LOG.warn("Mirror {}: validating the foreign keys its join copied stopped ({}); the constraints stay"
                        + " NOT VALID (still enforced on new rows) and the mirror tries again at its next start", node,
                        e.getMessage());
            }
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
        thread.join(10_000);
    }
}
