package org.activemirroring.tomcatconf.e2e;

import static org.activemirroring.testsupport.SiteSql.count;
import static org.activemirroring.testsupport.SiteSql.rows;
import static org.activemirroring.testsupport.SiteSql.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
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
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

import org.activemirroring.testsupport.SiteSql;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.tomcatconf.Install;
import org.activemirroring.tomcatconf.MirrorTomcat;
import org.activemirroring.tomcatconf.fixture.SeedingSchema;
import org.activemirroring.tomcatconf.fixture.SeedingWar;
import org.junit.jupiter.api.Test;

/**
 * A site that behaves like real third-party ones ({@link SeedingSchema}: no web.xml, schema and
 * seed rows created at every start, sequences reset at every start, a join table with only a
 * unique constraint, an IDENTITY key, database errors rendered as 200 pages), each mirror a real
 * Tomcat from the distribution with the plugin in the WAR, added by its initializer:
 * <ol>
 *   <li>the first mirror's site ran before mirroring (its rows predate capture);</li>
 *   <li>a second joins while the first takes writes; its site had started once on its own (schema,
 *       seeds), and it holds a user only it has and a seed row it holds differently;</li>
 *   <li>a third with an empty database joins; its site creates the schema and seeds at start;</li>
 *   <li>the first Tomcat restarts (its site resets the sequences again) and every mirror writes;</li>
 * </ol>
 * then every mirror holds the same rows (digests), every acknowledged write is everywhere, the
 * seed rows are the same on every mirror (the joiner's differing one in its conflict log), the
 * local table stays local, and no write got the site's error page.
 */
class SeedingSiteIT {
    private static final Duration READY = Duration.ofMinutes(3);
    private static final Duration CONVERGED = Duration.ofMinutes(2);
    private static final int BEFORE_MIRRORING = 40;
    private static final String CONTEXT = "/seeding";
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<String> acknowledged = new ArrayList<>();

    @Test
    void aSeedingSiteOnThreeRealTomcats() throws Exception {
        Path work = Files.createDirectories(PostgresServers.workDir().resolve("seeding-" + System.nanoTime()));
        Path war = SeedingWar.build(work, "seeding");
        List<MirrorTomcat> mirrors = new ArrayList<>();
        try (PostgresServers pgs = PostgresServers.start("seeding", 3)) {
            PgServer a = pgs.get(0);
            PgServer b = pgs.get(1);
            PgServer c = pgs.get(2);
            try (Connection conn = a.connect(); Statement s = conn.createStatement()) {
                SeedingSchema.startUp(conn);
                s.execute("INSERT INTO app_user (id, name) SELECT g, 'early-' || g FROM generate_series(100, "
                        + (99 + BEFORE_MIRRORING) + ") g");
                s.execute("INSERT INTO user_role SELECT id, 2 FROM app_user WHERE name LIKE 'early-%'");
                s.execute("INSERT INTO post (author, body) SELECT id, 'hello from ' || name FROM app_user");
            }
            try (Connection conn = b.connect(); Statement s = conn.createStatement()) {
                SeedingSchema.startUp(conn);
                s.execute("INSERT INTO app_user (id, name) VALUES (90001, 'only-on-b')");
                s.execute("UPDATE app_role SET name = 'members' WHERE id = 2");
            }
            List<Map<String, String>> settings = new ArrayList<>();
            for (Map<String, String> m : MirrorSettings.forServers("seeding", pgs.servers())) {
                Map<String, String> cfg = new LinkedHashMap<>(m);
                cfg.put("mirror.tables.exclude", SeedingSchema.LOCAL);
                // The test writes in loops from one address, faster than flood control lets a visitor.
                cfg.put("mirror.flood.enabled", "false");
                settings.add(cfg);
            }
            for (int i = 0; i < 3; i++) {
                MirrorTomcat m = MirrorTomcat.create("seeding-" + (i + 1), work.resolve("m" + (i + 1)), pgs.get(i),
                        settings.get(i), Install.WAR).addWar(CONTEXT.substring(1), war);
                m.tomcat().base().heap(SampleSite.HEAP);
                mirrors.add(m);
            }
            try {
                run(mirrors, a, b, c);
            } finally {
                MirrorCloser.closeAll(mirrors);
            }
        }
    }

