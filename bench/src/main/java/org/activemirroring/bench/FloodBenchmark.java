package org.activemirroring.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.mirror.MirrorConfig;
import org.activemirroring.mirror.MirrorFilter;
import org.activemirroring.mirror.MirrorNode;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;

/**
 * Flood control under a flood: {@code bench/run flood [--seconds 20] [--clients 10] [--rate 4]}.
 * A real mirror (its node over an embedded PostgreSQL, with a peer so that every write is captured,
 * journaled and sent) behind {@code MirrorFilter} with its default limits, in an embedded Tomcat,
 * in front of a trivial servlet that inserts one row per POST. {@code --clients} normal clients each
 * write {@code --rate} times per second (paced); one flooder writes as fast as it can on four
 * connections. Clients are told apart by {@code X-Forwarded-For}, as behind a load balancer
 * (127.0.0.1 is a trusted proxy). Two phases of {@code --seconds} each, after a warm-up: the normal
 * clients alone, then with the flooder. Compares the normal clients' p99 write latency, and counts
 * the share of the flooder's requests refused with 429.
 *
 * <p>Last line: {@code RESULT flood refused_share=X others_p99_ratio=X} (goal: ratio at most 2).
 */
final class FloodBenchmark {
    private static final int FLOOD_CONNECTIONS = 4;
    private static final int POOL = 8;
    private static final int BLOCK_SECONDS = 2;
    /**
     * A client of its own per visitor, as browsers are: one shared java.net.http client would queue
     * the visitors' requests behind the flooder's on its one selector thread. Made once: on Java 17
     * a client's selector thread ends only when the client is collected.
     */
    private static final List<HttpClient> VISITORS = new ArrayList<>();
    private static final HttpClient FLOODER = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private FloodBenchmark() {
    }

