package org.activemirroring.mirror;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;


/** Small static helpers to start and stop mirrors in tests (settings come from MirrorSettings). */
final class TestMirrors {
    private TestMirrors() {
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

    /** How a mirror got its data, as its {@code mirror.join_state} records it ("" before it decided). */
    static String joinHow(org.activemirroring.testsupport.PgServer server) throws java.sql.SQLException {
        try (java.sql.Connection c = server.connect(); java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT how FROM mirror.join_state")) {
            return rs.next() ? rs.getString(1) : "";
        }
    }
}
