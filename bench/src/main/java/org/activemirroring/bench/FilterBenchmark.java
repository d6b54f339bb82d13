package org.activemirroring.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import org.activemirroring.mirror.MirrorConfig;
import org.activemirroring.mirror.MirrorNode;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.tomcatconf.Install;
import org.activemirroring.tomcatconf.MirrorTomcat;

/**
 * What the filter costs a site: {@code bench/run filter [--seconds 20] [--clients 8] [--block-seconds 2]
 * [--heap-seconds 30] [--rate 200]}. One real Tomcat 11 (from the distribution, with {@code -Xmx512m}
 * from tomcat-conf's setenv.sh) over an embedded PostgreSQL runs the sample site twice, from the
 * same jars: {@code /with} is sample-webapp.war as built (the filter in its web.xml, the mirror node
 * running), {@code /without} is the same WAR with the web.xml of the bare WAR (no filter). A second
 * mirror runs in this JVM, so the node has a peer as in production. A closed-loop load generator
 * ({@link HttpLoad}, {@code --clients} concurrent clients on 127.0.0.1) loads the item page and the
 * trivial servlet {@code /trivial} of each, in alternating blocks (with, without, without, with, ...)
 * so that drift (JIT, the machine's other load) falls on both alike; the ratio is the median,
 * over the pairs of adjacent blocks, of throughput with / without (each pair saw nearly the same
 * machine), printed beside the ratio of the totals and the quartiles of the pairs. Then the heap: the lag benchmark's load (single-row commits at {@code --rate} per second
 * into the site's database, captured and sent by the Tomcat's node, and as many into the peer's,
 * applied by it) with the item page under load, for {@code --heap-seconds}; the peak heap after GC
 * comes from the Tomcat's GC log, and an OutOfMemoryError would end Tomcat (setenv.sh's
 * {@code -XX:+ExitOnOutOfMemoryError}) and show in its log.
 *
 * <p>Last line: {@code RESULT filter page_ratio=X trivial_ratio=X heap_peak_mib=N oom=false}.
 */
final class FilterBenchmark {
    private static final String WITH = "with";
    private static final String WITHOUT = "without";
    private static final String HEAP = "512m";

    private FilterBenchmark() {
    }

    static Map<String, Object> run(int seconds, int clients, int blockSeconds, int heapSeconds, int rate)
            throws Exception {
        if (seconds < 1 || blockSeconds < 1 || heapSeconds < 1 || rate < 1) {
            throw new IllegalArgumentException("--seconds, --block-seconds, --heap-seconds and --rate must be at"
                    + " least 1 (were " + seconds + ", " + blockSeconds + ", " + heapSeconds + ", " + rate + ")");
        }
        Path siteWar = existing("bench.site.war");
        Path bareWar = existing("bench.site.bare.war");
        Path work = Files.createDirectories(PostgresServers.workDir().resolve("filter-" + System.nanoTime()));
        Path withoutWar = withoutFilter(siteWar, bareWar, work.resolve("without.war"));
        // Empty databases: the site's Flyway migrations refuse a schema that holds tables already, so
        // the benchmark's tables come after the site started, and the peer joins with all of them.
        try (PostgresServers pgs = PostgresServers.start("bench", 2); HttpLoad load = new HttpLoad(clients)) {
            List<Map<String, String>> settings = BenchMain.mirrorSettings(pgs.servers());
            MirrorTomcat site = MirrorTomcat.create("site", work.resolve("site"), pgs.get(0), settings.get(0), Install.WAR);
            Path gcLog = work.resolve("site-gc.log");
            // The automatic filter stays off, so /without has no filter whatever its jars hold.
            site.tomcat().base().heap(HEAP).jvmOptions("-Xlog:gc:file=" + gcLog, "-Dmirror.filter.auto=false");
            site.addWar(WITH, siteWar).addWar(WITHOUT, withoutWar);
            try (site) {
                BenchMain.say("Starting Tomcat with the sample site as /with (filter) and /without, -Xmx" + HEAP + " ...");
                site.start();
                site.tomcat().awaitHttp("/" + WITH + "/_mirror/health", s -> s == 200, Duration.ofMinutes(3));
                site.tomcat().awaitHttp("/" + WITHOUT + "/trivial", s -> s == 200, Duration.ofMinutes(3));
                int withoutHealth = site.tomcat().awaitHttp("/" + WITHOUT + "/_mirror/health", s -> true, Duration.ofSeconds(10));
                if (withoutHealth != 404) {
                    throw new IllegalStateException("/without/_mirror/health answered " + withoutHealth
                            + ", not 404: a filter runs in front of /without, so the comparison would be void");
                }
                BenchSchema.create(pgs.get(0));
                try (MirrorNode peer = MirrorNode.start(MirrorConfig.of(settings.get(1)))) {
                    BenchMain.awaitWarmUp(pgs.servers());
                    long item = seedItem(pgs.get(0));
                    String pagePath = "/items/" + item;
                    for (String ctx : List.of(WITH, WITHOUT)) {
                        site.tomcat().awaitHttp("/" + ctx + pagePath, s -> s == 200, Duration.ofSeconds(30));
                    }
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("kind", "filter");
                    r.put("clients", clients);
                    r.put("seconds_per_variant", seconds);
                    r.put("block_seconds", blockSeconds);
                    Map<String, Double> page = compare(load, site, "item page", pagePath, seconds, blockSeconds);
                    Map<String, Double> trivial = compare(load, site, "trivial servlet", "/trivial", seconds, blockSeconds);
                    r.put("page_requests_per_second", page);
                    r.put("trivial_requests_per_second", trivial);

                    Map<String, Object> heap = heapUnderLoad(load, site, pgs, pagePath, heapSeconds, rate, gcLog);
                    r.put("heap", heap);
                    // The median of paired blocks: the totals' ratio moves with the machine's other load.
                    double pageRatio = page.get("pair_ratio_median");
                    double trivialRatio = trivial.get("pair_ratio_median");
                    r.put("page_ratio", pageRatio);
                    r.put("trivial_ratio", trivialRatio);
                    r.put("RESULT", String.format(Locale.ROOT,
                            "RESULT filter page_ratio=%.3f trivial_ratio=%.3f heap_peak_mib=%d oom=%s",
                            pageRatio, trivialRatio, (long) heap.get("peak_after_gc_mib"), heap.get("out_of_memory")));
                    return r;
                }
            }
        }
    }

