package org.activemirroring.mirror;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;

/** Small static helpers to configure mirrors over test PostgreSQL servers on 127.0.0.1. */
final class TestMirrors {
    /** FD_SOCK2 listens at the transport port plus this offset (its default). */
    static final int FD_SOCK_OFFSET = 100;

    private TestMirrors() {
    }

    /** A TCP port that is free on 127.0.0.1, together with the failure-detection port above it. */
    static int freeTransportPort() {
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = 20_000 + ThreadLocalRandom.current().nextInt(30_000);
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

    /** One config per server; node ids are {@code prefix-1..N}; every node lists every peer. */
    static List<Map<String, String>> configs(String prefix, List<PgServer> servers) {
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < servers.size(); i++) {
            int p;
            do {
                p = freeTransportPort();
            } while (ports.contains(p) || ports.contains(p + FD_SOCK_OFFSET) || ports.contains(p - FD_SOCK_OFFSET));
            ports.add(p);
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
            m.put("mirror.data.dir", work.resolve(id).toString());
            m.put("mirror.bind.host", "127.0.0.1");
            m.put("mirror.bind.port", Integer.toString(ports.get(i)));
            m.put("mirror.peers", peers.toString());
            m.put("mirror.cluster.name", "it-" + prefix + "-" + ProcessHandle.current().pid());
            m.put("mirror.db.url", s.jdbcUrl());
            m.put("mirror.db.user", s.user());
            m.put("mirror.db.password", s.password());
            out.add(m);
        }
        return out;
    }

    /** Starts one node per config, in order. On failure, closes the ones already started. */
    static List<MirrorNode> startAll(List<Map<String, String>> configs) {
        List<MirrorNode> nodes = new ArrayList<>();
        try {
            for (Map<String, String> c : configs) {
                nodes.add(MirrorNode.start(MirrorConfig.of(c)));
            }
        } catch (RuntimeException e) {
            closeAll(nodes);
            throw e;
        }
        return nodes;
    }

    static void closeAll(List<MirrorNode> nodes) {
        for (MirrorNode n : nodes) {
            if (n != null) {
                n.close();
            }
        }
    }

    static Map<String, String> with(Map<String, String> base, String key, String value) {
        Map<String, String> m = new LinkedHashMap<>(base);
        m.put(key, value);
        return m;
    }
}
