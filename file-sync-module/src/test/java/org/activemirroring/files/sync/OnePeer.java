package org.activemirroring.files.sync;

import java.time.Duration;
import java.util.List;

import org.activemirroring.files.transfer.BlockServer;
import org.activemirroring.files.transfer.PeerRequests;
import org.activemirroring.transport.Reply;

/** One reachable peer in this JVM whose block requests go straight to its {@link BlockServer}. */
final class OnePeer implements PeerRequests {
    private final String node;
    private final BlockServer server;

    OnePeer(String node, BlockServer server) {
        this.node = node;
        this.server = server;
    }

    @Override
    public List<String> peers() {
        return List.of(node);
    }

    @Override
    public Reply request(String to, String kind, byte[] body, Duration timeout) throws Exception {
        return server.reply("me", body);
    }
}
