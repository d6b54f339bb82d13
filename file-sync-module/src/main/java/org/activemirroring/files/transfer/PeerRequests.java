package org.activemirroring.files.transfer;

import java.time.Duration;
import java.util.List;

import org.activemirroring.transport.Reply;

/**
 * The part of the peer transport a {@link FileAssembler} uses: who can be asked, and asking one
 * of them. The caller adapts {@code PeerTransport} to it ({@code requestReply} and the current
 * members without this mirror), so this package needs no running cluster in its tests.
 */
public interface PeerRequests {

    /** Node ids of the other mirrors that are reachable now; never null, never this mirror. */
    List<String> peers();

    /**
     * Sends one request of {@code kind} to {@code node} and waits up to {@code timeout} for its
     * answer. Any exception means this peer gave no usable answer this time.
     */
    Reply request(String node, String kind, byte[] body, Duration timeout) throws Exception;
}
