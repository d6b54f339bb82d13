package org.activemirroring.testsupport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Settings ({@code mirror.properties} key/values) for N mirrors over test PostgreSQL servers, all
 * on 127.0.0.1, with transport ports that are free, for tests, the demo and benchmarks.
 */
public final class MirrorSettings {
    /** The transport's failure detector listens at the transport port plus this offset. */
    public static final int FD_SOCK_OFFSET = 100;

    private MirrorSettings() {
    }

    /**
     * Below Linux's ephemeral range (32768-60999 by default): a port found free there can be taken
     * by any outgoing connection (JDBC, another build on the machine) before the node binds it.
     */
    private static final int PORT_RANGE_END = 32_768;

    /** A TCP port free on 127.0.0.1, together with the failure-detection port above it. */
    public static int freeTransportPort() {
        for (int attempt = 0; attempt < 500; attempt++) {
            int port = 20_000 + ThreadLocalRandom.current().nextInt(PORT_RANGE_END - FD_SOCK_OFFSET - 20_000);
            if (isFree(port) && isFree(port + FD_SOCK_OFFSET)) {
                return port;
            }
        }
        throw new IllegalStateException("No free port pair found on 127.0.0.1 for the mirror transport");
    }

    private static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * One settings map per server; node ids are {@code prefix-1..N} and node {@code prefix-i} has
     * key-allocation slot {@code i} (so at most 15 servers with the default 16 mirrors); every node
     * lists every peer; data directories under {@link PostgresServers#workDir()}. The first node
     * has {@code mirror.join=never}; the others join from a peer when their tables are empty.
     */
    public static List<Map<String, String>> forServers(String prefix, List<PgServer> servers) {
        List<Integer> ports = new ArrayList<>();
        while (ports.size() < servers.size()) {
            int p = freeTransportPort();
            if (!ports.contains(p) && !ports.contains(p + FD_SOCK_OFFSET) && !ports.contains(p - FD_SOCK_OFFSET)) {
                ports.add(p);
            }
        }
        StringBuilder peers = new StringBuilder();
        for (int p : ports) {
            peers.append(peers.length() == 0 ? "" : ",").append("127.0.0.1:").append(p);
        }
        Path work = PostgresServers.workDir().resolve("mirrors-" + prefix + "-" + System.nanoTime());
        List<Map<String, String>> out = new ArrayList<>();
        for (int i = 0; i < servers.size(); i++) {
            PgServer s = servers.get(i);
            String id = prefix + "-" + (i + 1);
            Map<String, String> m = new LinkedHashMap<>();
            m.put("mirror.node.id", id);
            m.put("mirror.node.slot", Integer.toString(i + 1));
            m.put("mirror.data.dir", work.resolve(id).toString());
            m.put("mirror.bind.host", "127.0.0.1");
            m.put("mirror.bind.port", Integer.toString(ports.get(i)));
            m.put("mirror.peers", peers.toString());
            m.put("mirror.cluster.name", "it-" + prefix + "-" + ProcessHandle.current().pid());
            m.put("mirror.db.url", s.jdbcUrl());
            m.put("mirror.db.user", s.user());
            m.put("mirror.db.password", s.password());
            if (i == 0) {
                // The first mirror starts the network from its database; the others join from it.
                m.put("mirror.join", "never");
            }
            out.add(m);
        }
        return out;
    }
}
