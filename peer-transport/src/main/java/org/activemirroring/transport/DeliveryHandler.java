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

    /**
     * Makes every envelope delivered since the last flush durable. A handler may defer that work
     * (e.g. apply several envelopes in one database transaction) until this call: the transport
     * counts envelopes as delivered only once it returned, calls it when its queue runs empty or
     * a group is large or old enough, and never leaves a group open for long.
     *
     * <p>If {@code deliver} (other than {@link NotYetDeliverableException}) or {@code flush} throws,
     * everything since the last flush must be undone by the handler: the transport delivers all
     * of it again. The default does nothing: each {@code deliver} is durable when it returns.
     */
    default void flush() throws Exception {
    }
}
