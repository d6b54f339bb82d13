package org.activemirroring.mirror.edge;

import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Holds a refusal back until the client's allowance has refilled (at most {@link #MAX_DELAY_MS}),
 * so that a client that writes in a loop as fast as it can sends a few requests per second
 * instead of thousands: each refused request would otherwise cost the mirror (and its other
 * visitors) a request's worth of CPU. Where the request supports async processing the wait holds no
 * thread (a timer completes it); otherwise at most {@link #MAX_HELD_THREADS} request threads wait at
 * once, and any further refusal is answered at once, so that a flood over many connections can
 * never tie up the container's threads. Thread-safe.
 */
final class Tarpit implements AutoCloseable {
    static final long MAX_DELAY_MS = 1000;
    static final int MAX_HELD_THREADS = 8;
    static final int MAX_HELD_ASYNC = 10_000;

    /** Writes the refusal. */
    @FunctionalInterface
    interface Answer {
        void write(HttpServletResponse response) throws IOException;
    }

    private final String name;
    private final AtomicInteger heldThreads = new AtomicInteger();
    private final AtomicInteger heldAsync = new AtomicInteger();
    private ScheduledExecutorService timer;
    private boolean closed;

    Tarpit(String name) {
        this.name = name;
    }

    /** Answers with {@code answer} after up to {@code delayNanos}, holding no thread where it can. */
    void answer(HttpServletRequest request, HttpServletResponse response, long delayNanos, Answer answer)
            throws IOException {
        long delayMs = Math.min(MAX_DELAY_MS, TimeUnit.NANOSECONDS.toMillis(delayNanos));
        if (delayMs <= 0) {
            answer.write(response);
            return;
        }
        ScheduledExecutorService t = request.isAsyncSupported() ? timer() : null;
        if (t != null && heldAsync.incrementAndGet() <= MAX_HELD_ASYNC) {
            AsyncContext async = request.startAsync(request, response);
            async.setTimeout(delayMs + 30_000);
            try {
                t.schedule(() -> {
                    try {
                        answer.write((HttpServletResponse) async.getResponse());
                    } catch (IOException | RuntimeException e) {
                        // the client left: nothing to answer
                    } finally {
                        heldAsync.decrementAndGet();
                        async.complete();
                    }
                }, delayMs, TimeUnit.MILLISECONDS);
                return;
            } catch (RejectedExecutionException e) {
                heldAsync.decrementAndGet();
                answer.write(response);
                async.complete();
                return;
            }
        }
        if (t != null) {
            heldAsync.decrementAndGet();
        }
        if (heldThreads.incrementAndGet() <= MAX_HELD_THREADS) {
            try {
                TimeUnit.MILLISECONDS.sleep(delayMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                heldThreads.decrementAndGet();
            }
        } else {
            heldThreads.decrementAndGet();
        }
        answer.write(response);
    }

    private synchronized ScheduledExecutorService timer() {
        if (closed) {
            return null;
        }
        if (timer == null) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread th = new Thread(r, "am-tarpit-" + name);
                th.setDaemon(true);
                return th;
            });
        }
        return timer;
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
