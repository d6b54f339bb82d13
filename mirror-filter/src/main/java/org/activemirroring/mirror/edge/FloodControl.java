package org.activemirroring.mirror.edge;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;

/**
 * Per-client limits on write requests and on uploaded bytes, with bucket4j token buckets
 * ({@link EdgeOptions#FLOOD}): past a limit the request gets 429 with Retry-After, before the site
 * sees it, so a flooding client costs the mirror (and every mirror its writes would reach) almost
 * nothing. Reads are never limited here. A body of unknown length (chunked) is counted as it is
 * read and charged afterwards, so the client's next write waits for it. Thread-safe.
 */
public final class FloodControl implements AutoCloseable {
    static final long MIB = 1024L * 1024L;

    /** A client's two buckets. */
    record Buckets(Bucket writes, Bucket bytes) {
    }

    private final ClientKeys keys;
    private final ClientBuckets<Buckets> clients;
    private final FloodStats stats = new FloodStats();
    private final int writesPerSecond;
    private final int writesBurst;
    private final long bytesPerMinute;
    private final TimeMeter time;
    /** Null when refusals are answered at once (unit tests). */
    private final Tarpit tarpit;

    FloodControl(EdgeOptions options, TimeMeter time, Tarpit tarpit) {
        this.tarpit = tarpit;
        this.keys = new ClientKeys(options.trustedProxies(), options.userSessionAttribute());
        this.writesPerSecond = options.floodWritesPerSecond();
        this.writesBurst = options.floodWritesBurst();
        this.bytesPerMinute = options.floodUploadMibPerMinute() * MIB;
        this.time = time;
        // Forgotten once both buckets must have refilled: the writes' burst, and a whole minute of bytes.
        long refillNanos = Math.max(TimeUnit.SECONDS.toNanos((writesBurst + writesPerSecond - 1) / writesPerSecond),
                TimeUnit.MINUTES.toNanos(1));
        this.clients = new ClientBuckets<>(options.floodMaxClients(), refillNanos + TimeUnit.SECONDS.toNanos(1),
                time::currentTimeNanos);
    }

    /** With the system's clock, refusals held back by a {@link Tarpit}. */
    public FloodControl(EdgeOptions options, String nodeId) {
        this(options, TimeMeter.SYSTEM_NANOTIME, new Tarpit(nodeId));
    }

    private Buckets create(String client) {
        Bucket writes = Bucket.builder().withCustomTimePrecision(time)
                .addLimit(l -> l.capacity(writesBurst).refillGreedy(writesPerSecond, Duration.ofSeconds(1))).build();
        Bucket bytes = Bucket.builder().withCustomTimePrecision(time)
                .addLimit(l -> l.capacity(bytesPerMinute).refillGreedy(bytesPerMinute, Duration.ofMinutes(1))).build();
        return new Buckets(writes, bytes);
    }

    /** The counters of refused requests. */
    public FloodStats stats() {
        return stats;
    }

    /** How many clients' limits are held now. */
    public int clients() {
        return clients.size();
    }

    /**
     * Takes a write request's share of its client's allowance, or answers 429.
     *
     * @return the client's buckets when the request may go on (charge a body of unknown length to
     *         them afterwards with {@link #chargeAfter}), null when 429 was sent
     */
    Buckets admit(HttpServletRequest request, HttpServletResponse response) throws IOException {
        Buckets b = clients.get(keys.key(request), this::create);
        long length = request.getContentLengthLong();
        long take = Math.min(Math.max(0, length), bytesPerMinute);
        if (take > 0) {
            ConsumptionProbe bytes = b.bytes().tryConsumeAndReturnRemaining(take);
            if (!bytes.isConsumed()) {
                stats.refusedUpload();
                refuse(request, response, bytes.getNanosToWaitForRefill(), "This client sent more than "
                        + bytesPerMinute / MIB + " MiB in write requests within a minute");
                return null;
            }
        }
        ConsumptionProbe writes = b.writes().tryConsumeAndReturnRemaining(1);
        if (!writes.isConsumed()) {
            if (take > 0) {
                b.bytes().addTokens(take); // not sent after all
            }
            stats.refusedWrite();
            refuse(request, response, writes.getNanosToWaitForRefill(), "This client made more than " + writesPerSecond
                    + " write requests per second (bursts up to " + writesBurst + ")");
            return null;
        }
        return b;
    }

    @Override
    public void close() {
        if (tarpit != null) {
            tarpit.close();
        }
    }

    /** Charges bytes read from a body whose length was not known up front. */
    void chargeAfter(Buckets b, long bytesRead) {
        if (bytesRead > 0) {
            b.bytes().consumeIgnoringRateLimits(bytesRead);
        }
    }

    private void refuse(HttpServletRequest request, HttpServletResponse response, long nanosToWait, String why)
            throws IOException {
        long seconds = Math.max(1, (nanosToWait + 999_999_999L) / 1_000_000_000L);
        byte[] body = (why + "; try again in " + seconds + " seconds.\n").getBytes(StandardCharsets.UTF_8);
        if (tarpit == null) {
            write(response, seconds, body);
        } else {
            tarpit.answer(request, response, nanosToWait, r -> write(r, seconds, body));
        }
    }

    private static void write(HttpServletResponse response, long seconds, byte[] body) throws IOException {
        response.setStatus(429);
        response.setHeader("Retry-After", Long.toString(seconds));
        response.setHeader("Cache-Control", "no-store");
        response.setContentType("text/plain;charset=UTF-8");
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }
}
