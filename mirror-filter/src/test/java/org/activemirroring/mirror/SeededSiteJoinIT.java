package org.activemirroring.mirror;

import static org.activemirroring.testsupport.SiteSql.describe;
import static org.activemirroring.testsupport.SiteSql.digest;
import static org.activemirroring.testsupport.SiteSql.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.activemirroring.testsupport.SiteSql;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.junit.jupiter.api.Test;

/**
 * The drop-in on a site that does what real sites do ({@link SeedingSite}: schema and seed rows at
 * every start, sequences reset, a join table with only a unique constraint, a local session table
 * without a key), each mirror in its own Tomcat with the filter:
 * <ol>
 *   <li>the first mirror's site existed before mirroring (rows from before capture existed);</li>
 *   <li>its journal forgets its first changes (history expired), then a second mirror joins whose
 *       site created its schema and seed rows at start, plus a row only it holds and a seed row it
 *       holds differently, while the first takes writes;</li>
 *   <li>a third joins with an empty database and no schema, and its site then writes to the table
 *       kept local;</li>
 * </ol>
 * then every mirror holds every row (equal digests), the joiner's own row reached everyone, and
 * the seed row it held differently is in its conflict log.
 */
class SeededSiteJoinIT {
    private static final Duration CONVERGE = Duration.ofSeconds(120);
    private static final int BEFORE_MIRRORING = 40;
    private static final String PASSWORD = "correct horse";