    static Map<String, Object> run(int seconds, int clients, int rate) throws Exception {
        if (seconds < 1 || clients < 1 || rate < 1) {
            throw new IllegalArgumentException("--seconds, --clients and --rate must be at least 1 (were " + seconds
                    + ", " + clients + ", " + rate + ")");
        }
        Path work = Files.createDirectories(PostgresServers.workDir().resolve("flood-" + System.nanoTime()));
        try (PostgresServers pgs = PostgresServers.start("flood", 2)) {
            for (PgServer s : pgs.servers()) {
                try (Connection c = s.connect(); Statement st = c.createStatement()) {
                    st.execute("CREATE TABLE bench_flood (id bigserial PRIMARY KEY, client text NOT NULL,"
                            + " written timestamptz NOT NULL DEFAULT now())");
                }
            }
            List<Map<String, String>> settings = BenchMain.mirrorSettings(pgs.servers());
            Map<String, String> site = new LinkedHashMap<>(settings.get(0));
            site.putIfAbsent("mirror.flood.trusted-proxies", "127.0.0.1/32,::1/128");
            Path config = work.resolve("mirror.properties");
            StringBuilder props = new StringBuilder();
            site.forEach((k, v) -> props.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
            Files.writeString(config, props);
            BlockingQueue<Connection> pool = new ArrayBlockingQueue<>(POOL);
            for (int i = 0; i < POOL; i++) {
                pool.add(pgs.get(0).connect());
            }
            Tomcat tomcat = new Tomcat();
            tomcat.setBaseDir(work.resolve("tomcat").toString());
            tomcat.setPort(0);
            tomcat.getConnector();
            Context ctx = tomcat.addContext("", null);
            FilterDef def = new FilterDef();
            def.setFilterName("mirror");
            def.setFilterClass(MirrorFilter.class.getName());
            def.addInitParameter(MirrorFilter.CONFIG_FILE_PARAM, config.toString());
            def.setAsyncSupported("true"); // as MirrorInitializer registers it
            ctx.addFilterDef(def);
            FilterMap map = new FilterMap();
            map.setFilterName("mirror");
            map.addURLPattern("/*");
            ctx.addFilterMap(map);
            // Async-capable, as e.g. Spring's DispatcherServlet is: the filter then holds refusals without a thread.
            Tomcat.addServlet(ctx, "write", new Writer(pool)).setAsyncSupported(true);
            ctx.addServletMappingDecoded("/*", "write");
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            try {
                BenchMain.say("Starting the mirror behind the filter in an embedded Tomcat, then its peer ...");
                tomcat.start();
                String base = "http://127.0.0.1:" + tomcat.getConnector().getLocalPort();
                Await.until(Duration.ofMinutes(2), () -> status(http, base + "/_mirror/health") == 200,
                        () -> "the mirror did not become ready within 2 minutes");
                try (MirrorNode peer = MirrorNode.start(MirrorConfig.of(settings.get(1)))) {
                    return measure(http, base, clients, rate, seconds, peer);
                }
            } finally {
                tomcat.stop();
                tomcat.destroy();
                for (Connection c : pool) {
                    c.close();
                }
            }
        }
    }

    private static Map<String, Object> measure(HttpClient http, String base, int clients, int rate, int seconds,
                                               MirrorNode peer) throws InterruptedException {
        Await.until(Duration.ofSeconds(60), () -> peer.isReady(), () -> "the peer did not become ready");
        String url = base + "/write";
        while (VISITORS.size() < clients) {
            VISITORS.add(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build());
        }
        BenchMain.say("Warm-up: " + clients + " clients at " + rate + " writes/s each, 3 s alone, 3 s with the flooder ...");
        phase(url, clients, rate, 3, false);
        phase(url, clients, rate, 3, true);
        int blocks = Math.max(1, (seconds + BLOCK_SECONDS - 1) / BLOCK_SECONDS);
        BenchMain.say(clients + " clients at " + rate + " writes/s each, without and with the flooder ("
                + FLOOD_CONNECTIONS + " connections, as fast as it can) in alternating " + BLOCK_SECONDS + " s blocks, "
                + blocks * BLOCK_SECONDS + " s each ...");
        Phase calm = new Phase();
        Phase flood = new Phase();
        for (int i = 0; i < blocks; i++) {
            // without, with, with, without, ...: the machine's drift falls on both alike.
            boolean[] order = i % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false};
            for (boolean withFlooder : order) {
                (withFlooder ? flood : calm).add(phase(url, clients, rate, BLOCK_SECONDS, withFlooder));
            }
        }
        LatencyStats calmStats = new LatencyStats(calm.samples());
        LatencyStats floodStats = new LatencyStats(flood.samples());
        BenchMain.say("  others without the flooder " + calmStats.summary() + ", failed " + calm.othersFailed);
        BenchMain.say("  others with the flooder    " + floodStats.summary() + ", failed " + flood.othersFailed);
        long floodTotal = flood.floodOk + flood.floodRefused + flood.floodFailed;
        double refusedShare = floodTotal == 0 ? 0 : flood.floodRefused / (double) floodTotal;
        int floodSeconds = blocks * BLOCK_SECONDS;
        BenchMain.say(String.format(Locale.ROOT, "  flooder: %,d requests (%.0f/s), %,d accepted (%.1f/s), %,d refused"
                + " (429), %,d failed otherwise", floodTotal, floodTotal / (double) floodSeconds, flood.floodOk,
                flood.floodOk / (double) floodSeconds, flood.floodRefused, flood.floodFailed));
        if (calm.othersFailed > 0 || flood.othersFailed > 0 || calmStats.count() == 0) {
            throw new IllegalStateException("normal clients' writes failed (" + calm.othersFailed + " without, "
                    + flood.othersFailed + " with the flooder; first: " + flood.firstFailure + calm.firstFailure
                    + "): the default limits must never refuse them");
        }
        double ratio = floodStats.percentileMs(99) / calmStats.percentileMs(99);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("kind", "flood");
        r.put("clients", clients);
        r.put("rate_each", rate);
        r.put("seconds_per_phase", floodSeconds);
        r.put("block_seconds", BLOCK_SECONDS);
        r.put("others_without_flooder", stats(calmStats));
        r.put("others_with_flooder", stats(floodStats));
        r.put("flooder_requests", floodTotal);
        r.put("flooder_accepted", flood.floodOk);
        r.put("flooder_refused", flood.floodRefused);
        r.put("flooder_failed_otherwise", flood.floodFailed);
        r.put("refused_share", refusedShare);
        r.put("others_p99_ratio", ratio);
        r.put("RESULT", String.format(Locale.ROOT, "RESULT flood refused_share=%.3f others_p99_ratio=%.2f",
                refusedShare, ratio));
        return r;
    }

    private static Map<String, Object> stats(LatencyStats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", s.count());
        m.put("p50_ms", s.percentileMs(50));
        m.put("p99_ms", s.percentileMs(99));
        m.put("max_ms", s.percentileMs(100));
        return m;
    }

