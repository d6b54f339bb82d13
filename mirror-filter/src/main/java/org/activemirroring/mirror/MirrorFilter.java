package org.activemirroring.mirror;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.capture.Conflict;
import org.activemirroring.capture.ConflictLogReader;
import org.activemirroring.capture.HybridClock;
import org.activemirroring.capture.RowVersion;
import org.activemirroring.config.ConfigException;

/**
 * The plugin's entry point in a web site: add it to {@code web.xml} in front of everything.
 *
 * <p>It starts this Tomcat's mirror node from {@code mirror.properties}, answers
 * {@code /_mirror/health} (200 when ready, 503 otherwise) and {@code /_mirror/status} (JSON), and
 * holds site requests back with 503 and Retry-After while the node is not ready.
 *
 * <p>Where the configuration comes from, first match wins: the init-param {@code config-file},
 * the system property {@code mirror.config}, the environment variable {@code MIRROR_CONFIG},
 * {@code /WEB-INF/mirror.properties} in the web application. A bad configuration makes
 * {@code init()} throw, so the site never runs half-configured.
 */
public final class MirrorFilter implements Filter {
    /** The only init-param this filter accepts. */
    public static final String CONFIG_FILE_PARAM = "config-file";
    static final String HEALTH_PATH = "/_mirror/health";
    static final String STATUS_PATH = "/_mirror/status";
    static final String CONFLICTS_PATH = "/_mirror/conflicts";

    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).enable(SerializationFeature.INDENT_OUTPUT);

    private NodeLauncher launcher;

    @Override
    public void init(FilterConfig filterConfig) throws ServletException {
        for (String name : Collections.list(filterConfig.getInitParameterNames())) {
            if (!CONFIG_FILE_PARAM.equals(name)) {
                throw new ServletException("Unknown init-param '" + name + "' on MirrorFilter: the only one is '"
                        + CONFIG_FILE_PARAM + "'; put mirror settings into mirror.properties.");
            }
        }
        MirrorConfig config;
        try {
            config = loadConfig(filterConfig);
        } catch (ConfigException e) {
            throw new ServletException(e.getMessage(), e);
        }
        launcher = new NodeLauncher(config, MirrorNode::start);
        launcher.launch();
    }

    private static MirrorConfig loadConfig(FilterConfig filterConfig) throws ServletException {
        Map<String, String> env = System.getenv();
        String path = firstNonBlank(filterConfig.getInitParameter(CONFIG_FILE_PARAM), System.getProperty("mirror.config"),
                env.get("MIRROR_CONFIG"));
        if (path != null) {
            return MirrorConfig.load(Path.of(path), env);
        }
        InputStream in = filterConfig.getServletContext().getResourceAsStream("/WEB-INF/mirror.properties");
        if (in == null) {
            throw new ServletException("No mirror configuration found: set the MirrorFilter init-param '"
                    + CONFIG_FILE_PARAM + "', the system property 'mirror.config' or MIRROR_CONFIG to the path of "
                    + "mirror.properties, or put it at /WEB-INF/mirror.properties.");
        }
        return MirrorConfig.load(in, "/WEB-INF/mirror.properties", env);
    }

    private static String firstNonBlank(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v.trim();
            }
        }
        return null;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
            throws IOException, ServletException {
        HttpServletRequest request = (HttpServletRequest) req;
        HttpServletResponse response = (HttpServletResponse) res;
        String path = request.getRequestURI().substring(request.getContextPath().length());
        MirrorNode node = launcher.node();
        boolean ready = node != null && node.isReady();
        if (HEALTH_PATH.equals(path)) {
            health(response, ready);
        } else if (STATUS_PATH.equals(path)) {
            status(response, node);
        } else if (CONFLICTS_PATH.equals(path)) {
            conflicts(request, response, node);
        } else if (!ready) {
            unavailable(response);
        } else {
            chain.doFilter(req, res);
        }
    }

    private void health(HttpServletResponse response, boolean ready) throws IOException {
        if (ready) {
            write(response, HttpServletResponse.SC_OK, "text/plain", "ready\n");
        } else {
            unavailable(response);
        }
    }

    private void unavailable(HttpServletResponse response) throws IOException {
        response.setHeader("Retry-After", Integer.toString(launcher.config().retryAfterSeconds()));
        write(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE, "text/plain",
                "This mirror is not ready yet: " + (launcher.lastFailure() == null ? launcher.phase() : launcher.lastFailure())
                        + "\n");
    }

    private void status(HttpServletResponse response, MirrorNode node) throws IOException {
        NodeStatus body = node != null ? node.status() : NodeStatus.starting(launcher.config().nodeId(),
                launcher.lastFailure() == null ? launcher.phase() : launcher.lastFailure());
        write(response, HttpServletResponse.SC_OK, "application/json", JSON.writeValueAsString(body));
    }

    /**
     * The conflict log as JSON, newest first: {@code ?limit=} (1..1000, default 100) and
     * {@code ?before=<id>} to page back.
     */
    private void conflicts(HttpServletRequest request, HttpServletResponse response, MirrorNode node)
            throws IOException {
        if (node == null) {
            unavailable(response);
            return;
        }
        int limit;
        long before;
        try {
            long requested = parameter(request, "limit", 100);
            limit = (int) Math.max(0, Math.min(requested, ConflictLogReader.MAX_LIMIT + 1));
            before = parameter(request, "before", 0);
            if (limit < 1 || limit > ConflictLogReader.MAX_LIMIT || before < 0) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            write(response, HttpServletResponse.SC_BAD_REQUEST, "text/plain", "Use ?limit=1.."
                    + ConflictLogReader.MAX_LIMIT + " and ?before=<conflict id> (whole numbers), e.g. "
                    + CONFLICTS_PATH + "?limit=50\n");
            return;
        }
        List<Conflict> list;
        try {
            list = node.conflicts(limit, before);
        } catch (SQLException e) {
            write(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE, "text/plain",
                    "Cannot read the conflict log from the site database: " + e.getMessage() + "\n");
            return;
        }
        ObjectNode body = JSON.createObjectNode();
        body.put("nodeId", node.nodeId());
        ArrayNode items = body.putArray("conflicts");
        for (Conflict k : list) {
            ObjectNode item = items.addObject();
            item.put("id", k.id());
            item.put("detectedAt", k.detectedAt().toString());
            item.put("kind", k.kind().name().toLowerCase(java.util.Locale.ROOT));
            item.put("table", k.table());
            item.set("key", JSON.valueToTree(k.key()));
            ObjectNode loser = item.putObject("loser");
            version(loser, k.loser());
            loser.put("op", k.loserOp());
            loser.put("seq", k.loserSeq());
            loser.set("row", rawJson(k.loserRow()));
            ObjectNode winner = item.putObject("winner");
            version(winner, k.winner());
            winner.set("row", rawJson(k.winnerRow()));
        }
        write(response, HttpServletResponse.SC_OK, "application/json", JSON.writeValueAsString(body));
    }

    private static void version(ObjectNode target, RowVersion v) {
        target.put("origin", v.origin());
        target.put("clock", v.clock());
        target.put("time", HybridClock.toInstant(v.clock()).toString());
    }

    private static JsonNode rawJson(String json) throws IOException {
        return json == null ? NullNode.getInstance() : JSON.readTree(json);
    }

    private static long parameter(HttpServletRequest request, String name, long dflt) {
        String v = request.getParameter(name);
        return v == null || v.isBlank() ? dflt : Long.parseLong(v.trim());
    }

    private static void write(HttpServletResponse response, int code, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        response.setStatus(code);
        response.setContentType(type + ";charset=UTF-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }

    /** Stops the node cleanly when the web application is undeployed. */
    @Override
    public void destroy() {
        if (launcher != null) {
            launcher.close();
            launcher = null;
        }
    }

}
