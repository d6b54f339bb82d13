package org.activemirroring.transport;

import java.time.Instant;

/**
 * Whether other mirrors' envelopes reach the {@link DeliveryHandler}, and how delivery fared: a
 * delivery that restarted itself after an unexpected error shows here, also once it runs again,
 * so a pipeline that keeps failing and recovering is visible on status pages.
 *
 * @param running     true while envelopes are being delivered: started, not closed, and not
 *                    waiting to restart after an unexpected error
 * @param restarts    how often delivery restarted itself after an unexpected error since the
 *                    transport started
 * @param lastError   the last unexpected error (its type and message, and what was being
 *                    delivered), or null if there was none; kept after delivery runs again
 * @param lastErrorAt when that error happened, or null if there was none
 * @param downSince   since when delivery has been down after an unexpected error (the first
 *                    error of the outage), or null while it runs, before start and after close
 * @param nextRestart when delivery next tries to restart while it is down, or null
 * @param heldBack    the envelope the handler keeps refusing with an expected failure (a change
 *                    that cannot be applied here yet: a schema change that fails, the database
 *                    down) and its last error; everything of its origin after it waits behind it.
 *                    Null while deliveries succeed
 * @param heldSince   when the first attempt at {@code heldBack} failed, or null
 */
public record DeliveryStatus(boolean running, long restarts, String lastError, Instant lastErrorAt,
                             Instant downSince, Instant nextRestart, String heldBack, Instant heldSince) {

    /** Delivery has not started yet. */
    public static final DeliveryStatus NOT_STARTED = new DeliveryStatus(false, 0, null, null, null, null);

    /** A status with nothing held back. */
    public DeliveryStatus(boolean running, long restarts, String lastError, Instant lastErrorAt, Instant downSince,
                          Instant nextRestart) {
        this(running, restarts, lastError, lastErrorAt, downSince, nextRestart, null, null);
    }

    /** The same status with what is held back. */
    DeliveryStatus withHeldBack(String what, Instant since) {
        return new DeliveryStatus(running, restarts, lastError, lastErrorAt, downSince, nextRestart, what, since);
    }
}
