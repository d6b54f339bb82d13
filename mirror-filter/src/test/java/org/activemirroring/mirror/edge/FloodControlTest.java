package org.activemirroring.mirror.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import io.github.bucket4j.TimeMeter;
import org.junit.jupiter.api.Test;

/** Flood control with a clock the test moves, and request/response stand-ins (no server). */
class FloodControlTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final TimeMeter clock = new TimeMeter() {
        @Override
        public long currentTimeNanos() {
            return now.get();
        }

        @Override
        public boolean isWallClockBased() {
            return false;
        }
    };

    private static EdgeOptions options(Map<String, String> extra) {
        Map<String, String> raw = new HashMap<>(extra);
        return EdgeOptions.of(raw);
    }

    @Test
    void aBurstPassesThenWritesAreRefusedWithRetryAfterUntilTheyRefill() throws Exception {
        FloodControl f = new FloodControl(options(Map.of("mirror.flood.writes-per-second", "2",
                "mirror.flood.writes-burst", "5")), clock, null);
        List<String> hits = new java.util.concurrent.CopyOnWriteArrayList<>();
        f.stats().onLimit(hits::add);
        for (int i = 0; i < 5; i++) {
            assertNotNull(f.admit(request("1.2.3.4", null, 0), new Response()), "burst write " + i);
        }
        Response refused = new Response();
        assertNull(f.admit(request("1.2.3.4", null, 0), refused));
        assertEquals(429, refused.status);
        assertEquals("1", refused.headers.get("Retry-After"));
        assertTrue(refused.body.toString().contains("2 write requests per second"), refused.body.toString());
        assertNotNull(f.admit(request("5.6.7.8", null, 0), new Response()), "another client is not affected");
        assertNotNull(f.admit(request("9.9.9.9", "alice", 0), new Response()));
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(500));
        assertNotNull(f.admit(request("1.2.3.4", null, 0), new Response()), "one write refilled after 0.5 s");
        assertEquals(1, f.stats().refusedWrites());
        assertEquals(1, f.stats().limitsHit());
        assertEquals(List.of("writes"), hits, "the metric hears of each limit hit");
    }

    @Test
    void uploadsAreLimitedByBytesPerMinuteAndAnOversizedOnePassesOnlyWithAFullAllowance() throws Exception {
        FloodControl f = new FloodControl(options(Map.of("mirror.flood.upload-mib-per-minute", "10")), clock, null);
        long mib = FloodControl.MIB;
        assertNotNull(f.admit(request("1.2.3.4", null, 6 * mib), new Response()));
        Response refused = new Response();
        assertNull(f.admit(request("1.2.3.4", null, 6 * mib), refused));
        assertEquals(429, refused.status);
        assertEquals("12", refused.headers.get("Retry-After"), "2 MiB missing at 10 MiB/min: 12 s");
        assertEquals(1, f.stats().refusedUploads());
        assertNotNull(f.admit(request("5.6.7.8", null, 100 * mib), new Response()), "oversized, full allowance");
        assertNull(f.admit(request("5.6.7.8", null, 1), new Response()), "and it used all of it");
    }

    @Test
    void theSameUserIsOneClientFromAnyAddress() throws Exception {
        FloodControl f = new FloodControl(options(Map.of("mirror.flood.writes-per-second", "1",
                "mirror.flood.writes-burst", "1")), clock, null);
        assertNotNull(f.admit(request("1.1.1.1", "bob", 0), new Response()));
        assertNull(f.admit(request("2.2.2.2", "bob", 0), new Response()));
        assertNotNull(f.admit(request("2.2.2.2", null, 0), new Response()), "the address alone is another client");
    }

    @Test
    void theTarpitHoldsARefusalUntilTheAllowanceRefillsButNeverMoreThreadsThanItsBound() throws Exception {
        Tarpit tarpit = new Tarpit("test");
        try {
            Response held = new Response();
            long start = System.nanoTime();
            tarpit.answer(request("1.2.3.4", null, 0), held, TimeUnit.MILLISECONDS.toNanos(80), r -> r.setStatus(429));
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(429, held.status);
            assertTrue(tookMs >= 80 && tookMs < 1000, "held " + tookMs + " ms");
            start = System.nanoTime();
            tarpit.answer(request("1.2.3.4", null, 0), new Response(), TimeUnit.SECONDS.toNanos(30), r -> r.setStatus(429));
            assertTrue(System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(Tarpit.MAX_DELAY_MS + 900),
                    "never longer than " + Tarpit.MAX_DELAY_MS + " ms");
        } finally {
            tarpit.close();
        }
    }

    @Test
    void idleClientsAreForgottenAndTheMapStaysBounded() {
        ClientBuckets<Object> m = new ClientBuckets<>(100, TimeUnit.SECONDS.toNanos(61), now::get);
        for (int i = 0; i < 100; i++) {
            m.get("c" + i, k -> new Object());
        }
        now.addAndGet(TimeUnit.SECONDS.toNanos(62));
        m.get("fresh", k -> new Object());
        assertEquals(1, m.size(), "clients idle past a full refill are dropped");
        for (int i = 0; i < 500; i++) {
            now.addAndGet(1);
            m.get("flood" + i, k -> new Object());
        }
        assertTrue(m.size() <= 100, "bounded: " + m.size());
    }

    @Test
    void badOptionsAreReportedTogether() {
        List<String> problems = new java.util.ArrayList<>();
        assertNull(EdgeOptions.from(Map.of("mirror.flood.trusted-proxies", "10.0.0.0/8,proxy.example.org",
                "mirror.peer.urls", "ftp://x", "mirror.flood.writes-per-second", "0"), problems));
        assertEquals(3, problems.size(), problems.toString());
        assertTrue(problems.toString().contains("proxy.example.org"), problems.toString());
        problems.clear();
        assertNull(EdgeOptions.from(Map.of("mirror.unready.forward", "true"), problems));
        assertTrue(problems.get(0).contains("mirror.peer.urls"), problems.toString());
        EdgeOptions ok = EdgeOptions.of(Map.of("mirror.peer.urls", "http://10.0.0.2:8080/, https://m3.example.org"));
        assertEquals("http://10.0.0.2:8080", ok.peerUrls().get(0).toString());
    }

    /** A request from {@code addr}, of the container's user {@code user} (or none), with a body of {@code length}. */
    private static HttpServletRequest request(String addr, String user, long length) {
        return (HttpServletRequest) Proxy.newProxyInstance(FloodControlTest.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (p, m, a) -> switch (m.getName()) {
                    case "getRemoteAddr" -> addr;
                    case "getRemoteUser" -> user;
                    case "getContentLengthLong" -> length;
                    case "getHeaders" -> Collections.emptyEnumeration();
                    case "getMethod" -> "POST";
                    case "isAsyncSupported" -> false;
                    default -> null;
                });
    }

    /** Records status, headers and body. */
    private static final class Response extends jakarta.servlet.http.HttpServletResponseWrapper {
        int status = 200;
        final Map<String, String> headers = new HashMap<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();

        Response() {
            super((HttpServletResponse) Proxy.newProxyInstance(FloodControlTest.class.getClassLoader(),
                    new Class<?>[] {HttpServletResponse.class}, (p, m, a) -> null));
        }

        @Override
        public void setStatus(int sc) {
            status = sc;
        }

        @Override
        public void setHeader(String name, String value) {
            headers.put(name, value);
        }

        @Override
        public ServletOutputStream getOutputStream() {
            return new ServletOutputStream() {
                @Override
                public void write(int b) {
                    body.write(b);
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setWriteListener(WriteListener listener) {
                }
            };
        }
    }
}
