package org.activemirroring.transport;

/**
 * Serves one kind of unicast request from a peer (catch-up, later join snapshots). Runs on a
 * transport thread; must not block on other peers.
 */
@FunctionalInterface
public interface RequestHandler {
    /** Returns the response body; throwing sends the error text back to the requester. */
    byte[] handle(String fromNode, byte[] body) throws Exception;

    /**
     * The answer as a {@link Reply}, which the transport sends. A handler of large answers
     * overrides this to leave the byte before the body free, so its answer goes out without a
     * copy; by default, {@link #handle}'s answer.
     */
    default Reply reply(String fromNode, byte[] body) throws Exception {
        byte[] out = handle(fromNode, body);
        return Reply.of(out == null ? new byte[0] : out);
    }
}
