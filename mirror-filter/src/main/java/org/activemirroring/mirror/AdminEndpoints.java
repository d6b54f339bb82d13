package org.activemirroring.mirror;

import java.io.IOException;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.change.HybridClock;
import org.activemirroring.change.RowVersion;
import org.activemirroring.logging.LogContext;
import org.activemirroring.mirror.dashboard.DashboardEndpoint;
import org.activemirroring.mirror.metrics.MirrorMetrics;
import org.activemirroring.versions.Conflict;
import org.activemirroring.versions.ConflictLogReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin pages, the dashboard {@code /_mirror/} ({@link DashboardEndpoint}), {@code /_mirror/status}, {@code /_mirror/conflicts}, {@code /_mirror/parked}
 * and {@code /_mirror/metrics}: they show database details, error texts and whole rows of the
 * site's tables, so only an admin sees them ({@link AdminAccess}: HTTP Basic credentials of
 * {@code mirror.admin.user} and {@code mirror.admin.password-hash}, or the container's role
 * {@code mirror.admin.role}); 403 while neither is configured. Never logs the password or the
 * Authorization header.
 */
final class AdminEndpoints {
    static final String STATUS_PATH = "/_mirror/status";
    static final String CONFLICTS_PATH = "/_mirror/conflicts";
    static final String PARKED_PATH = MirrorNode.PARKED_PATH;
    static final String RETRY_PATH = PARKED_PATH + "/retry";
    static final String DISCARD_PATH = PARKED_PATH + "/discard";
    static final String METRICS_PATH = "/_mirror/metrics";
    static final String CHALLENGE = AdminAccess.CHALLENGE;

    private static final Logger LOG = LoggerFactory.getLogger(AdminEndpoints.class);
    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).enable(SerializationFeature.INDENT_OUTPUT);

    private final NodeLauncher launcher;
    private final AdminAccess access;
    private final DashboardEndpoint dashboard;

    AdminEndpoints(NodeLauncher launcher) {
        this.launcher = launcher;
        MirrorConfig config = launcher.config();
        this.access = new AdminAccess(config);
        this.dashboard = new DashboardEndpoint(config.nodeId(), launcher::node, this::detail, launcher.lagHistory());
        if (access.off()) {
            try (LogContext.Scope ignored = LogContext.scoped(config.nodeId())) {
                LOG.info("The admin pages ({}, {}, {}, {}, {}) are off (403) until mirror.admin.password-hash or"
                        + " mirror.admin.role is set; make a hash with java -cp mirror-filter-VERSION.jar"
                        + " org.activemirroring.mirror.AdminPassword", DashboardEndpoint.PAGE_PATH, STATUS_PATH,
                        CONFLICTS_PATH, PARKED_PATH, METRICS_PATH);
            }
        }
    }

    static boolean isAdminPath(String path) {
        return STATUS_PATH.equals(path) || CONFLICTS_PATH.equals(path) || METRICS_PATH.equals(path)
                || PARKED_PATH.equals(path)
                || RETRY_PATH.equals(path) || DISCARD_PATH.equals(path) || DashboardEndpoint.isDashboardPath(path);
    }

    void serve(String path, HttpServletRequest request, HttpServletResponse response) throws IOException {
        // A request thread of the container, shared with the site: the mirror's name for this call only.
        try (LogContext.Scope ignored = LogContext.scoped(launcher.config().nodeId())) {
            if (access.admit(request, response)) {
                serveAdmin(path, request, response);
            }
        }
    }

    private void serveAdmin(String path, HttpServletRequest request, HttpServletResponse response) throws IOException {
        MirrorNode node = launcher.node();
        if (DashboardEndpoint.isDashboardPath(path)) {
            dashboard.serve(path, request.getContextPath(), response);
        } else if (STATUS_PATH.equals(path)) {
            status(response, node);
        } else if (METRICS_PATH.equals(path)) {
            MirrorFilter.write(response, HttpServletResponse.SC_OK, MirrorMetrics.CONTENT_TYPE_BASE,
                    launcher.metrics().scrape());
        } else if (CONFLICTS_PATH.equals(path)) {
            conflicts(request, response, node);
        } else {
            ParkedEndpoint.serve(path, request, response, node, launcher.config().retryAfterSeconds());
        }
    }

    private void status(HttpServletResponse response, MirrorNode node) throws IOException {
        NodeStatus body = node != null ? node.status() : NodeStatus.starting(launcher.config().nodeId(), detail());
        MirrorFilter.write(response, HttpServletResponse.SC_OK, "application/json", JSON.writeValueAsString(body));
    }

    private String detail() {
        String failure = launcher.lastFailure();
        return failure == null ? launcher.phase() : failure;
    }

    /**
     * The conflict log as JSON, newest first: {@code ?limit=} (1..1000, default 100) and
     * {@code ?before=<id>} to page back.
     */
    private void conflicts(HttpServletRequest request, HttpServletResponse response, MirrorNode node)
            throws IOException {
        if (node == null) {
            response.setHeader("Retry-After", Integer.toString(launcher.config().retryAfterSeconds()));
            MirrorFilter.write(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE, "text/plain",
                    "This mirror is not running yet: " + detail() + "\n");
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
            MirrorFilter.write(response, HttpServletResponse.SC_BAD_REQUEST, "text/plain", "Use ?limit=1.."
                    + ConflictLogReader.MAX_LIMIT + " and ?before=<conflict id> (whole numbers), e.g. "
                    + CONFLICTS_PATH + "?limit=50\n");
            return;
        }
        List<Conflict> list;
        try {
            list = node.conflicts(limit, before);
        } catch (SQLException e) {
            MirrorFilter.write(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE, "text/plain",
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
            item.put("kind", k.kind().name().toLowerCase(Locale.ROOT));
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
        MirrorFilter.write(response, HttpServletResponse.SC_OK, "application/json", JSON.writeValueAsString(body));
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
}
