package org.activemirroring.mirror;

import static org.activemirroring.mirror.SiteHttp.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.management.MBeanAttributeInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

/**
 * Two real mirrors (embedded PostgreSQL, JGroups on 127.0.0.1) behind the filter in a real
 * Tomcat, as an operator sees them: the metrics (Prometheus text and JMX, beside Debezium's and
 * JGroups' own MBeans), the admin pages only for the admin, secrets in none of the outputs (HTTP,
 * JMX, the whole log), the configuration logged once, every line of ours naming its mirror, and a
 * clean start and stop with nothing at ERROR and no stack trace.
 */
class ObservabilityIT {
    private static final String DB_SECRET = "db-" + UUID.randomUUID();
    private static final String ADMIN_SECRET = "adm-" + UUID.randomUUID();
    private static final String ADMIN_HASH = PasswordHash.create(ADMIN_SECRET.toCharArray(),
            PasswordHash.DEFAULT_ITERATIONS, new SecureRandom()).encoded();
    /** A stack trace line, or the first line of one ("java.lang.X: msg", "Caused by:"). */
    private static final Pattern STACK = Pattern.compile("^\\s+at |^Caused by: |^[\\w.$]+(Exception|Error)(: |$)");
    private static final Pattern OUR_LINE = Pattern.compile("^\\S+ \\[[^]]+] \\w+ (org\\.activemirroring\\.\\S+) - (.*)$");

