package org.activemirroring.tomcatconf.e2e;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import org.activemirroring.testsupport.SiteBrowser;

/**
 * Logged-in visitors adding items with images, each to its home mirror, at a steady pace, while
 * the test kills, restarts and adds mirrors. It acts like a load balancer in front of the mirrors:
 * a request that fails on a mirror the test marked down ({@link #markDown}) is counted as a
 * downtime failure and sent to the next mirror, with the same login cookie. Every item the site
 * acknowledged (the redirect to its page) is kept with its image; every other answer from a
 * mirror that was up (an error page, a status of 500 or more, an unexpected status or a refused
 * connection) is an error.
 */
final class ItemLoad implements AutoCloseable {
    /** An item the site acknowledged, with the image it was given and the mirror that took it. */
    record Ack(long id, String title, TestImages.Image image, String mirror) {
    }

    private static final long PACE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

    private final List<String> bases = new CopyOnWriteArrayList<>();
    private final Set<Integer> down = ConcurrentHashMap.newKeySet();
    private final Queue<Ack> acked = new ConcurrentLinkedQueue<>();
    private final Queue<String> errors = new ConcurrentLinkedQueue<>();
    private final AtomicInteger downtimeFailures = new AtomicInteger();
    private final AtomicInteger seeds = new AtomicInteger(10_000);
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> writers = new ArrayList<>();

    /** Adds a mirror the load may use (its site's base URL); returns its index. */
    synchronized int addMirror(String base) {
        bases.add(base);
        return bases.size() - 1;
    }

    /** Starts a visitor, logged in through {@code browser}, adding items on mirror {@code home}. */
    synchronized void addWriter(SiteBrowser browser, int home) {
        Thread t = new Thread(() -> write(browser, home), "item-load-" + writers.size());
        t.setDaemon(true);
        writers.add(t);
        t.start();
    }

    /** From now on, failures on mirror {@code index} count as downtime (call it before stopping the mirror). */
    void markDown(int index) {
        down.add(index);
    }

    /** Mirror {@code index} serves again (call it once it answers ready). */
    void markUp(int index) {
        down.remove(index);
    }

    private void write(SiteBrowser browser, int home) {
        long next = System.nanoTime();
        while (running.get()) {
            int seed = seeds.incrementAndGet();
            TestImages.Image image = TestImages.forSeed(seed);
            String title = "Load item " + seed;
            for (int attempt = 0; attempt < bases.size(); attempt++) {
                int target = (home + attempt) % bases.size();
                boolean wasDown = down.contains(target);
                String failure;
                try {
                    HttpResponse<String> r = browser.postMultipart(bases.get(target) + "/new", Map.of("title", title,
                            "description", "Added under load, seed " + seed, "place", "Mirror " + (target + 1),
                            "period", "Now"), "image", image.fileName(), image.bytes(), image.contentType());
                    Optional<Long> id = SampleSite.createdItem(r);
                    if (id.isPresent()) {
                        acked.add(new Ack(id.get(), title, image, bases.get(target)));
                        break;
                    }
                    failure = "HTTP " + r.statusCode() + " " + r.headers().firstValue("Location").orElse("")
                            + " " + abbreviate(r.body());
                } catch (IOException e) {
                    failure = e.toString();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                if (wasDown || down.contains(target)) {
                    downtimeFailures.incrementAndGet();
                    continue; // a load balancer sends the visitor to the next mirror
                }
                errors.add(bases.get(target) + " '" + title + "': " + failure);
                break;
            }
            // Pacing of the load generator (a steady rate per visitor), not a wait for a condition.
            next += PACE_NANOS;
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            } else {
                next = System.nanoTime();
            }
        }
    }

    /** Items acknowledged so far. */
    List<Ack> acknowledged() {
        return List.copyOf(acked);
    }

    /** How many were acknowledged by the mirror at {@code base}. */
    long acknowledgedBy(String base) {
        return acked.stream().filter(a -> a.mirror().equals(base)).count();
    }

    /** Errors seen from mirrors that were up. */
    List<String> errors() {
        return List.copyOf(errors);
    }

    int downtimeFailures() {
        return downtimeFailures.get();
    }

    /** Stops every visitor and waits until each finished its request. */
    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread t : writers) {
            t.join(TimeUnit.SECONDS.toMillis(60));
            if (t.isAlive()) {
                t.interrupt();
                throw new AssertionError("load writer " + t.getName() + " did not stop within 60 s");
            }
        }
    }

    private static String abbreviate(String s) {
        String one = s.replace('\n', ' ');
        return one.length() > 300 ? one.substring(0, 300) + "..." : one;
    }
}