    /**
     * Warms both variants up, then loads them in alternating blocks, {@code seconds} in all each;
     * returns requests per second by variant.
     */
    private static Map<String, Double> compare(HttpLoad load, MirrorTomcat site, String label, String path,
                                               int seconds, int blockSeconds) throws InterruptedException {
        String with = site.url("/" + WITH + path);
        String without = site.url("/" + WITHOUT + path);
        BenchMain.say("The " + label + " (" + path + "): warm-up, then " + seconds + " s each in " + blockSeconds
                + " s blocks ...");
        Duration warm = Duration.ofSeconds(Math.max(2, Math.min(5, seconds)));
        check(load.run(with, warm));
        check(load.run(without, warm));
        long[] ok = new long[2];
        double[] time = new double[2];
        int blocks = Math.max(1, (seconds + blockSeconds - 1) / blockSeconds);
        Duration block = Duration.ofSeconds(blockSeconds);
        List<Double> pairs = new ArrayList<>();
        for (int i = 0; i < blocks; i++) {
            // with, without, without, with, ...: a drift over the run weighs on both alike.
            int[] order = i % 2 == 0 ? new int[] {0, 1} : new int[] {1, 0};
            double[] rate = new double[2];
            for (int v : order) {
                HttpLoad.Block b = check(load.run(v == 0 ? with : without, block));
                ok[v] += b.ok();
                time[v] += b.seconds();
                rate[v] = b.ok() / b.seconds();
            }
            // Each pair of adjacent blocks saw nearly the same machine: their ratio is little
            // touched by other load, which moves the totals by several percent.
            pairs.add(rate[0] / rate[1]);
        }
        pairs.sort(null);
        Map<String, Double> out = new LinkedHashMap<>();
        out.put(WITH, ok[0] / time[0]);
        out.put(WITHOUT, ok[1] / time[1]);
        out.put("total_ratio", out.get(WITH) / out.get(WITHOUT));
        out.put("pair_ratio_median", quantile(pairs, 0.5));
        out.put("pair_ratio_p25", quantile(pairs, 0.25));
        out.put("pair_ratio_p75", quantile(pairs, 0.75));
        out.put("pairs", (double) pairs.size());
        BenchMain.say(String.format(Locale.ROOT, "  %-16s with the filter %,9.0f req/s, without %,9.0f req/s, ratio %.3f;"
                        + " median of %d paired blocks %.3f (quartiles %.3f-%.3f)",
                label, out.get(WITH), out.get(WITHOUT), out.get("total_ratio"), pairs.size(),
                out.get("pair_ratio_median"), out.get("pair_ratio_p25"), out.get("pair_ratio_p75")));
        return out;
    }

