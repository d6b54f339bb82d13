package org.activemirroring.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A closed-loop HTTP load generator on 127.0.0.1: {@code clients} threads, each sending its next
 * GET as soon as the previous answer is read (keep-alive connections of one {@link HttpClient},
 * HTTP/1.1 as browsers speak to Tomcat without TLS). Throughput is then what the server can serve
 * to that many concurrent users, not a rate the generator imposes. Any answer other than 200 is
 * counted, with the first one kept, so that a run measuring error pages shows.
 */
final class HttpLoad implements AutoCloseable {
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final int clients;

    /** What one block of load did. */
    record Block(long ok, long failed, double seconds, String firstFailure) {
        double perSecond() {
            return ok / seconds;
        }
    }

    HttpLoad(int clients) {
        if (clients < 1) {
            throw new IllegalArgumentException("--clients must be at least 1, was " + clients);
        }
        this.clients = clients;
    }

    /** Runs the load against {@code url} for {@code duration} and returns what it served. */
    Block run(String url, Duration duration) throws InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET().build();
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicReference<String> firstFailure = new AtomicReference<>();
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            Thread t = new Thread(() -> {
                while (System.nanoTime() < end) {
                    try {
                        HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
                        if (r.statusCode() == 200) {
                            ok.incrementAndGet();
                        } else {
                            failed.incrementAndGet();
                            firstFailure.compareAndSet(null, "HTTP " + r.statusCode() + " from " + url);
                        }
                    } catch (IOException e) {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet(null, e + " from " + url);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }, "bench-http-" + i);
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        return new Block(ok.get(), failed.get(), (System.nanoTime() - start) / 1e9, firstFailure.get());
    }

    @Override
    public void close() {
        // HttpClient has no close() before Java 21; its connections end with the generator's JVM
        // or after their idle timeout.
    }
}
