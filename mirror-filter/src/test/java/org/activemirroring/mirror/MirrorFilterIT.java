package org.activemirroring.mirror;

import static org.activemirroring.mirror.SiteHttp.body;
import static org.activemirroring.mirror.SiteHttp.get;
import static org.activemirroring.mirror.SiteHttp.liveThreads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.Test;

/** The filter in a real (embedded) Tomcat: health, status, the readiness gate, a clean undeploy. */
class MirrorFilterIT {
    private static final String ADMIN_PASSWORD = "it-admin-pw";
    private static final String ADMIN_HASH = PasswordHash.create(ADMIN_PASSWORD.toCharArray(),
            PasswordHash.DEFAULT_ITERATIONS, new java.security.SecureRandom()).encoded();

    @Test
    void servesHealthAndStatusAndGatesTheSiteUntilReady() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("filter", 1)) {
            PgServer pg = pgs.get(0);
            SiteSchema.create(pg);
            Path work = PostgresServers.workDir().resolve("filter-" + System.nanoTime());
            Map<String, String> good = TestMirrors.with(MirrorSettings.forServers("filter", List.of(pg)).get(0),
                    "mirror.admin.password-hash", ADMIN_HASH);
            // A second mirror whose database is not there: it must stay not-ready and say why (to the admin only).
            int missingDbPort = MirrorSettings.freeTransportPort();
            Map<String, String> broken = TestMirrors.with(TestMirrors.with(TestMirrors.with(
                    MirrorSettings.forServers("broken", List.of(pg)).get(0), "mirror.db.url",
                    "jdbc:postgresql://127.0.0.1:" + missingDbPort + "/none"),
                    "mirror.filter.retry-after.seconds", "7"), "mirror.admin.password-hash", ADMIN_HASH);
            // A third without an admin password: its admin pages are off. Its node never starts either.
            Map<String, String> noHash = TestMirrors.with(MirrorSettings.forServers("nohash", List.of(pg)).get(0),
                    "mirror.db.url", "jdbc:postgresql://127.0.0.1:" + missingDbPort + "/none");

            Tomcat tomcat = new Tomcat();
            tomcat.setBaseDir(work.resolve("tomcat").toString());
            tomcat.setPort(0);
            tomcat.getConnector();
            addSite(tomcat, "/good", SiteHttp.writeProperties(work.resolve("good.properties"), good));
            addSite(tomcat, "/broken", SiteHttp.writeProperties(work.resolve("broken.properties"), broken));
            addSite(tomcat, "/nohash", SiteHttp.writeProperties(work.resolve("nohash.properties"), noHash));
            tomcat.start();
            try {
                String base = "http://127.0.0.1:" + tomcat.getConnector().getLocalPort();

                Await.until(Duration.ofSeconds(60), () -> get(base + "/good/_mirror/health").statusCode() == 200,
                        () -> "good mirror never became ready: " + adminBody(base + "/good/_mirror/status"));
                HttpResponse<String> page = get(base + "/good/page");
                assertEquals(200, page.statusCode());
                assertEquals("site page", page.body());

                assertEquals("true", page.headers().firstValue("X-Mirror-Seen").orElse(null),
                        "the mirror filter ran before the site");
                adminPagesNeedCredentials(base);

                JsonNode status = new ObjectMapper().readTree(admin(base + "/good/_mirror/status").body());
                assertEquals("filter-1", status.get("nodeId").asText());
                assertTrue(status.get("ready").asBoolean());
                assertEquals("filter-1", status.get("members").get(0).asText());
                assertTrue(status.has("origins"));
                assertTrue(status.get("capture").has("published"), status.toString());
                assertTrue(status.get("apply").has("applied"), status.toString());

                conflictLogIsServedAsJson(base + "/good", pg);
                parkedChangesAreListedRetriedAndDiscarded(base + "/good", pg);

                HttpResponse<String> gated = get(base + "/broken/page");
                assertEquals(503, gated.statusCode());
                assertEquals("7", gated.headers().firstValue("Retry-After").orElse(null));
                assertEquals(503, get(base + "/broken/_mirror/health").statusCode());
                Await.until(Duration.ofSeconds(30), () -> !new ObjectMapper()
                                .readTree(adminBody(base + "/broken/_mirror/status")).get("problem").asText()
                                .equals("starting"),
                        () -> "the broken mirror's status never named its problem");
                JsonNode brokenStatus = new ObjectMapper().readTree(adminBody(base + "/broken/_mirror/status"));
                assertEquals(false, brokenStatus.get("ready").asBoolean());
                assertTrue(brokenStatus.get("problem").asText().contains("broken-1"), brokenStatus.toString());

                // Health and the gate are open to anyone: a word for the phase, never the failure's text.
                for (String open : List.of("/broken/_mirror/health", "/broken/page")) {
                    HttpResponse<String> r = get(base + open);
                    assertEquals(503, r.statusCode(), open);
                    for (String secret : List.of("jdbc", "127.0.0.1", Integer.toString(missingDbPort), "none",
                            "Exception", "broken-1")) {
                        assertFalse(r.body().contains(secret), open + " shows '" + secret + "': " + r.body());
                    }
                }
                assertEquals("not ready: retrying\n", get(base + "/broken/_mirror/health").body());

                for (String adminPage : List.of("/nohash/_mirror/status", "/nohash/_mirror/conflicts")) {
                    HttpResponse<String> off = admin(base + adminPage);
                    assertEquals(403, off.statusCode(), adminPage + ": " + off.body());
                    assertTrue(off.body().contains("mirror.admin.password-hash")
                            && off.body().contains("org.activemirroring.mirror.AdminPassword"), off.body());
                }
            } finally {
                tomcat.stop();
                tomcat.destroy();
            }
            Await.until(Duration.ofSeconds(30), () -> liveThreads("am-").isEmpty(),
                    () -> "threads left after undeploy: " + liveThreads("am-"));
        }
    }

    /** {@code /_mirror/conflicts}: the log as JSON, newest first, paged; bad parameters get a 400 that says how. */
    private static void conflictLogIsServedAsJson(String site, PgServer pg) throws Exception {
        ObjectMapper json = new ObjectMapper();
        HttpResponse<String> empty = admin(site + "/_mirror/conflicts");
        assertEquals(200, empty.statusCode(), empty.body());
        assertTrue(empty.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        JsonNode none = json.readTree(empty.body());
        assertEquals("filter-1", none.get("nodeId").asText());
        assertTrue(none.get("conflicts").isArray() && none.get("conflicts").isEmpty(), none.toString());

        // Two entries as the applier writes them: an update that lost, then a delete that lost.
        try (java.sql.Connection c = pg.connect(); java.sql.Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO mirror.conflict (detected_at, kind, tbl, row_key, loser_clock, loser_origin,"
                    + " loser_op, loser_row, loser_seq, winner_clock, winner_origin, winner_row) VALUES"
                    + " (now(), 'update', 'public.customers', '{\"id\":\"7\"}', 65536, 'peer-a', 'u',"
                    + " '{\"id\":7,\"name\":\"lost\"}', 3, 131072, 'peer-b', '{\"id\":7,\"name\":\"kept\"}'),"
                    + " (now(), 'update', 'public.customers', '{\"id\":\"8\"}', 65536, 'peer-a', 'd', NULL, 4,"
                    + " 131072, 'peer-b', '{\"id\":8,\"name\":\"kept\"}')");
        }
        JsonNode all = json.readTree(admin(site + "/_mirror/conflicts").body()).get("conflicts");
        assertEquals(2, all.size(), all.toString());
        JsonNode newest = all.get(0);
        assertEquals("8", newest.get("key").get("id").asText(), "newest first: " + all);
        assertTrue(newest.get("loser").get("row").isNull(), newest.toString());
        JsonNode older = all.get(1);
        assertEquals("update", older.get("kind").asText());
        assertEquals("public.customers", older.get("table").asText());
        assertEquals("peer-a", older.get("loser").get("origin").asText());
        assertEquals(65536, older.get("loser").get("clock").asLong());
        assertEquals("u", older.get("loser").get("op").asText());
        assertEquals(3, older.get("loser").get("seq").asLong());
        assertEquals("lost", older.get("loser").get("row").get("name").asText(), "row image as JSON, not a string");
        assertEquals("peer-b", older.get("winner").get("origin").asText());
        assertEquals("kept", older.get("winner").get("row").get("name").asText());

        JsonNode page = json.readTree(admin(site + "/_mirror/conflicts?limit=1").body()).get("conflicts");
        assertEquals(1, page.size());
        assertEquals(newest.get("id").asLong(), page.get(0).get("id").asLong());
        JsonNode next = json.readTree(admin(site + "/_mirror/conflicts?limit=1&before=" + newest.get("id").asLong())
                .body()).get("conflicts");
        assertEquals(older.get("id").asLong(), next.get(0).get("id").asLong(), "paging back with ?before=");

        for (String bad : List.of("limit=abc", "limit=0", "limit=1001", "before=-1")) {
            HttpResponse<String> r = admin(site + "/_mirror/conflicts?" + bad);
            assertEquals(400, r.statusCode(), bad + ": " + r.body());
            assertTrue(r.body().contains("?limit=1..1000"), bad + " gets a message saying what to send: " + r.body());
        }
    }

    /**
     * A parked change (here one whose payload no build can read, as if a peer ran an incompatible
     * version) shows on health and status, is listed, survives a retry that fails again, and goes
     * when the operator discards it; the endpoints refuse wrong methods, ids and missing credentials.
     */
    private static void parkedChangesAreListedRetriedAndDiscarded(String site, PgServer pg) throws Exception {
        try (java.sql.Connection c = pg.connect(); java.sql.Statement st = c.createStatement()) {
            st.execute("INSERT INTO mirror.parked (origin, seq, tables, reason, error, row_count, payload)"
                    + " VALUES ('ghost', 1, ARRAY['*'], 'error', 'Cannot read ghost#1', -1, '\\x00')");
        }
        Await.until(Duration.ofSeconds(30), () -> get(site + "/_mirror/health").body().equals("ready, degraded: parked\n"),
                () -> "health never said parked: " + SiteHttp.body(site + "/_mirror/health"));
        JsonNode status = new ObjectMapper().readTree(admin(site + "/_mirror/status").body());
        assertTrue(status.get("degraded").asText().contains("ghost#1"), status.toString());

        assertEquals(401, get(site + "/_mirror/parked").statusCode());
        assertEquals(401, SiteHttp.post(site + "/_mirror/parked/discard?id=1").statusCode());
        JsonNode listed = new ObjectMapper().readTree(admin(site + "/_mirror/parked").body()).get("parked");
        assertEquals(1, listed.size(), listed.toString());
        assertEquals("ghost", listed.get(0).get("origin").asText());
        assertEquals("error", listed.get(0).get("reason").asText());
        long id = listed.get(0).get("id").asLong();

        assertEquals(405, admin(site + "/_mirror/parked/retry").statusCode(), "retry needs POST");
        assertEquals(400, SiteHttp.post(site + "/_mirror/parked/discard", "admin", ADMIN_PASSWORD).statusCode());
        assertEquals(400, SiteHttp.post(site + "/_mirror/parked/retry?id=x", "admin", ADMIN_PASSWORD).statusCode());
        HttpResponse<String> retried = SiteHttp.post(site + "/_mirror/parked/retry?id=" + id, "admin", ADMIN_PASSWORD);
        assertEquals(200, retried.statusCode(), retried.body());
        JsonNode r = new ObjectMapper().readTree(retried.body());
        assertEquals(0, r.get("applied").asInt(), retried.body());
        assertEquals(1, r.get("stillParked").asInt(), retried.body());
        JsonNode again = new ObjectMapper().readTree(admin(site + "/_mirror/parked").body()).get("parked");
        assertEquals(2, again.get(0).get("attempts").asInt(), again.toString());

        assertEquals(404, SiteHttp.post(site + "/_mirror/parked/discard?id=" + (id + 1000), "admin", ADMIN_PASSWORD)
                .statusCode());
        HttpResponse<String> discarded = SiteHttp.post(site + "/_mirror/parked/discard?id=" + id, "admin",
                ADMIN_PASSWORD);
        assertEquals(200, discarded.statusCode(), discarded.body());
        assertEquals(0, new ObjectMapper().readTree(discarded.body()).get("stillParked").asInt());
        assertEquals("ready\n", get(site + "/_mirror/health").body());
    }

    /** Status and conflicts need the admin's credentials; health does not. */
    private static void adminPagesNeedCredentials(String base) throws Exception {
        HttpResponse<String> health = get(base + "/good/_mirror/health");
        assertEquals(200, health.statusCode());
        assertEquals("ready\n", health.body());
        for (String page : List.of("/good/_mirror/status", "/good/_mirror/conflicts")) {
            HttpResponse<String> none = get(base + page);
            assertEquals(401, none.statusCode(), page);
            assertEquals(AdminEndpoints.CHALLENGE, none.headers().firstValue("WWW-Authenticate").orElse(null));
            assertFalse(none.body().contains("nodeId"), none.body());
            HttpResponse<String> wrong = get(base + page, "admin", "not-the-password");
            assertEquals(401, wrong.statusCode(), page);
            assertEquals(AdminEndpoints.CHALLENGE, wrong.headers().firstValue("WWW-Authenticate").orElse(null));
            assertEquals(401, get(base + page, "root", ADMIN_PASSWORD).statusCode(), "wrong user");
            HttpResponse<String> right = admin(base + page);
            assertEquals(200, right.statusCode(), page + ": " + right.body());
            assertTrue(right.body().contains("\"nodeId\" : \"filter-1\""), right.body());
        }
    }

    @Test
    void unknownInitParamMakesInitFail() {
        ServletException e = assertThrows(ServletException.class,
                () -> new MirrorFilter().init(filterConfig(Map.of("confg-file", "/x"))));
        assertTrue(e.getMessage().contains("confg-file"), e.getMessage());
    }

    @Test
    void badConfigFileMakesInitFailWithEveryProblem(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path file = dir.resolve("mirror.properties");
        Files.writeString(file, "mirror.node.id=Bad Id\nmirror.bind.port=0\n");
        ServletException e = assertThrows(ServletException.class,
                () -> new MirrorFilter().init(filterConfig(Map.of("config-file", file.toString()))));
        for (String key : List.of("mirror.node.id", "mirror.bind.port", "mirror.data.dir", "mirror.db.url")) {
            assertTrue(e.getMessage().contains(key), () -> "missing " + key + " in " + e.getMessage());
        }
    }

    private static void addSite(Tomcat tomcat, String path, Path config) {
        Context ctx = tomcat.addContext(path, null);
        SiteHttp.declareMirrorFilter(ctx, config);
        Tomcat.addServlet(ctx, "site", new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                resp.setHeader("X-Mirror-Seen", String.valueOf(req.getAttribute(MirrorFilter.SEEN_ATTRIBUTE) != null));
                resp.getWriter().write("site page");
            }
        });
        ctx.addServletMappingDecoded("/*", "site");
    }

    /** As the admin (user "admin", the test's password). */
    private static HttpResponse<String> admin(String url) throws IOException, InterruptedException {
        return get(url, "admin", ADMIN_PASSWORD);
    }

    /** The admin's view of a page, or what went wrong fetching it (for failure messages, which cannot throw). */
    private static String adminBody(String url) {
        try {
            return admin(url).body();
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e.toString();
        }
    }

    private static FilterConfig filterConfig(Map<String, String> params) {
        return new FilterConfig() {
            @Override
            public String getFilterName() {
                return "mirror";
            }

            @Override
            public ServletContext getServletContext() {
                return null;
            }

            @Override
            public String getInitParameter(String name) {
                return params.get(name);
            }

            @Override
            public Enumeration<String> getInitParameterNames() {
                return Collections.enumeration(params.keySet());
            }
        };
    }

}
