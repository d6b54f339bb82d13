package org.activemirroring.transport;

/**
 * Thrown by a {@link DeliveryHandler} that cannot take an envelope yet because it depends on
 * envelopes of other origins it has not received (causal order). The transport parks that origin
 * at this envelope and keeps delivering the others; it offers the parked envelope again after
 * every other successful delivery, and at least every {@code retryMillis}.
 *
 * <p>Not an error: it is neither logged as a failure nor counted as one.
 */
public class NotYetDeliverableException extends Exception {

    public NotYetDeliverableException(String waitingFor) {
        super(waitingFor, null, false, false);
    }
}
