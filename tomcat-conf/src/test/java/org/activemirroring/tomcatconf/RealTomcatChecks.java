package org.activemirroring.tomcatconf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.tomcat.TomcatInstance;

/** Small static checks the real-Tomcat tests share. */
final class RealTomcatChecks {
    static final Duration READY = Duration.ofMinutes(3);
    static final Duration REPLICATED = Duration.ofSeconds(60);

    private RealTomcatChecks() {
    }

    /** The fixture site's table, created as a site's migration would, on the first mirror's database only. */
    static void createSchema(PgServer db) throws Exception {
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE fixture_note (id bigserial PRIMARY KEY, note text NOT NULL, app text NOT NULL)");
            s.execute("INSERT INTO fixture_note (note, app) VALUES ('seed', 'schema')");
        }
    }

    /** Waits until {@code /<context>/_mirror/health} answers 200. */
    static void awaitHealthy(MirrorTomcat mirror, String context) {
        mirror.tomcat().awaitHttp("/" + context + "/_mirror/health", s -> s == 200, READY);
    }

    /** Adds a note through the site at {@code /<context>} of this Tomcat; fails unless the site says "added". */
    static void addNote(MirrorTomcat mirror, String context, String note) throws Exception {
        HttpResponse<String> r = mirror.tomcat().get("/" + context + "/note?add=" + note);
        assertEquals(200, r.statusCode(), "adding a note through " + mirror.tomcat().name() + "/" + context + ": " + r.body());
        assertTrue(r.body().startsWith("added "), r.body());
    }

    /** Waits until the note is in {@code db}. */
    static void awaitNote(PgServer db, String note) {
        Await.until(REPLICATED, () -> count(db, note) == 1, () -> "note '" + note + "' in " + db.name() + ": "
                + safeCount(db, note) + " rows");
    }

    static long count(PgServer db, String note) throws Exception {
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM fixture_note WHERE note = ?")) {
            ps.setString(1, note);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static String safeCount(PgServer db, String note) {
        try {
            return Long.toString(count(db, note));
        } catch (Exception e) {
            return e.toString();
        }
    }

    /**
     * A thread of the site's own JNDI pool (context.xml's HikariCP pool "site", in Tomcat's lib/):
     * HikariCP starts its connection closer while the pool closes at undeploy, from Tomcat's
     * stopping thread, and Tomcat's thread check can run in the moment between the pool's
     * "Shutdown completed" (the closer finished) and that thread's exit. Not the plugin's thread;
     * the README names it.
     */
    private static final java.util.regex.Pattern SITE_POOL_THREAD =
            java.util.regex.Pattern.compile("started a thread named \\[site(:connection-closer| housekeeper)\\]");

    /** Tomcat logged no leak warning (threads, ThreadLocals, JDBC drivers) so far, but for the site pool's closer race. */
    static void assertNoLeakWarnings(TomcatInstance tomcat) {
        List<String> leaks = tomcat.log().leakWarnings().stream()
                .filter(w -> !SITE_POOL_THREAD.matcher(w).find()).toList();
        assertTrue(leaks.isEmpty(), "Tomcat " + tomcat.name() + " logged leak warnings:\n" + String.join("\n---\n", leaks));
    }

    /** Waits until the Tomcat's JVM runs no thread of the plugin or its libraries. */
    static void awaitNoMirrorThreads(TomcatInstance tomcat) {
        Await.until(Duration.ofSeconds(30), () -> tomcat.threadDump().mirrorThreads().isEmpty(),
                () -> "threads left in " + tomcat.name() + ": " + tomcat.threadDump().mirrorThreads());
    }

    /** The JVM listens on 127.0.0.1 only (HTTP, shutdown port, the mirror's transport and failure detection). */
    static void assertLoopbackOnly(TomcatInstance tomcat) {
        List<InetSocketAddress> listening = tomcat.listeningAddresses();
        assertTrue(listening.stream().anyMatch(a -> a.getPort() == tomcat.httpPort()), "HTTP port found: " + listening);
        assertTrue(listening.stream().allMatch(a -> a.getAddress().isLoopbackAddress()
                        && a.getAddress().getHostAddress().equals("127.0.0.1")),
                tomcat.name() + " listens beyond 127.0.0.1: " + listening);
    }
}