    /** The {@code q} quantile of sorted values, interpolated between neighbours. */
    static double quantile(List<Double> sorted, double q) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        double pos = q * (sorted.size() - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.size() - 1, lo + 1);
        return sorted.get(lo) + (sorted.get(hi) - sorted.get(lo)) * (pos - lo);
    }

    private static HttpLoad.Block check(HttpLoad.Block b) {
        if (b.failed() > 0) {
            throw new IllegalStateException(b.failed() + " of " + (b.ok() + b.failed()) + " requests failed (first: "
                    + b.firstFailure() + "): the benchmark would measure error pages");
        }
        return b;
    }

    /**
     * The lag benchmark's write load on both mirrors, with the item page under load on /with,
     * for {@code seconds}; then the peak heap after GC from Tomcat's GC log and whether it ran
     * out of memory.
     */
    private static Map<String, Object> heapUnderLoad(HttpLoad load, MirrorTomcat site, PostgresServers pgs,
                                                     String pagePath, int seconds, int rate, Path gcLog)
            throws Exception {
        BenchMain.say("Heap: " + rate + " commits/s into the site's database and " + rate + " into the peer's,"
                + " the item page under load, " + seconds + " s ...");
        long pages;
        long lastSite;
        long lastPeer;
        try (SteadyWriter own = SteadyWriter.start(pgs.get(0), rate, 10_000_000L);
             SteadyWriter peers = SteadyWriter.start(pgs.get(1), rate, 20_000_000L)) {
            HttpLoad.Block b = load.run(site.url("/" + WITH + pagePath), Duration.ofSeconds(seconds));
            pages = b.ok();
            own.checkAlive();
            peers.checkAlive();
            lastSite = own.lastCommittedId();
            lastPeer = peers.lastCommittedId();
        }
        // Each mirror holds the other's rows once replication has caught up.
        Await.until(Duration.ofMinutes(2), () -> has(pgs.get(1), lastSite) && has(pgs.get(0), lastPeer),
                () -> "the write load did not reach both mirrors within 2 minutes");
        boolean running = site.tomcat().isRunning();
        String log = Files.readString(site.tomcat().log().catalinaOut(), StandardCharsets.UTF_8);
        // The JVM flag -XX:+ExitOnOutOfMemoryError is in the log too; the error itself is named in full.
        boolean oom = !running || log.contains("java.lang.OutOfMemoryError");
        long peak = GcLogHeap.peakAfterGcMib(gcLog);
        long gcs = GcLogHeap.collections(gcLog);
        BenchMain.say(String.format(Locale.ROOT, "  Tomcat (-Xmx%s): peak heap after GC %d MiB over %d collections;"
                + " OutOfMemoryError: %s; %,d item pages served meanwhile", HEAP, peak, gcs, oom ? "YES" : "none", pages));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("xmx", HEAP);
        m.put("seconds", seconds);
        m.put("rate_each_mirror", rate);
        m.put("peak_after_gc_mib", peak);
        m.put("collections", gcs);
        m.put("out_of_memory", oom);
        m.put("pages_served", pages);
        return m;
    }

    private static boolean has(PgServer server, long id) {
        try (Connection c = server.connect();
             PreparedStatement ps = c.prepareStatement("SELECT 1 FROM bench_lag WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            return false;
        }
    }

    /** An account and one item without an image in the site's database; returns the item's id. */
    private static long seedItem(PgServer server) throws SQLException {
        try (Connection c = server.connect()) {
            long account;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO account (user_name, email, password_hash,"
                    + " created_at) VALUES ('bench', 'bench@example.org', 'not-a-login', now()) RETURNING id");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                account = rs.getLong(1);
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO item (owner_id, title, description, place,"
                    + " period, created_at, updated_at) VALUES (?, 'Loom weight', ?, 'Ribe', 'Viking Age', now(), now())"
                    + " RETURNING id")) {
                ps.setLong(1, account);
                ps.setString(2, "A pierced clay weight from a warp-weighted loom. ".repeat(8).trim());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        }
    }

    /**
     * sample-webapp.war with the web.xml of sample-webapp-bare.war: the same jars and classes, no
     * filter declared. Fails if that web.xml names MirrorFilter.
     */
    static Path withoutFilter(Path siteWar, Path bareWar, Path target) throws IOException {
        byte[] bareWebXml;
        try (ZipFile bare = new ZipFile(bareWar.toFile())) {
            ZipEntry e = bare.getEntry("WEB-INF/web.xml");
            if (e == null) {
                throw new IllegalStateException(bareWar + " has no WEB-INF/web.xml");
            }
            try (InputStream in = bare.getInputStream(e)) {
                bareWebXml = in.readAllBytes();
            }
        }
        if (new String(bareWebXml, StandardCharsets.UTF_8).contains("MirrorFilter")) {
            throw new IllegalStateException("The web.xml of " + bareWar + " declares MirrorFilter: it is not the site"
                    + " without the filter");
        }
        try (ZipFile war = new ZipFile(siteWar.toFile()); OutputStream out = Files.newOutputStream(target);
             ZipOutputStream zip = new ZipOutputStream(out)) {
            for (ZipEntry e : java.util.Collections.list(war.entries())) {
                zip.putNextEntry(new ZipEntry(e.getName()));
                if (e.getName().equals("WEB-INF/web.xml")) {
                    zip.write(bareWebXml);
                } else if (!e.isDirectory()) {
                    try (InputStream in = war.getInputStream(e)) {
                        in.transferTo(zip);
                    }
                }
                zip.closeEntry();
            }
        }
        return target;
    }

    private static Path existing(String property) {
        String value = System.getProperty(property);
        if (value == null || !Files.isRegularFile(Path.of(value))) {
            throw new IllegalStateException("-D" + property + "=" + value + " is not a WAR: bench/run filter passes the"
                    + " sample site's WARs from sample-webapp/target (built by ./mvnw -pl bench -am install)");
        }
        return Path.of(value);
    }
}
