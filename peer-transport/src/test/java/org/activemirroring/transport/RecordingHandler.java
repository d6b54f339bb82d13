package org.activemirroring.transport;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A delivery handler for tests: records what it got per origin, notes every out-of-order or
 * repeated envelope as an error, and can fail a given number of attempts first (a checked,
 * retriable failure) or throw an unexpected one ({@link #failOn}). Each delivery is durable when
 * it returns, and {@link #restartFrom} says so, as the applier's committed applied vector does.
 */
final class RecordingHandler implements DeliveryHandler {
    private final String self;
    private final Map<String, List<Long>> seqs = new HashMap<>();
    private final Map<String, Long> applied;
    private final List<String> errors = new ArrayList<>();
    final AtomicInteger failuresLeft = new AtomicInteger();
    final AtomicInteger attempts = new AtomicInteger();
    /** How often the transport asked where to restart. */
    final AtomicInteger restartQuestions = new AtomicInteger();
    private String faultOrigin;
    private long faultSeq;
    private int faultsLeft;
    private Supplier<? extends Throwable> fault;

    RecordingHandler(String self, Map<String, Long> startVector) {
        this.self = self;
        this.applied = new HashMap<>(startVector);
    }

    RecordingHandler(String self) {
        this(self, Map.of());
    }

    /**
     * From now on, delivering {@code origin#seq} throws what {@code fault} makes (a RuntimeException
     * or an Error), {@code times} times; {@link Integer#MAX_VALUE}: until {@link #healed()}.
     */
    synchronized void failOn(String origin, long seq, int times, Supplier<? extends Throwable> fault) {
        this.faultOrigin = origin;
        this.faultSeq = seq;
        this.faultsLeft = times;
        this.fault = fault;
    }

    /** Stops failing as {@link #failOn} said. */
    synchronized void healed() {
        faultsLeft = 0;
    }

    /** Faults {@link #failOn} still has to throw. */
    synchronized int faultsLeft() {
        return faultsLeft;
    }

    /**
     * Overflows the caller's stack for real: the StackOverflowError comes from the JVM and
     * unwinds through the handler into the transport, as a runaway recursion in an applier would.
     */
    static StackOverflowError overflowStack() {
        recurse(0);
        throw new AssertionError("the stack did not overflow");
    }

    private static long recurse(long depth) {
        return recurse(depth + 1) + 1;
    }

    @Override
    public synchronized void deliver(Envelope e) throws Exception {
        attempts.incrementAndGet();
        if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new Exception("simulated database restart");
        }
        if (faultsLeft > 0 && e.origin().equals(faultOrigin) && e.seq() == faultSeq) {
            if (faultsLeft != Integer.MAX_VALUE) {
                faultsLeft--;
            }
            Throwable t = fault.get();
            if (t instanceof RuntimeException r) {
                throw r;
            }
            throw (Error) t;
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

    /** What it has durably: every delivery that returned. */
    @Override
    public synchronized Map<String, Long> restartFrom() {
        restartQuestions.incrementAndGet();
        return new HashMap<>(applied);
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
