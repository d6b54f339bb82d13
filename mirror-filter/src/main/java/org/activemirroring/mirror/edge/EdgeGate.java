package org.activemirroring.mirror.edge;

import java.io.IOException;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.mirror.MirrorConfig;
import org.activemirroring.mirror.MirrorNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thing {@code MirrorFilter} calls for a site request: flood control, read-your-writes
 * and, while the mirror is not ready, forwarding. Each part is off when its option says so.
 */
public final class EdgeGate implements AutoCloseable {
    /** Methods that only read. */
    private static final Set<String> READS = Set.of("GET", "HEAD", "OPTIONS", "TRACE");
    private static final Logger LOG = LoggerFactory.getLogger(EdgeGate.class);

    private final FloodControl flood;
    private final ReadYourWrites ryw;
    private final UnreadyForwarder forwarder;

    public EdgeGate(MirrorConfig config) {
        EdgeOptions o = EdgeOptions.of(config.raw());
        this.flood = o.flood() ? new FloodControl(o, config.nodeId()) : null;
        boolean heartbeats = config.capture().heartbeatIntervalMs() > 0;
        if (o.readYourWrites() && !heartbeats) {
            LOG.warn("Mirror '{}': read-your-writes is off because capture heartbeats are off"
                    + " (mirror.capture.heartbeat.interval.ms=0): a write's token needs them", config.nodeId());
        }
        this.ryw = o.readYourWrites() && heartbeats
                ? new ReadYourWrites(config.capture(), config.nodeId(), o.readYourWritesMaxWaitMs()) : null;
        this.forwarder = o.forwardUnready()
                ? new UnreadyForwarder(config.nodeId(), o.peerUrls(), Duration.ofMillis(o.forwardTimeoutMs())) : null;
    }

    /** Unsafe methods in HTTP's sense: those that may change something. */
    static boolean isWrite(HttpServletRequest request) {
        String method = request.getMethod();
        // Clients send methods upper case: a read matches without a copy; only another spelling
        // (and a write) is upper-cased first.
        return !READS.contains(method) && !READS.contains(method.toUpperCase(Locale.ROOT));
    }

    /** Serves a site request on a ready mirror: limits, then the read-your-writes wait, then the site. */
    public void serve(HttpServletRequest request, HttpServletResponse response, FilterChain chain, MirrorNode node)
            throws IOException, ServletException {
        boolean write = isWrite(request);
        FloodControl.Buckets buckets = null;
        if (write && flood != null) {
            buckets = flood.admit(request, response);
            if (buckets == null) {
                return; // 429 sent
            }
        }
        if (ryw != null) {
            try {
                ryw.awaitToken(request, response, node);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                response.setHeader(ReadYourWrites.STALE_HEADER, "true");
            }
        }
        CountingRequest counted = buckets != null && request.getContentLengthLong() < 0 ? new CountingRequest(request)
                : null;
        HttpServletRequest req = counted != null ? counted : request;
        if (write && ryw != null) {
            StampingResponse stamping = new StampingResponse(response, () -> ryw.stamp(request, response, node));
            chain.doFilter(req, stamping);
            stamping.finish(); // not after an exception: the container's error page follows
        } else {
            chain.doFilter(req, response);
        }
        if (counted != null) {
            flood.chargeAfter(buckets, counted.count());
        }
    }

    /**
     * A request that came while this mirror is not ready: forwarded to a ready peer when so
     * configured. False when the caller must answer 503 itself.
     */
    public boolean forwardUnready(HttpServletRequest request, HttpServletResponse response) throws IOException {
        return forwarder != null && forwarder.forward(request, response);
    }

    /** Refused requests, for status and metrics; null when flood control is off. */
    public FloodStats floodStats() {
        return flood == null ? null : flood.stats();
    }

    /** Read-your-writes and its counters; null when it is off. */
    public ReadYourWrites readYourWrites() {
        return ryw;
    }

    @Override
    public void close() {
        if (flood != null) {
            flood.close();
        }
        if (ryw != null) {
            ryw.close();
        }
        if (forwarder != null) {
            forwarder.close();
        }
    }
}
