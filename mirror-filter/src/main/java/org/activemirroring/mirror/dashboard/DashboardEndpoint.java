package org.activemirroring.mirror.dashboard;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.mirror.MirrorNode;

/**
 * Serves the dashboard: {@value #PAGE_PATH} (one HTML page with its script and styles inline, no
 * build step, nothing fetched from elsewhere) and {@value #DATA_PATH}, the JSON the page polls:
 * every mirror's facts and status (asked over the transport), survivability, and this mirror's
 * lag history. Admin-only, like the other admin pages; the caller checks access first. The
 * network is asked at most once per {@link #CACHE_MS}, however many pages poll.
 */
public final class DashboardEndpoint {
    public static final String PAGE_PATH = "/_mirror/";
    public static final String DATA_PATH = "/_mirror/dashboard.json";
    static final long CACHE_MS = 1_000;
    /** How long the dashboard waits for each other mirror's answer. */
    static final Duration ASK_TIMEOUT = Duration.ofMillis(1_500);
    private static final String PAGE_RESOURCE = "dashboard.html";

    private final String self;
    private final Supplier<MirrorNode> node;
    private final Supplier<String> phase;
    private final LagHistory lag;
    private final byte[] page;
    private ObjectNode cached;
    private long cachedAt;

    /**
     * @param node  the running node, or null while it starts
     * @param phase what the start is doing meanwhile
     */
    public DashboardEndpoint(String self, Supplier<MirrorNode> node, Supplier<String> phase, LagHistory lag) {
        this.self = self;
        this.node = node;
        this.phase = phase;
        this.lag = lag;
        try (InputStream in = DashboardEndpoint.class.getResourceAsStream(PAGE_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the dashboard page " + PAGE_RESOURCE + " is missing from the plugin jar");
            }
            this.page = in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the dashboard page: " + e.getMessage(), e);
        }
    }

    public static boolean isDashboardPath(String path) {
        return PAGE_PATH.equals(path) || DATA_PATH.equals(path) || "/_mirror".equals(path);
    }

    public void serve(String path, String contextPath, HttpServletResponse response) throws IOException {
        if ("/_mirror".equals(path)) {
            response.setStatus(HttpServletResponse.SC_MOVED_PERMANENTLY);
            response.setHeader("Location", contextPath + PAGE_PATH);
            return;
        }
        byte[] body;
        if (PAGE_PATH.equals(path)) {
            body = page;
            response.setContentType("text/html;charset=UTF-8");
            // The page is only this mirror's: nothing framed, nothing loaded from elsewhere.
            response.setHeader("Content-Security-Policy",
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self';"
                            + " img-src 'self' data:; frame-ancestors 'none'");
        } else {
            body = LocalFacts.JSON.writeValueAsBytes(data());
            response.setContentType("application/json;charset=UTF-8");
        }
        response.setStatus(HttpServletResponse.SC_OK);
        response.setHeader("Cache-Control", "no-store");
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    /** What {@value #DATA_PATH} answers. */
    public synchronized ObjectNode data() {
        long now = System.currentTimeMillis();
        if (cached != null && now - cachedAt < CACHE_MS) {
            return cached;
        }
        ObjectNode out = LocalFacts.JSON.createObjectNode();
        out.put("self", self);
        out.put("atMillis", now);
        MirrorNode n = node.get();
        if (n == null) {
            out.put("phase", phase.get());
            out.putObject("mirrors");
            out.putNull("survivability");
        } else {
            Map<String, JsonNode> network = n.facts().network(ASK_TIMEOUT);
            ObjectNode mirrors = out.putObject("mirrors");
            List<MirrorFacts> answered = new ArrayList<>();
            Set<String> unreachable = new TreeSet<>();
            for (Map.Entry<String, JsonNode> m : network.entrySet()) {
                mirrors.set(m.getKey(), m.getValue());
                JsonNode facts = m.getValue().get("facts");
                MirrorFacts parsed = null;
                if (facts != null) {
                    try {
                        parsed = LocalFacts.JSON.treeToValue(facts, MirrorFacts.class);
                    } catch (IOException | IllegalArgumentException e) {
                        ((ObjectNode) m.getValue()).put("error", "unreadable answer: " + e.getMessage());
                    }
                }
                if (parsed != null && m.getKey().equals(parsed.nodeId())) {
                    answered.add(parsed);
                } else {
                    unreachable.add(m.getKey());
                }
            }
            out.set("survivability", LocalFacts.JSON.valueToTree(Survivability.of(answered, unreachable)));
        }
        out.set("lag", LocalFacts.JSON.valueToTree(lag.samples()));
        cached = out;
        cachedAt = now;
        return out;
    }
}