    @Test
    void metricsAdminPagesSecretsAndACleanLog() throws Exception {
        PrintStream originalErr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try (PostgresServers pgs = PostgresServers.start("obs", 2)) {
            List<PgServer> servers = pgs.servers();
            for (PgServer s : servers) {
                SiteSchema.create(s);
            }
            Path work = PostgresServers.workDir().resolve("obs-" + System.nanoTime());
            List<Map<String, String>> configs = new ArrayList<>(MirrorSettings.forServers("obs", servers));
            for (int i = 0; i < configs.size(); i++) {
                Map<String, String> c = TestMirrors.with(configs.get(i), "mirror.db.password", DB_SECRET);
                c = TestMirrors.with(c, "mirror.admin.password-hash", ADMIN_HASH);
                c = TestMirrors.with(c, "mirror.folders", "uploads");
                c = TestMirrors.with(c, "mirror.folder.uploads.path", work.resolve("uploads-" + (i + 1)).toString());
                Files.createDirectories(work.resolve("uploads-" + (i + 1)));
                configs.set(i, c);
            }
            // From here on every log line is kept (and still shown).
            System.setErr(new PrintStream(new Tee(originalErr, captured), true, StandardCharsets.UTF_8));
            Tomcat tomcat = new Tomcat();
            tomcat.setBaseDir(work.resolve("tomcat").toString());
            tomcat.setPort(0);
            tomcat.getConnector();
            addSite(tomcat, "/a", SiteHttp.writeProperties(work.resolve("a.properties"), configs.get(0)));
            tomcat.start();
            List<String> outputs = new ArrayList<>();
            try {
                String base = "http://127.0.0.1:" + tomcat.getConnector().getLocalPort();
                for (String site : List.of("/a", "/b")) {
                    if (site.equals("/b")) {
                        // The second mirror once the first runs: two new mirrors with a new folder each wait for
                        // the other to hold it first.
                        addSite(tomcat, "/b", SiteHttp.writeProperties(work.resolve("b.properties"), configs.get(1)));
                    }
                    Await.until(Duration.ofSeconds(90), () -> get(base + site + "/_mirror/health").statusCode() == 200,
                            () -> site + " never became ready: " + SiteHttp.body(base + site + "/_mirror/health"));
                }
                // Some replication both ways: rows and a file.
                insertCustomer(servers.get(0), 1);
                insertCustomer(servers.get(1), 2);
                byte[] photo = new byte[300_000];
                new SecureRandom().nextBytes(photo); // no block repeats: every byte travels
                Files.write(work.resolve("uploads-1").resolve("photo.bin"), photo);
                for (PgServer s : servers) {
                    Await.until(Duration.ofSeconds(60), () -> SiteSchema.count(s, "customers") == 2,
                            () -> s.name() + " has not both rows");
                }
                Path copied = work.resolve("uploads-2").resolve("photo.bin");
                Await.until(Duration.ofSeconds(60), () -> Files.exists(copied) && Files.size(copied) == 300_000,
                        () -> "the file did not reach mirror 2");
                // An edit of a few bytes in place: its change carries a block-list delta, made whole on mirror 2.
                byte[] edited = photo.clone();
                Arrays.fill(edited, 150_000, 151_000, (byte) 7);
                Files.write(work.resolve("uploads-1").resolve("photo.bin"), edited);
                Await.until(Duration.ofSeconds(60), () -> Arrays.equals(edited, Files.readAllBytes(copied)),
                        () -> "the edit did not reach mirror 2");

                String metricsB = metricsOf(base + "/b", outputs);
                assertMetric(metricsB, "mirror_origin_lag\\{mirror=\"obs-2\",origin=\"obs-1\"}", 0, 0);
                assertMetric(metricsB, "mirror_applied_total\\{mirror=\"obs-2\"}", 1, Double.MAX_VALUE);
                assertMetric(metricsB, "mirror_files_transferred_bytes_total\\{mirror=\"obs-2\",source=\"fetched\"}",
                        300_000, Double.MAX_VALUE);
                // The edit's changed blocks were built from mirror 2's previous version, not fetched whole.
                assertMetric(metricsB, "mirror_files_transferred_bytes_total\\{mirror=\"obs-2\",source=\"delta\"}",
                        1_000, Double.MAX_VALUE);
                assertMetric(metricsB, "mirror_files_block_list_deltas_total\\{mirror=\"obs-2\",outcome=\"applied\"}",
                        1, Double.MAX_VALUE);
                for (String outcome : List.of("without-base", "refused")) {
                    assertMetric(metricsB, "mirror_files_block_list_deltas_total\\{mirror=\"obs-2\",outcome=\""
                            + outcome + "\"}", 0, 0);
                }
                assertMetric(metricsB, "mirror_ready\\{mirror=\"obs-2\"}", 1, 1);
                assertMetric(metricsB, "mirror_folder_scans_total\\{folder=\"[a-z0-9_-]+\",mirror=\"obs-2\"}", 1,
                        Double.MAX_VALUE);
                assertMetric(metricsB, "mirror_slot_retained_bytes\\{mirror=\"obs-2\"}", 0, Double.MAX_VALUE);
                for (String name : List.of("mirror_conflicts_total", "mirror_held_back", "mirror_parked",
                        "mirror_refused_envelopes_total", "mirror_tables_held_out", "mirror_journal_bytes",
                        "mirror_folder_wanted", "mirror_folder_conflict_copies_total", "mirror_folder_scans_skipped_total")) {
                    assertTrue(metricsB.contains(name + "{"), name + " missing in:\n" + metricsB);
                }
                String metricsA = metricsOf(base + "/a", outputs);
                assertMetric(metricsA, "mirror_files_transferred_bytes_total\\{mirror=\"obs-1\",source=\"served\"}",
                        300_000, Double.MAX_VALUE);
                assertMetric(metricsA, "mirror_published_total\\{mirror=\"obs-1\"}", 1, Double.MAX_VALUE);

                for (String site : List.of("/a", "/b")) {
                    for (String page : List.of("/_mirror/status", "/_mirror/conflicts", "/_mirror/parked",
                            "/_mirror/metrics", "/_mirror/", "/_mirror/dashboard.json")) {
                        HttpResponse<String> none = get(base + site + page);
                        assertEquals(401, none.statusCode(), site + page + " without credentials");
                        assertFalse(none.body().contains("obs-"), none.body());
                        assertEquals(401, get(base + site + page, "admin", "wrong").statusCode(), site + page);
                        HttpResponse<String> ok = admin(base + site + page);
                        assertEquals(200, ok.statusCode(), site + page + ": " + ok.body());
                        outputs.add(ok.body());
                        if (page.equals("/_mirror/status")) {
                            JsonNode deltas = new ObjectMapper().readTree(ok.body()).path("files").path("deltas");
                            assertTrue(deltas.has("applied") && deltas.has("withoutBase") && deltas.has("refused"),
                                    site + page + " shows the block-list deltas: " + ok.body());
                            assertTrue(!site.equals("/b") || deltas.path("applied").asLong() >= 1,
                                    "mirror 2 made the edit's list whole from its base: " + deltas);
                            long byDelta = new ObjectMapper().readTree(ok.body()).path("files").path("bytesBuiltByDelta")
                                    .asLong(-1);
                            assertTrue(site.equals("/b") ? byDelta >= 1_000 : byDelta == 0,
                                    site + " shows the bytes it built by delta: " + byDelta);
                        }
                    }
                    HttpResponse<String> bare = get(base + site + "/_mirror", "admin", ADMIN_SECRET);
                    assertEquals(301, bare.statusCode(), "/_mirror leads to the dashboard");
                    assertEquals(site + "/_mirror/", bare.headers().firstValue("Location").orElse(""));
                    HttpResponse<String> health = get(base + site + "/_mirror/health");
                    assertEquals("ready\n", health.body());
                    outputs.add(health.body());
                }

                MBeanServer jmx = ManagementFactory.getPlatformMBeanServer();
                Set<ObjectName> ours = jmx.queryNames(new ObjectName(
                        org.activemirroring.mirror.metrics.MirrorMetrics.JMX_DOMAIN + ":*"), null);
                assertTrue(ours.stream().anyMatch(n -> n.toString().contains("obs-1"))
                        && ours.stream().anyMatch(n -> n.toString().contains("obs-2")), "our MBeans: " + ours);
                assertTrue(ours.stream().anyMatch(n -> n.toString().contains("mirrorOriginLag.mirror.obs-2.origin.obs-1")),
                        "our MBeans: " + ours);
                Set<ObjectName> channels = jmx.queryNames(new ObjectName("jgroups:type=channel,*"), null);
                assertEquals(2, channels.stream().filter(n -> n.toString().contains("obs-")).count(),
                        "JGroups channels: " + channels);
                Set<ObjectName> debezium = jmx.queryNames(new ObjectName("debezium.postgres:*"), null);
                assertFalse(debezium.isEmpty(), "Debezium's MBeans are missing");
                outputs.add(everyAttribute(jmx));
            } finally {
                tomcat.stop();
                tomcat.destroy();
                System.setErr(originalErr);
            }
            Await.until(Duration.ofSeconds(30), () -> SiteHttp.liveThreads("am-").isEmpty(),
                    () -> "threads left after the stop: " + SiteHttp.liveThreads("am-"));
            String log = captured.toString(StandardCharsets.UTF_8);
            outputs.add(log);
            for (String out : outputs) {
                for (String secret : List.of(DB_SECRET, ADMIN_SECRET, ADMIN_HASH, ADMIN_HASH.split("\\$")[3])) {
                    assertFalse(out.contains(secret), "a secret shows in:\n" + abbreviate(out, secret));
                }
            }
            assertCleanLog(log);
        } finally {
            System.setErr(originalErr);
        }
    }

