package org.activemirroring.mirror;

import java.io.IOException;
import java.util.List;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.apply.ApplyException;
import org.activemirroring.apply.ParkedChanges;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's view of parked changes (admin credentials checked by {@link AdminEndpoints}):
 * <ul>
 *   <li>{@code GET /_mirror/parked}: every parked change, oldest first, with its error;</li>
 *   <li>{@code POST /_mirror/parked/retry} ({@code ?id=N} for one): applies them again, those that
 *       failed for good included; what waited behind them follows;</li>
 *   <li>{@code POST /_mirror/parked/discard?id=N}: drops one for good (this mirror will not have
 *       that change); what waited behind it is tried at once.</li>
 * </ul>
 */
final class ParkedEndpoint {
    private static final Logger LOG = LoggerFactory.getLogger(ParkedEndpoint.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final int LIST_LIMIT = 1000;

    private ParkedEndpoint() {
    }

    static void serve(String path, HttpServletRequest request, HttpServletResponse response, MirrorNode node,
                      int retryAfterSeconds) throws IOException {
        if (node == null) {
            response.setHeader("Retry-After", Integer.toString(retryAfterSeconds));
            MirrorFilter.write(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE, "text/plain",
                    "This mirror is not running yet; try again in " + retryAfterSeconds + " seconds.\n");
            return;
        }
        boolean list = AdminEndpoints.PARKED_PATH.equals(path);
        String method = request.getMethod();
        if (list ? !"GET".equals(method) && !"HEAD".equals(method) : !"POST".equals(method)) {
            response.setHeader("Allow", list ? "GET, HEAD" : "POST");
            MirrorFilter.write(response, HttpServletResponse.SC_METHOD_NOT_ALLOWED, "text/plain",
                    list ? "Use GET " + path + "\n" : "Use POST " + path + (AdminEndpoints.DISCARD_PATH.equals(path)
                            ? "?id=<parked id>" : " (optionally ?id=<parked id>)") + "\n");
            return;
        }
        Long id;
        try {
            String v = request.getParameter("id");
            id = v == null || v.isBlank() ? null : Long.valueOf(v.trim());
        } catch (NumberFormatException e) {
            id = -1L;
        }
        if (id != null && id < 1 || AdminEndpoints.DISCARD_PATH.equals(path) && id == null) {
            MirrorFilter.write(response, HttpServletResponse.SC_BAD_REQUEST, "text/plain", "Give the parked change's"
                    + " id as a whole number, e.g. " + path + "?id=3 (the ids are listed at GET "
                    + AdminEndpoints.PARKED_PATH + ")\n");
            return;
        }
        try {
            if (list) {
                list(response, node);
            } else if (AdminEndpoints.RETRY_PATH.equals(path)) {
                int applied = node.retryParked(id);
                LOG.info("The operator retried parked change(s) {}: {} applied",
                        id == null ? "(all)" : id, applied);
                result(response, node, "applied", applied);
            } else if (node.discardParked(id)) {
                result(response, node, "discarded", 1);
            } else {
                MirrorFilter.write(response, HttpServletResponse.SC_NOT_FOUND, "text/plain", "No parked change has id "
                        + id + "; see GET " + AdminEndpoints.PARKED_PATH + "\n");
            }
        } catch (ApplyException e) {
            response.setHeader("Retry-After", Integer.toString(retryAfterSeconds));
            MirrorFilter.write(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE, "text/plain",
                    "Cannot do that now: " + e.getMessage() + "\n");
        }
    }

    private static void list(HttpServletResponse response, MirrorNode node) throws IOException, ApplyException {
        List<ParkedChanges.Parked> parked = node.parkedChanges(LIST_LIMIT);
        ObjectNode body = JSON.createObjectNode();
        body.put("nodeId", node.nodeId());
        ArrayNode items = body.putArray("parked");
        for (ParkedChanges.Parked p : parked) {
            ObjectNode item = items.addObject();
            item.put("id", p.id());
            item.put("origin", p.origin());
            item.put("seq", p.seq());
            item.set("tables", JSON.valueToTree(p.tables()));
            item.put("reason", p.reason());
            item.put("error", p.error());
            item.put("sqlState", p.sqlState());
            item.put("rows", p.rows());
            item.put("parkedAt", p.parkedAt().toString());
            item.put("triedAt", p.triedAt() == null ? null : p.triedAt().toString());
            item.put("attempts", p.attempts());
        }
        MirrorFilter.write(response, HttpServletResponse.SC_OK, "application/json", JSON.writeValueAsString(body));
    }

    private static void result(HttpServletResponse response, MirrorNode node, String what, int n)
            throws IOException, ApplyException {
        ObjectNode body = JSON.createObjectNode();
        body.put(what, n);
        body.put("stillParked", node.parkedChanges(LIST_LIMIT).size());
        MirrorFilter.write(response, HttpServletResponse.SC_OK, "application/json", JSON.writeValueAsString(body));
    }
}
