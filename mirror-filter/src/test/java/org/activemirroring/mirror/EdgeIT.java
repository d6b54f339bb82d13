package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.mirror.edge.ReadYourWrites;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.Test;

/**
 * Read-your-writes and forwarding while not ready, across two real mirrors (embedded PostgreSQL,
 * JGroups on 127.0.0.1), each behind the filter in its own embedded Tomcat serving the site at
 * {@code /site}; a client that alternates between them like a load balancer carries the cookie.
 */
class EdgeIT {
    private static final int MAX_WAIT_MS = 1500;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void aWriteIsReadOnTheOtherMirrorAndAHeldMirrorServesStaleAfterTheBound() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("edge", 2)) {
            for (PgServer s : pgs.servers()) {
                SiteSchema.create(s);
            }
            Path work = PostgresServers.workDir().resolve("edge-" + System.nanoTime());
            List<Map<String, String>> settings = MirrorSettings.forServers("edge", pgs.servers());
            List<Tomcat> tomcats = new ArrayList<>();
            try {
                List<String> sites = new ArrayList<>();
                List<Path> configs = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    Map<String, String> c = TestMirrors.with(settings.get(i), "mirror.read-your-writes.max-wait-ms",
                            Integer.toString(MAX_WAIT_MS));
                    Path config = SiteHttp.writeProperties(work.resolve("m" + i + ".properties"), c);
                    configs.add(config);
                    Tomcat t = site(work.resolve("tomcat" + i), config, pgs.get(i));
                    tomcats.add(t);
                    sites.add("http://127.0.0.1:" + t.getConnector().getLocalPort() + "/site");
                }
                for (String s : sites) {
                    Await.until(Duration.ofSeconds(120), () -> SiteHttp.get(s + "/_mirror/health").statusCode() == 200,
                            () -> s + " never became ready");
                }

                // Write on one, read on the other at once, alternating, with the cookie as a browser keeps it.
                String cookie = null;
                for (int i = 1; i <= 20; i++) {
                    String writeOn = sites.get(i % 2);
                    String readOn = sites.get((i + 1) % 2);
                    HttpResponse<String> w = send(writeOn + "/customers?id=" + i, "POST", cookie);
                    assertEquals(200, w.statusCode(), w.body());
                    cookie = rywCookie(w, cookie);
                    assertNotNull(cookie, "a write's response sets " + ReadYourWrites.COOKIE);
                    HttpResponse<String> r = send(readOn + "/customers?id=" + i, "GET", cookie);
                    assertEquals(200, r.statusCode());
                    assertEquals("found", r.body(), "write " + i + " on " + writeOn + " not seen on " + readOn
                            + " with cookie " + cookie);
                    assertFalse(r.headers().firstValue(ReadYourWrites.STALE_HEADER).isPresent(), "stale read " + i);
                }
                assertTrue(cookie.matches("v1\\.edge-[12]:\\d+\\.edge-[12]:\\d+"), cookie);

                // A forged or garbled cookie is no token: served at once, no error.
                for (String bad : List.of("v2.edge-1:5", "v1.edge-1:99999999999999", "v1.EDGE:1", "x".repeat(500))) {
                    HttpResponse<String> r = send(sites.get(1) + "/customers?id=1", "GET", bad);
                    assertEquals(200, r.statusCode(), bad);
                    assertEquals("found", r.body());
                }

                // Mirror 2 holds back what it receives: the read waits the bound, then is served stale.
                MirrorNode second = SharedNodes.launcher(configs.get(1)).node();
                second.holdApply(true);
                try {
                    HttpResponse<String> w = send(sites.get(0) + "/customers?id=100", "POST", cookie);
                    cookie = rywCookie(w, cookie);
                    long start = System.nanoTime();
                    HttpResponse<String> r = send(sites.get(1) + "/customers?id=100", "GET", cookie);
                    long tookMs = (System.nanoTime() - start) / 1_000_000;
                    assertEquals(200, r.statusCode());
                    assertEquals("true", r.headers().firstValue(ReadYourWrites.STALE_HEADER).orElse(null));
                    assertEquals("missing", r.body());
                    assertTrue(tookMs >= MAX_WAIT_MS - 50 && tookMs < MAX_WAIT_MS + 5_000, "held " + tookMs + " ms");
                } finally {
                    second.holdApply(false);
                }
                HttpResponse<String> after = send(sites.get(1) + "/customers?id=100", "GET", cookie);
                assertEquals("found", after.body());
                assertFalse(after.headers().firstValue(ReadYourWrites.STALE_HEADER).isPresent());

                // Not ready: mirrors whose database is missing never get ready. One forwards to a
                // ready peer (a dead URL first in its list), one has only a dead peer and answers 503.
                int deadDb = MirrorSettings.freeTransportPort();
                String deadUrl = "http://127.0.0.1:" + MirrorSettings.freeTransportPort();
                String readyBase = sites.get(0).substring(0, sites.get(0).length() - "/site".length());
                Map<String, String> unready = TestMirrors.with(TestMirrors.with(TestMirrors.with(
                        MirrorSettings.forServers("unready", List.of(pgs.get(0))).get(0), "mirror.db.url",
                        "jdbc:postgresql://127.0.0.1:" + deadDb + "/none"), "mirror.unready.forward", "true"),
                        "mirror.peer.urls", deadUrl + "," + readyBase);
                Tomcat forwarding = site(work.resolve("tomcat-fw"), SiteHttp.writeProperties(work.resolve("fw.properties"),
                        unready), pgs.get(0));
                tomcats.add(forwarding);
                Tomcat alone = site(work.resolve("tomcat-alone"), SiteHttp.writeProperties(
                        work.resolve("alone.properties"), TestMirrors.with(unready, "mirror.peer.urls", deadUrl)),
                        pgs.get(0));
                tomcats.add(alone);
                String fw = "http://127.0.0.1:" + forwarding.getConnector().getLocalPort() + "/site";
                assertEquals(503, SiteHttp.get(fw + "/_mirror/health").statusCode(), "the mirror is not ready");
                HttpResponse<String> read = send(fw + "/customers?id=1", "GET", null);
                assertEquals(200, read.statusCode(), read.body());
                assertEquals("found", read.body());
                assertTrue(read.headers().firstValue("Via").orElse("").contains("unready-1"), read.headers().map().toString());
                HttpResponse<String> write = send(fw + "/customers?id=200", "POST", null);
                assertEquals(200, write.statusCode(), write.body());
                assertTrue(has(pgs.get(0), 200), "the forwarded write reached the ready mirror's database");
                assertEquals("127.0.0.1", lastForwardedFor(pgs.get(0), 200), "X-Forwarded-For names the client");
                HttpResponse<String> looped = HTTP.send(HttpRequest.newBuilder(URI.create(fw + "/customers?id=1"))
                        .header("X-Mirror-Forwarded-By", "elsewhere").build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(503, looped.statusCode(), "a forwarded request is never forwarded again");
                HttpResponse<String> none = send("http://127.0.0.1:" + alone.getConnector().getLocalPort()
                        + "/site/customers?id=1", "GET", null);
                assertEquals(503, none.statusCode(), "no ready peer: 503 as without forwarding");
                assertTrue(none.headers().firstValue("Retry-After").isPresent());
            } finally {
                for (Tomcat t : tomcats) {
                    t.stop();
                    t.destroy();
                }
            }
        }
    }

    private static HttpResponse<String> send(String url, String method, String cookie)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (cookie != null) {
            b.header("Cookie", ReadYourWrites.COOKIE + "=" + cookie);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The am_ryw value the response sets, else the one the client had. */
    private static String rywCookie(HttpResponse<String> r, String had) {
        for (String h : r.headers().allValues("Set-Cookie")) {
            if (h.startsWith(ReadYourWrites.COOKIE + "=")) {
                int end = h.indexOf(';');
                return h.substring(ReadYourWrites.COOKIE.length() + 1, end < 0 ? h.length() : end);
            }
        }
        return had;
    }

    /** An embedded Tomcat on a free port with the site at /site behind the filter reading {@code config}. */
    private static Tomcat site(Path base, Path config, PgServer db) throws Exception {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(base.toString());
        tomcat.setPort(0);
        tomcat.getConnector();
        Context ctx = tomcat.addContext("/site", null);
        SiteHttp.declareMirrorFilter(ctx, config);
        Tomcat.addServlet(ctx, "customers", new Customers(db));
        ctx.addServletMappingDecoded("/*", "customers"); // else Tomcat answers 404 before any filter runs
        tomcat.start();
        return tomcat;
    }

    /** POST inserts customer {@code ?id=}, GET says whether it is there. */
    private static final class Customers extends HttpServlet {
        private final transient PgServer db;

        Customers(PgServer db) {
            this.db = db;
        }

        @Override
        protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("INSERT INTO customers (id, owner,"
                    + " name, balance, created) VALUES (?, ?, 'ryw', 0, now())")) {
                ps.setLong(1, Long.parseLong(req.getParameter("id")));
                ps.setString(2, String.valueOf(req.getHeader("X-Forwarded-For")));
                ps.executeUpdate();
            } catch (SQLException e) {
                throw new IOException(e);
            }
            resp.getWriter().write("ok");
        }

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            try {
                resp.getWriter().write(has(db, Long.parseLong(req.getParameter("id"))) ? "found" : "missing");
            } catch (SQLException e) {
                throw new IOException(e);
            }
        }

        private Connection connect() throws SQLException {
            return DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password());
        }
    }

    private static boolean has(PgServer db, long id) throws SQLException {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement("SELECT 1 FROM customers WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static String lastForwardedFor(PgServer db, long id) throws SQLException {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement("SELECT owner FROM customers WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