    private void run(List<MirrorTomcat> mirrors, PgServer a, PgServer b, PgServer c) throws Exception {
        MirrorTomcat one = mirrors.get(0);
        MirrorTomcat two = mirrors.get(1);
        MirrorTomcat three = mirrors.get(2);
        one.start();
        awaitReady(one);
        for (int i = 0; i < 20; i++) {
            register(one, "a-" + i);
            write(one, "/post?user=a-" + i + "&body=first+post");
        }

        // The second joins while the first takes writes, until the second is ready.
        Queue<String> writerFailures = new ConcurrentLinkedQueue<>();
        AtomicBoolean joined = new AtomicBoolean();
        Thread writer = new Thread(() -> {
            for (int i = 0; i < 1_000 && !joined.get(); i++) {
                try {
                    register(one, "during-" + i);
                } catch (Exception | AssertionError e) {
                    writerFailures.add(e.toString());
                    return;
                }
            }
        }, "seeding-writer");
        writer.start();
        try {
            two.start();
            awaitReady(two);
        } finally {
            joined.set(true);
            writer.join(READY.toMillis());
        }
        assertTrue(writerFailures.isEmpty(), "writes on the first mirror while the second joined: " + writerFailures);
        SampleSite.awaitLogged(two, "This mirror joined from");

        // The third: an empty database; its site makes the schema and seeds at start, then it joins.
        three.start();
        awaitReady(three);
        SampleSite.awaitLogged(three, "This mirror joined from");

        // The first restarts: its site resets the sequences again before the mirror runs.
        one.tomcat().restart();
        awaitReady(one);
        assertEquals(2, one.tomcat().log().containing("This mirror corrected sequence public.app_user_id_seq").size(),
                "the site reset its sequence at each start, and the mirror corrected it each time before serving");
        for (MirrorTomcat m : mirrors) {
            String n = m.tomcat().name();
            register(m, n + "-user");
            for (int i = 0; i < 5; i++) {
                write(m, "/post?user=" + n + "-user&body=post+" + i);
            }
        }
        write(two, "/post?user=only-on-b&body=still+here");
        write(three, "/session?id=s1");

        List<PgServer> dbs = List.of(a, b, c);
        List<String> mirrored = SeedingSchema.MIRRORED;
        Await.until(CONVERGED, () -> SiteSql.allEqual(dbs, mirrored),
                () -> "digests differ:" + SiteSql.describe(dbs, mirrored));

        List<String> users = List.of(body(three, "/users").split("\n"));
        assertTrue(users.containsAll(acknowledged), "users missing on the third mirror: "
                + acknowledged.stream().filter(u -> !users.contains(u)).toList());
        for (String name : List.of("admin", "early-100", "early-139", "only-on-b")) {
            assertTrue(users.contains(name), name + " missing on the third mirror: " + users);
        }
        assertEquals(2 + BEFORE_MIRRORING + acknowledged.size(), users.size(), "admin, only-on-b, the early users and"
                + " every registration, once: " + users);
        for (PgServer db : dbs) {
            assertEquals(List.of("1 admin", "2 member"), rows(db, "SELECT id || ' ' || name FROM app_role ORDER BY id"),
                    "seed roles on " + db.name());
            assertEquals("1", scalar(db, "SELECT string_agg(id::text, ',') FROM app_user WHERE name = 'admin'"),
                    "one seeded admin on " + db.name());
            assertEquals(1, count(db, "SELECT count(*) FROM user_role r JOIN app_user u ON u.id = r.user_id"
                    + " WHERE u.name = 'admin' AND r.role_id = 1"), "the admin's role on " + db.name());
            assertEquals(0, count(db, "SELECT count(*) FROM app_user u WHERE NOT EXISTS (SELECT 1 FROM user_role r"
                    + " WHERE r.user_id = u.id) AND u.name <> 'only-on-b'"), "every user has its role on " + db.name());
        }
        assertEquals("members", scalar(b, "SELECT loser_row->>'name' FROM mirror.conflict WHERE kind = 'join'"
                + " AND tbl = 'public.app_role'"), "the seed row the joiner held differently is in its conflict log");
        assertEquals(0, count(a, "SELECT count(*) FROM web_session"), "the local table stays local");
        assertEquals(1, count(c, "SELECT count(*) FROM web_session"));
    }

    private void register(MirrorTomcat m, String name) throws IOException, InterruptedException {
        write(m, "/register?name=" + name);
        synchronized (acknowledged) {
            acknowledged.add(name);
        }
    }

    /** POSTs a page of the site; fails unless it answered "ok" (a database error is a 200 page too). */
    private void write(MirrorTomcat m, String pathAndQuery) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(m.url(CONTEXT + pathAndQuery)))
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("200 ok", r.statusCode() + " " + r.body(), "POST " + pathAndQuery + " on " + m.tomcat().name());
    }

    private String body(MirrorTomcat m, String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(m.url(CONTEXT + path)))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(!r.body().contains(SeedingSchema.SORRY), r.body());
        return r.body();
    }

    private static void awaitReady(MirrorTomcat m) {
        m.tomcat().awaitHttp(CONTEXT + "/_mirror/health", s -> s == 200, READY);
    }
}