    /** The configuration logged once per mirror, masked; nothing at ERROR; no stack trace; our lines name their mirror. */
    private static void assertCleanLog(String log) {
        List<String> problems = new ArrayList<>();
        int configs = 0;
        for (String line : log.split("\n")) {
            if (line.contains("Starting with this configuration")) {
                configs++;
            }
            if (line.contains(" ERROR ") || STACK.matcher(line).find()) {
                problems.add(line);
            }
            Matcher m = OUR_LINE.matcher(line);
            if (m.matches() && !m.group(2).startsWith("{mirror=obs-")) {
                problems.add("no mirror in the logging context: " + line);
            }
        }
        assertEquals(2, configs, "the configuration is logged once per mirror:\n" + log);
        assertTrue(log.contains("mirror.db.password = ****") && log.contains("mirror.admin.password-hash = ****"),
                "secrets masked in the configuration:\n" + log);
        assertTrue(log.contains("mirror.join = auto (default)"), "defaults shown:\n" + log);
        assertEquals(List.of(), problems, () -> "a clean start and stop logs none of these:\n"
                + String.join("\n", problems));
    }

    private static String metricsOf(String site, List<String> outputs) throws Exception {
        HttpResponse<String> r = admin(site + "/_mirror/metrics");
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain;version=0.0.4"),
                r.headers().toString());
        outputs.add(r.body());
        return r.body();
    }

    private static void assertMetric(String text, String series, double min, double max) {
        Matcher m = Pattern.compile("(?m)^" + series + " (\\S+)$").matcher(text);
        assertTrue(m.find(), series + " missing in:\n" + text);
        double v = Double.parseDouble(m.group(1));
        assertTrue(v >= min && v <= max, series + " = " + v + ", expected " + min + ".." + max);
    }

    /** Every readable attribute of every MBean of the JVM, as text. */
    private static String everyAttribute(MBeanServer jmx) throws Exception {
        StringBuilder sb = new StringBuilder();
        int read = 0;
        for (ObjectName name : jmx.queryNames(null, null)) {
            sb.append(name).append('\n');
            for (MBeanAttributeInfo a : jmx.getMBeanInfo(name).getAttributes()) {
                if (!a.isReadable()) {
                    continue;
                }
                try {
                    Object v = jmx.getAttribute(name, a.getName());
                    sb.append("  ").append(a.getName()).append(" = ").append(deep(v)).append('\n');
                    read++;
                } catch (Exception | LinkageError e) {
                    sb.append("  ").append(a.getName()).append(" unreadable\n");
                }
            }
        }
        assertTrue(read > 100, "read only " + read + " MBean attributes");
        return sb.toString();
    }

    private static String deep(Object v) {
        if (v instanceof Object[] array) {
            return java.util.Arrays.deepToString(array);
        }
        if (v instanceof javax.management.openmbean.CompositeData c) {
            return c.values().toString();
        }
        if (v instanceof javax.management.openmbean.TabularData t) {
            return t.values().toString();
        }
        return String.valueOf(v);
    }

    private static String abbreviate(String text, String secret) {
        int i = text.indexOf(secret);
        return text.substring(Math.max(0, i - 300), Math.min(text.length(), i + 300));
    }

    private static void insertCustomer(PgServer server, long id) throws Exception {
        try (java.sql.Connection c = server.connect(); java.sql.Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO customers (id, owner, name, balance, created) VALUES (" + id
                    + ", 'o', 'n', 1, now())");
        }
    }

    private static HttpResponse<String> admin(String url) throws IOException, InterruptedException {
        return get(url, "admin", ADMIN_SECRET);
    }

    /** A web application with the filter; added to a running Tomcat it starts at once. */
    private static void addSite(Tomcat tomcat, String path, Path config) {
        Context ctx = new org.apache.catalina.core.StandardContext();
        ctx.setName(path);
        ctx.setPath(path);
        ctx.addLifecycleListener(new Tomcat.FixContextListener());
        SiteHttp.declareMirrorFilter(ctx, config);
        Tomcat.addServlet(ctx, "site", new HttpServlet() {
            @Override
            protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                resp.getWriter().write("site page");
            }
        });
        ctx.addServletMappingDecoded("/*", "site");
        tomcat.getHost().addChild(ctx);
    }

    /** Writes to two streams. */
    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws IOException {
            a.flush();
            b.flush();
        }
    }
}
