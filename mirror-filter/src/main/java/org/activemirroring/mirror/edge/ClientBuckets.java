package org.activemirroring.mirror.edge;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The clients' token buckets, at most {@code maxClients} of them. A client unseen for
 * {@code forgetAfterNanos} (long enough for every one of its buckets to refill completely) is
 * dropped: a full bucket and a new one are the same, so forgetting costs nothing. Only when more
 * clients than that are active at once (an attack from many addresses) are live buckets dropped,
 * oldest first, and those clients start over.
 *
 * <p>A hand-made map rather than a cache library: the rule "forget what refilled" is the whole
 * policy, and it keeps the plugin's jars fewer. Thread-safe.
 */
final class ClientBuckets<B> {
    private static final long SWEEP_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    private static final class Entry<B> {
        final B buckets;
        volatile long lastSeen;

        Entry(B buckets, long now) {
            this.buckets = buckets;
            this.lastSeen = now;
        }
    }

    private final ConcurrentHashMap<String, Entry<B>> map = new ConcurrentHashMap<>();
    private final int maxClients;
    private final long forgetAfterNanos;
    private final LongSupplier nanoTime;
    private final AtomicLong nextSweep;

    ClientBuckets(int maxClients, long forgetAfterNanos, LongSupplier nanoTime) {
        this.maxClients = maxClients;
        this.forgetAfterNanos = forgetAfterNanos;
        this.nanoTime = nanoTime;
        this.nextSweep = new AtomicLong(nanoTime.getAsLong() + SWEEP_EVERY_NANOS);
    }

    /** The buckets of {@code client}, made by {@code create} when it has none. */
    B get(String client, Function<String, B> create) {
        long now = nanoTime.getAsLong();
        Entry<B> e = map.computeIfAbsent(client, k -> new Entry<>(create.apply(k), now));
        e.lastSeen = now;
        long due = nextSweep.get();
        if ((now - due >= 0 || map.size() > maxClients) && nextSweep.compareAndSet(due, now + SWEEP_EVERY_NANOS)) {
            sweep(now);
        }
        return e.buckets;
    }

    int size() {
        return map.size();
    }

    private void sweep(long now) {
        map.values().removeIf(e -> now - e.lastSeen > forgetAfterNanos);
        int over = map.size() - maxClients;
        if (over > 0) {
            // Still too many: drop the longest unseen until a tenth of the room is free again.
            long[] seen = map.values().stream().mapToLong(e -> e.lastSeen).sorted().toArray();
            long cutoff = seen[Math.min(seen.length - 1, over + maxClients / 10)];
            for (Iterator<Map.Entry<String, Entry<B>>> it = map.entrySet().iterator(); it.hasNext(); ) {
                if (it.next().getValue().lastSeen - cutoff <= 0) {
                    it.remove();
                }
            }
        }
    }
}
