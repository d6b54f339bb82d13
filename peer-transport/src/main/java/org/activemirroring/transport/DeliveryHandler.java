package org.activemirroring.transport;

import java.util.Map;

/**
 * Receives envelopes that other mirrors originated.
 *
 * <p>The transport calls it from one thread, per origin in sequence order without gaps, starting
 * right after the applied position the subscriber gave at start. How a failure is handled depends
 * on what is thrown:
 * <ul>
 *   <li>{@link NotYetDeliverableException}: not a failure; that origin waits (causal order).</li>
 *   <li>any other checked exception: an expected, retriable failure (database restarting, lock
 *       timeout). The same envelope, or the group since the last flush, is offered again after a
 *       short backoff; the handler must therefore be idempotent, which the applier is by its
 *       applied vector.</li>
 *   <li>a RuntimeException or an Error: unexpected (a bug, a stack overflow). The transport logs
 *       it with its stack trace, reports delivery down, waits (1 s, doubling up to 60 s while it
 *       keeps failing), calls {@link #restartFrom()} and resumes right after the vector it
 *       returns, as at start. Delivery never stops for good.</li>
 * </ul>
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
     * <p>If {@code deliver} (other than {@link NotYetDeliverableException}) or {@code flush} throws
     * anything, an Error included, everything since the last flush must be undone by the handler:
     * the transport delivers all of it again. The default does nothing: each {@code deliver} is
     * durable when it returns.
     */
    default void flush() throws Exception {
    }

    /**
     * Called on the delivery thread before delivery restarts after an unexpected failure (a
     * RuntimeException or Error from this handler, or a fault of the transport itself). The
     * handler drops whatever it holds since its last successful flush (rolls back its open
     * transaction, forgets staged work) and returns, per remote origin, the highest seq it has
     * durably applied: its applied vector as committed (origins never applied may be absent).
     * Delivery resumes right after it, so nothing is applied twice or skipped. If this throws,
     * delivery stays down and the restart is tried again after the next backoff.
     *
     * @return the committed applied vector; or null (the default) to resume right after what the
     *         transport saw flushed, which a handler that keeps the {@link #flush} contract has
     *         durably applied (an envelope it committed but whose flush then threw comes again,
     *         and its idempotence drops it)
     */
    default Map<String, Long> restartFrom() throws Exception {
        return null;
    }
}
