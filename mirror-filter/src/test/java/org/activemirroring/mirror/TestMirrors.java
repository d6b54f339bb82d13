package org.activemirroring.mirror;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;

/** Small static helpers to configure mirrors over test PostgreSQL servers on 127.0.0.1. */
final class TestMirrors {
    private TestMirrors() {
    }

    static int freeTransportPort() {
        return MirrorSettings.freeTransportPort();
    }

    static List<Map<String, String>> configs(String prefix, List<PgServer> servers) {
        return MirrorSettings.forServers(prefix, servers);
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
