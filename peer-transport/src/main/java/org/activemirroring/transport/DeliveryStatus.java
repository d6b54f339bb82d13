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
 */
public record DeliveryStatus(boolean running, long restarts, String lastError, Instant lastErrorAt,
                             Instant downSince, Instant nextRestart) {

    /** Delivery has not started yet. */
    public static final DeliveryStatus NOT_STARTED = new DeliveryStatus(false, 0, null, null, null, null);
}
