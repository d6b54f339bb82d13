package org.activemirroring.transport;

/**
 * Takes the envelopes of one payload type that are not the delivery handler's own (file changes
 * beside database changes): the delivery handler hands them over in origin order and records their
 * sequence numbers as applied together with its own work, so they share its exactly-once and
 * catch-up guarantees.
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #receive} must be idempotent: after a failure or a restart the same envelope may be
 *       offered again. It may keep what it took in memory until {@link #prepareCommit}.</li>
 *   <li>{@link #prepareCommit} makes everything received since its last call durable. The handler
 *       calls it before it records those envelopes as applied, so a crash in between only offers
 *       them again.</li>
 *   <li>Bad content (an envelope that cannot be read, a change that must be refused) is not an
 *       exception: the receiver refuses it, logs and counts it, and returns. An exception means
 *       "retry later" (a disk that is full, an I/O error): the envelope is offered again.</li>
 * </ul>
 */
public interface PayloadReceiver {

    /** The payload type this receiver takes, e.g. {@code "filechange/1"}. */
    String payloadType();

    /** Takes one envelope (see the class contract). */
    void receive(Envelope envelope) throws Exception;

    /** Makes everything received so far durable; called before it is recorded as applied. */
    void prepareCommit() throws Exception;
}
