package org.activemirroring.tomcatconf.demo;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.tomcatconf.MirrorTomcat;

/**
 * Whether each mirror's Tomcat still runs: when one exits (stopped, killed), one line says so and
 * what the others answer on {@code /_mirror/health}; when it runs again, one line says that.
 */
final class MirrorPresence {
    private final Map<String, MirrorTomcat> mirrors;
    private final Map<String, Boolean> running = new LinkedHashMap<>();

    MirrorPresence(Map<String, MirrorTomcat> mirrors) {
        this.mirrors = mirrors;
        mirrors.keySet().forEach(m -> running.put(m, true));
    }

    /** Lines for every mirror whose Tomcat went away or came back since the last call. */
    List<String> poll() {
        List<String> lines = new ArrayList<>();
        for (Map.Entry<String, MirrorTomcat> e : mirrors.entrySet()) {
            boolean now = e.getValue().tomcat().isRunning();
            boolean before = running.put(e.getKey(), now);
            if (before && !now) {
                lines.add(e.getKey() + " went away (its Tomcat stopped); the others go on serving:" + others(e.getKey()));
            } else if (!before && now) {
                lines.add(e.getKey() + " runs again at " + e.getValue().url("/"));
            }
        }
        return lines;
    }

    /** Whether at least one mirror's Tomcat still runs. */
    boolean anyRunning() {
        return running.containsValue(true);
    }

    private String others(String gone) {
        StringBuilder sb = new StringBuilder();
        mirrors.forEach((name, m) -> {
            if (name.equals(gone) || !m.tomcat().isRunning()) {
                return;
            }
            String health;
            try {
                var r = m.tomcat().get("/_mirror/health");
                health = r.statusCode() + " " + r.body().strip();
            } catch (IOException e) {
                health = "no answer (" + e.getMessage() + ")";
            }
            sb.append(' ').append(name).append(' ').append(m.url("/")).append(" health ").append(health).append(';');
        });
        return sb.length() == 0 ? " none is left" : sb.substring(0, sb.length() - 1);
    }
}
