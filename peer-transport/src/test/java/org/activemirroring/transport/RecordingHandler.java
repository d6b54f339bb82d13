package org.activemirroring.transport;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A delivery handler for tests: records what it got per origin, notes every out-of-order or
 * repeated envelope as an error, and can fail a given number of attempts first.
 */
final class RecordingHandler implements DeliveryHandler {
    private final String self;
    private final Map<String, List<Long>> seqs = new HashMap<>();
    private final Map<String, Long> applied;
    private final List<String> errors = new ArrayList<>();
    final AtomicInteger failuresLeft = new AtomicInteger();
    final AtomicInteger attempts = new AtomicInteger();

    RecordingHandler(String self, Map<String, Long> startVector) {
        this.self = self;
        this.applied = new HashMap<>(startVector);
    }

    RecordingHandler(String self) {
        this(self, Map.of());
    }

    @Override
    public synchronized void deliver(Envelope e) throws Exception {
        attempts.incrementAndGet();
        if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new Exception("simulated database restart");
        }
        if (e.origin().equals(self)) {
            errors.add(self + " got its own " + e);
        }
        long last = applied.getOrDefault(e.origin(), 0L);
        if (e.seq() != last + 1) {
            errors.add(self + " got " + e + " after " + e.origin() + "#" + last);
        }
        applied.put(e.origin(), e.seq());
        seqs.computeIfAbsent(e.origin(), o -> new ArrayList<>()).add(e.seq());
    }

    /** Highest seq applied per origin (what a subscriber would have committed). */
    synchronized Map<String, Long> applied() {
        return new HashMap<>(applied);
    }

    synchronized long last(String origin) {
        return applied.getOrDefault(origin, 0L);
    }

    /** Seqs received from {@code origin}, in delivery order. */
    synchronized List<Long> seqs(String origin) {
        return new ArrayList<>(seqs.getOrDefault(origin, List.of()));
    }

    synchronized List<String> errors() {
        return new ArrayList<>(errors);
    }
}
