package org.activemirroring.transport;

/**
 * Serves one kind of unicast request from a peer (catch-up, later join snapshots). Runs on a
 * transport thread; must not block on other peers.
 */
@FunctionalInterface
public interface RequestHandler {
    /** Returns the response body; throwing sends the error text back to the requester. */
    byte[] handle(String fromNode, byte[] body) throws Exception;
}