    @Test
    void newMirrorsOfASeedingSiteJoinAndEveryRowReachesEveryMirror() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("seeded", 3)) {
            List<PgServer> servers = pgs.servers();
            PgServer a = servers.get(0);
            PgServer b = servers.get(1);
            PgServer c = servers.get(2);
            // The site ran for a while before anyone thought of mirroring it.
            try (Connection conn = a.connect(); Statement s = conn.createStatement()) {
                SeedingSite.startUp(conn);
                s.execute("INSERT INTO app_user (id, name) SELECT g, 'early-' || g FROM generate_series(100, "
                        + (99 + BEFORE_MIRRORING) + ") g");
                s.execute("INSERT INTO user_role SELECT id, 2 FROM app_user WHERE name LIKE 'early-%'");
                s.execute("INSERT INTO post (author, body) SELECT id, 'hello from ' || name FROM app_user");
            }
            // The second mirror's site started once on its own (schema, seeds), and someone wrote
            // a user only it has, and renamed a seed role there.
            try (Connection conn = b.connect(); Statement s = conn.createStatement()) {
                SeedingSite.startUp(conn);
                s.execute("INSERT INTO app_user (id, name) VALUES (90001, 'only-on-b')");
                s.execute("UPDATE app_role SET name = 'members' WHERE id = 2");
            }

            Path work = PostgresServers.workDir().resolve("seeded-" + System.nanoTime());
            List<Map<String, String>> configs = new ArrayList<>();
            String hash = PasswordHash.create(PASSWORD.toCharArray(), PasswordHash.MIN_ITERATIONS,
                    new java.security.SecureRandom()).encoded();
            for (Map<String, String> m : MirrorSettings.forServers("seeded", servers)) {
                Map<String, String> cfg = new LinkedHashMap<>(m);
                cfg.put("mirror.admin.password-hash", hash);
                cfg.remove("mirror.join"); // auto everywhere: the network decides
                cfg.put("mirror.tables.exclude", SeedingSite.EXCLUDE);
                // The test writes in loops from one address, faster than flood control lets a visitor.
                cfg.put("mirror.flood.enabled", "false");
                // Its writes are timed to land while the second mirror joins, with a journal that keeps
                // almost nothing: read-your-writes' wait per write (for capture) would spread them past
                // the join, and the joiner would find its replay gone and copy again (RejoinIT's case).
                cfg.put("mirror.read-your-writes.enabled", "false");
                configs.add(cfg);
            }
            // The first mirror waits briefly for peers that are not there yet, and its journal keeps
            // almost nothing, so the joiners cannot rebuild its data from history.
            configs.get(0).put("mirror.start.peers.wait.ms", "1000");
            configs.get(0).put("mirror.journal.retention.bytes", "1");
            configs.get(0).put("mirror.journal.segment.bytes", "4096");
            configs.get(0).put("mirror.journal.retention.check.seconds", "1");

            List<Tomcat> tomcats = new ArrayList<>();
            try {
                String siteA = start(tomcats, work.resolve("a"), a, configs.get(0), true, true);
                awaitHealthy(siteA);
                assertTrue(TestMirrors.joinHow(a).startsWith("no reachable mirror holds data"), TestMirrors.joinHow(a));
                for (int i = 0; i < 30; i++) {
                    assertEquals("ok", post(siteA + "/register?name=a-" + i));
                    assertEquals("ok", post(siteA + "/post?user=a-" + i + "&body=first+post"));
                }
                Path journal = Path.of(configs.get(0).get("mirror.data.dir")).resolve("journal");
                Await.until(CONVERGE, () -> firstSegmentSeq(journal, "seeded-1") > 1,
                        () -> "the first mirror's journal still starts at its first change: " + list(journal));

                // The second mirror joins while the first takes writes.
                AtomicInteger written = new AtomicInteger();
                Thread writer = new Thread(() -> {
                    for (int i = 0; i < 40; i++) {
                        try {
                            if ("ok".equals(post(siteA + "/register?name=during-" + i))) {
                                written.incrementAndGet();
                            }
                        } catch (IOException | InterruptedException e) {
                            return;
                        }
                    }
                }, "test-writer");
                writer.start();
                String siteB = start(tomcats, work.resolve("b"), b, configs.get(1), true, true);
                awaitHealthy(siteB);
                writer.join(CONVERGE.toMillis());
                assertEquals(40, written.get());
                assertTrue(TestMirrors.joinHow(b).startsWith("joined the network"), TestMirrors.joinHow(b));

                JsonNode originB = adminStatus(siteB).get("dataOrigin");
                assertTrue(originB.get("siteRowsBeforeJoin").asText().contains("1 differed"), originB.toString());

                // The third has no schema at all, and no web.xml: the plugin adds its filter itself
                // (configuration from the system property); its site runs only once it serves.
                String siteC;
                System.setProperty("mirror.config", work.resolve("c").resolve("mirror.properties").toString());
                try {
                    siteC = start(tomcats, work.resolve("c"), c, configs.get(2), false, false);
                } finally {
                    System.clearProperty("mirror.config");
                }
                awaitHealthy(siteC);
                assertEquals(401, status(siteC + "/_mirror/status"), "status needs credentials");
                assertTrue(adminStatus(siteC).get("dataOrigin").get("how").asText().startsWith("joined the network"));
                assertEquals("ok", post(siteC + "/session?id=s1"), "the table kept local exists on a joined mirror");
                assertEquals("ok", post(siteC + "/register?name=c-1"));
                assertEquals("ok", post(siteB + "/register?name=b-1"));
                assertEquals("ok", post(siteB + "/post?user=only-on-b&body=still+here"));

                List<String> mirrored = SeedingSite.MIRRORED;
                Await.until(CONVERGE, () -> digest(a, mirrored).equals(digest(b, mirrored))
                                && digest(a, mirrored).equals(digest(c, mirrored)),
                        () -> "digests differ: a=" + describe(a) + " b=" + describe(b) + " c=" + describe(c));
                List<String> users = List.of(SiteHttp.get(siteC + "/users").body().split("\n"));
                for (String name : List.of("admin", "early-100", "early-139", "a-29", "during-39", "only-on-b", "b-1",
                        "c-1")) {
                    assertTrue(users.contains(name), name + " missing on the third mirror: " + users);
                }
                assertEquals(3 + BEFORE_MIRRORING + 30 + 40 + 1, users.size(), users.toString());
                assertEquals("member", scalar(a, "SELECT name FROM app_role WHERE id = 2"));
                assertEquals("members", scalar(b, "SELECT loser_row->>'name' FROM mirror.conflict WHERE kind = 'join'"
                        + " AND tbl = 'public.app_role'"), "the seed row the joiner held differently is logged");
                assertEquals("0", scalar(a, "SELECT count(*) FROM web_session"));
                assertEquals("1", scalar(c, "SELECT count(*) FROM web_session"));
            } finally {
                for (Tomcat t : tomcats) {
                    t.stop();
                    t.destroy();
                }
            }
        }
    }

    /** Starts a Tomcat with the site and the filter declared as in web.xml; returns the site's base URL. */
    /**
     * Starts a Tomcat with the site, and the filter declared as in web.xml ({@code webXml}) or
     * added by the plugin's initializer; returns the site's base URL.
     */
    private static String start(List<Tomcat> tomcats, Path dir, PgServer pg, Map<String, String> mirror,
                                boolean siteStartUp, boolean webXml) throws Exception {
        Files.createDirectories(dir);
        Path config = SiteHttp.writeProperties(dir.resolve("mirror.properties"), mirror);
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(dir.resolve("tomcat").toString());
        tomcat.setPort(0);
        tomcat.getConnector();
        Context ctx = tomcat.addContext("/site", null);
        SeedingSite.params(pg).forEach(ctx::addParameter);
        if (siteStartUp) {
            ctx.addApplicationListener(SeedingSite.Listener.class.getName());
        }
        if (webXml) {
            SiteHttp.declareMirrorFilter(ctx, config);
        } else {
            // What Tomcat does with the plugin's META-INF/services entry when it scans WEB-INF/lib
            // (embedded Tomcat does not scan); MirrorInitializerIT checks that entry.
            ctx.addServletContainerInitializer(new MirrorInitializer(), null);
        }
        Tomcat.addServlet(ctx, "pages", new SeedingSite.Pages());
        ctx.addServletMappingDecoded("/*", "pages");
        tomcats.add(tomcat);
        tomcat.start();
        return "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + "/site";
    }

    private static JsonNode adminStatus(String site) throws IOException, InterruptedException {
        HttpResponse<String> r = SiteHttp.get(site + "/_mirror/status", "admin", PASSWORD);
        assertEquals(200, r.statusCode(), r.body());
        return new ObjectMapper().readTree(r.body());
    }

    private static void awaitHealthy(String site) {
        Await.until(CONVERGE, () -> status(site + "/_mirror/health") == 200,
                () -> site + " never became ready: " + SiteHttp.body(site + "/_mirror/health"));
    }

    /** The first seq of {@code origin}'s oldest journal segment (segment files are {@code <origin>@<seq>.journal}). */
    private static long firstSegmentSeq(Path journal, String origin) throws IOException {
        try (Stream<Path> files = Files.list(journal)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(origin + "@"))
                    .mapToLong(n -> Long.parseLong(n.substring(origin.length() + 1, n.indexOf('.'))))
                    .min().orElse(0);
        }
    }

    private static String list(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList().toString();
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** The page's body when it answered 200, else its status and body. */
    private static String post(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = SiteHttp.post(url);
        return r.statusCode() == 200 ? r.body() : r.statusCode() + " " + r.body();
    }

    private static int status(String url) throws IOException, InterruptedException {
        return SiteHttp.get(url).statusCode();
    }
}
