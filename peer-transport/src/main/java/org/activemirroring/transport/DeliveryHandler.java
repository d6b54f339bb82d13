package org.activemirroring.transport;

/**
 * Receives envelopes that other mirrors originated.
 *
 * <p>The transport calls it from one thread, per origin in sequence order without gaps, starting
 * right after the applied position the subscriber gave at start. If it throws, the same envelope
 * is offered again after a backoff (the failure is treated as retriable: database restarting,
 * lock timeout); the handler must therefore be idempotent, which the applier is by its applied
 * vector.
 */
@FunctionalInterface
public interface DeliveryHandler {
    void deliver(Envelope envelope) throws Exception;
}