    private static final class Phase {
        final List<long[]> latencies = new ArrayList<>();
        long othersFailed;
        long floodOk;
        long floodRefused;
        long floodFailed;
        String firstFailure = "";

        void add(Phase p) {
            latencies.addAll(p.latencies);
            othersFailed += p.othersFailed;
            floodOk += p.floodOk;
            floodRefused += p.floodRefused;
            floodFailed += p.floodFailed;
            if (firstFailure.isEmpty()) {
                firstFailure = p.firstFailure;
            }
        }

        long[] samples() {
            return latencies.stream().flatMapToLong(java.util.Arrays::stream).toArray();
        }
    }

    private static Phase phase(String url, int clients, int rate, int seconds, boolean flooder)
            throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<long[]> samples = new ArrayList<>();
        AtomicLong failed = new AtomicLong();
        AtomicLong ok = new AtomicLong();
        AtomicLong refused = new AtomicLong();
        AtomicLong floodFailed = new AtomicLong();
        String[] firstFailure = {""};
        List<Thread> threads = new ArrayList<>();
        long interval = TimeUnit.SECONDS.toNanos(1) / rate;
        for (int i = 0; i < clients; i++) {
            String client = "198.51.100." + (i + 1);
            long[] lat = new long[(int) (seconds * rate * 2L + 16)];
            samples.add(lat);
            long offset = interval * i / clients; // spread over the interval, not all at once
            HttpClient own = VISITORS.get(i % VISITORS.size());
            threads.add(start("flood-bench-client-" + i, () -> {
                int n = 0;
                long next = System.nanoTime() + offset;
                while (next < end && n < lat.length - 1) {
                    LockSupport.parkNanos(next - System.nanoTime());
                    long t0 = System.nanoTime();
                    int code = post(own, url, client);
                    long took = System.nanoTime() - t0;
                    if (code == 200) {
                        lat[++n] = took;
                    } else {
                        failed.incrementAndGet();
                        synchronized (firstFailure) {
                            if (firstFailure[0].isEmpty()) {
                                firstFailure[0] = client + ": HTTP " + code;
                            }
                        }
                    }
                    next += interval;
                }
                lat[0] = n;
            }));
        }
        if (flooder) {
            for (int i = 0; i < FLOOD_CONNECTIONS; i++) {
                threads.add(start("flood-bench-flooder-" + i, () -> {
                    while (System.nanoTime() < end) {
                        int code = post(FLOODER, url, "203.0.113.66");
                        (code == 200 ? ok : code == 429 ? refused : floodFailed).incrementAndGet();
                    }
                }));
            }
        }
        for (Thread t : threads) {
            t.join();
        }
        int total = samples.stream().mapToInt(l -> (int) l[0]).sum();
        long[] all = new long[total];
        int k = 0;
        for (long[] l : samples) {
            for (int j = 1; j <= l[0]; j++) {
                all[k++] = l[j];
            }
        }
        Phase p = new Phase();
        p.latencies.add(all);
        p.othersFailed = failed.get();
        p.floodOk = ok.get();
        p.floodRefused = refused.get();
        p.floodFailed = floodFailed.get();
        p.firstFailure = firstFailure[0];
        return p;
    }

    private static Thread start(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.start();
        return t;
    }

    /** One write as {@code client}; the status, or -1 when the request failed. */
    private static int post(HttpClient http, String url, String client) {
        try {
            HttpRequest r = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                    .header("X-Forwarded-For", client).POST(HttpRequest.BodyPublishers.ofString("x")).build();
            return http.send(r, HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private static int status(HttpClient http, String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** POST: inserts one row for the client the request names; a pooled connection per request. */
    private static final class Writer extends HttpServlet {
        private final transient BlockingQueue<Connection> pool;

        Writer(BlockingQueue<Connection> pool) {
            this.pool = pool;
        }

        @Override
        protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            Connection c;
            try {
                c = pool.take();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench_flood (client) VALUES (?)")) {
                ps.setString(1, String.valueOf(req.getHeader("X-Forwarded-For")));
                ps.executeUpdate();
            } catch (SQLException e) {
                throw new IOException(e);
            } finally {
                pool.add(c);
            }
            resp.setContentType("text/plain");
            resp.getWriter().write("ok");
        }
    }
}
