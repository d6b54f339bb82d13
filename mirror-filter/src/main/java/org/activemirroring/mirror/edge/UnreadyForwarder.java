package org.activemirroring.mirror.edge;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small reverse proxy for a mirror that is not ready ({@link EdgeOptions#FORWARD_UNREADY}): the
 * request goes to a ready peer of {@link EdgeOptions#PEER_URLS} (method, headers without the
 * hop-by-hop ones, body streamed) and the peer's status, headers and body come back. Adds
 * {@code X-Forwarded-For}, {@code X-Forwarded-Proto}, {@code X-Forwarded-Host} and {@code Via}, and
 * the loop guard {@value #FORWARDED_HEADER}: a request that carries it is never forwarded again.
 * A peer is ready when its {@code /_mirror/health} answered 200 within the last
 * {@link #HEALTH_TTL}; peers are tried round robin.
 */
final class UnreadyForwarder implements AutoCloseable {
    /** Names the mirror that forwarded a request; a mirror never forwards a request that has it. */
    static final String FORWARDED_HEADER = "X-Mirror-Forwarded-By";
    static final Duration HEALTH_TTL = Duration.ofSeconds(2);
    private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(1);
    private static final Logger LOG = LoggerFactory.getLogger(UnreadyForwarder.class);

    /** Headers of one connection, not of the message (RFC 9110 7.6.1), plus those the client sets itself. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-authenticate",
            "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host",
            "content-length", "expect", "http2-settings");

    private record Peer(URI base, long checkedAt, boolean ready) {
    }

    private final String nodeId;
    private final List<URI> peers;
    private final Duration timeout;
    private final HttpClient client;
    private final java.util.concurrent.ExecutorService executor;
    private final Map<URI, Peer> health = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicInteger next = new AtomicInteger();

    UnreadyForwarder(String nodeId, List<URI> peers, Duration timeout) {
        this.nodeId = nodeId;
        this.peers = List.copyOf(peers);
        this.timeout = timeout;
        AtomicInteger threads = new AtomicInteger();
        this.executor = java.util.concurrent.Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "am-forward-" + nodeId + "-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).executor(executor)
                .followRedirects(HttpClient.Redirect.NEVER).version(HttpClient.Version.HTTP_1_1).build();
    }

    /**
     * Answers the request from a ready peer.
     *
     * @return false when it was not forwarded (already forwarded once, or no peer is ready): the
     *         caller answers 503 then; true when the response is written (the peer's, or 502/504
     *         when the peer failed midway)
     */
    boolean forward(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (request.getHeader(FORWARDED_HEADER) != null) {
            return false;
        }
        URI peer = readyPeer(request.getContextPath());
        if (peer == null) {
            return false;
        }
        String query = request.getQueryString();
        URI target = URI.create(peer + request.getRequestURI() + (query == null ? "" : "?" + query));
        HttpRequest.Builder b = HttpRequest.newBuilder(target).timeout(timeout);
        for (String name : Collections.list(request.getHeaderNames())) {
            String lower = name.toLowerCase(Locale.ROOT);
            if (HOP_BY_HOP.contains(lower) || lower.equals("x-forwarded-for") || lower.equals("via")) {
                continue;
            }
            for (String value : Collections.list(request.getHeaders(name))) {
                b.header(name, value);
            }
        }
        String xff = request.getHeader("X-Forwarded-For");
        b.header("X-Forwarded-For", (xff == null || xff.isBlank() ? "" : xff + ", ") + request.getRemoteAddr());
        if (request.getHeader("X-Forwarded-Proto") == null) {
            b.header("X-Forwarded-Proto", request.getScheme());
        }
        if (request.getHeader("X-Forwarded-Host") == null && request.getHeader("Host") != null) {
            b.header("X-Forwarded-Host", request.getHeader("Host"));
        }
        String via = request.getHeader("Via");
        b.header("Via", (via == null ? "" : via + ", ") + "1.1 " + nodeId);
        b.header(FORWARDED_HEADER, nodeId);
        long length = request.getContentLengthLong();
        HttpRequest.BodyPublisher body;
        if (length == 0 || (length < 0 && request.getHeader("Transfer-Encoding") == null)) {
            body = HttpRequest.BodyPublishers.noBody();
        } else {
            InputStream in = request.getInputStream();
            HttpRequest.BodyPublisher stream = HttpRequest.BodyPublishers.ofInputStream(() -> in);
            body = length > 0 ? HttpRequest.BodyPublishers.fromPublisher(stream, length) : stream;
        }
        b.method(request.getMethod(), body);
        HttpResponse<InputStream> answer;
        try {
            answer = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpTimeoutException e) {
            health.put(peer, new Peer(peer, System.nanoTime(), false));
            plain(response, 504, "The ready mirror this request was forwarded to did not answer within "
                    + timeout.toMillis() + " ms.\n");
            return true;
        } catch (IOException e) {
            health.put(peer, new Peer(peer, System.nanoTime(), false));
            LOG.debug("Mirror '{}': forwarding {} {} to {} failed: {}", nodeId, request.getMethod(),
                    request.getRequestURI(), peer, e.toString());
            plain(response, 502, "The ready mirror this request was forwarded to failed to answer.\n");
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while forwarding to " + peer, e);
        }
        response.setStatus(answer.statusCode());
        answer.headers().map().forEach((name, values) -> {
            String lower = name.toLowerCase(Locale.ROOT);
            if (!HOP_BY_HOP.contains(lower) && !lower.equals(":status") && !lower.equals("via")) {
                for (String v : values) {
                    response.addHeader(name, v);
                }
            }
        });
        String answeredVia = answer.headers().firstValue("Via").orElse(null);
        response.setHeader("Via", (answeredVia == null ? "" : answeredVia + ", ") + "1.1 " + nodeId);
        answer.headers().firstValueAsLong("Content-Length").ifPresent(response::setContentLengthLong);
        try (InputStream in = answer.body()) {
            OutputStream out = response.getOutputStream();
            in.transferTo(out);
        }
        return true;
    }

    /** A peer whose health said ready lately, asking those not asked lately; null when none is. */
    private URI readyPeer(String contextPath) {
        int start = Math.floorMod(next.getAndIncrement(), peers.size());
        for (int i = 0; i < peers.size(); i++) {
            URI base = peers.get((start + i) % peers.size());
            Peer known = health.get(base);
            long now = System.nanoTime();
            if (known == null || now - known.checkedAt() > HEALTH_TTL.toNanos()) {
                known = new Peer(base, now, isReady(base, contextPath));
                health.put(base, known);
            }
            if (known.ready()) {
                return base;
            }
        }
        return null;
    }

    private boolean isReady(URI base, String contextPath) {
        try {
            HttpRequest r = HttpRequest.newBuilder(URI.create(base + contextPath + "/_mirror/health"))
                    .timeout(HEALTH_TIMEOUT).header(FORWARDED_HEADER, nodeId).GET().build();
            return client.send(r, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void plain(HttpServletResponse response, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        response.setStatus(status);
        response.setContentType("text/plain;charset=UTF-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }

    @Override
    public void close() {
        // java.net.http.HttpClient has close() only from Java 21: its own executor is ended here, and
        // its selector thread ends once the client is unreachable.
        executor.shutdownNow();
    }
}
