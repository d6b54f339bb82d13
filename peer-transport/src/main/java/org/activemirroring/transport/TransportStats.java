package org.activemirroring.transport;

import java.util.Map;
import java.util.Set;

/**
 * A snapshot of the transport's state for status pages and tests.
 *
 * @param members          reachable mirrors, this node included
 * @param journalHeads     highest seq held in this node's journal, per origin
 * @param delivered        highest seq handed to the delivery handler, per remote origin
 * @param originated       envelopes this node published since it started
 * @param duplicatesDropped envelopes received again and dropped (seq already delivered)
 * @param invalidDropped   envelopes dropped because they could not be decoded or broke the hash chain
 * @param delivery         whether delivery runs, how often it restarted itself after an unexpected
 *                         error, the last such error and since when delivery is down; null from a
 *                         transport that does not report it
 */
public record TransportStats(Set<String> members, Map<String, Long> journalHeads, Map<String, Long> delivered,
                             long originated, long duplicatesDropped, long invalidDropped, DeliveryStatus delivery) {

    /** Stats of a transport that does not report its delivery ({@code delivery} null), e.g. a test double. */
    public TransportStats(Set<String> members, Map<String, Long> journalHeads, Map<String, Long> delivered,
                          long originated, long duplicatesDropped, long invalidDropped) {
        this(members, journalHeads, delivered, originated, duplicatesDropped, invalidDropped, null);
    }
}
