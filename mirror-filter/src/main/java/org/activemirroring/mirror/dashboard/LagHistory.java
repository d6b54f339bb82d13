package org.activemirroring.mirror.dashboard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The recent lag of this mirror behind each other mirror, for the dashboard's live chart: one
 * sample every {@link #INTERVAL_MS} at most, the last {@link #capacity} kept (10 minutes by
 * default), so the chart shows the last minutes as soon as the page opens. Thread-safe.
 */
public final class LagHistory {
    /** Samples closer together than this are dropped. */
    public static final long INTERVAL_MS = 2_000;

    /**
     * One sample.
     *
     * @param atMillis when (epoch ms)
     * @param lag      per other mirror: its changes received here but not applied yet
     */
    public record Sample(long atMillis, Map<String, Long> lag) {
        public Sample {
            lag = Map.copyOf(lag);
        }
    }

    private final int capacity;
    private final ArrayDeque<Sample> samples;

    public LagHistory() {
        this(300);
    }

    public LagHistory(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1");
        }
        this.capacity = capacity;
        this.samples = new ArrayDeque<>(capacity);
    }

    /**
     * Adds a sample from this mirror's journal heads and applied vector, unless the last one is
     * younger than {@link #INTERVAL_MS}.
     *
     * @return whether it was kept
     */
    public synchronized boolean record(long atMillis, String self, Map<String, Long> received,
                                       Map<String, Long> applied) {
        Sample last = samples.peekLast();
        if (last != null && atMillis - last.atMillis() < INTERVAL_MS && atMillis >= last.atMillis()) {
            return false;
        }
        Map<String, Long> lag = new TreeMap<>();
        for (Map.Entry<String, Long> r : received.entrySet()) {
            if (!r.getKey().equals(self)) {
                lag.put(r.getKey(), Math.max(0, r.getValue() - applied.getOrDefault(r.getKey(), 0L)));
            }
        }
        if (samples.size() == capacity) {
            samples.removeFirst();
        }
        samples.addLast(new Sample(atMillis, lag));
        return true;
    }

    /** The kept samples, oldest first. */
    public synchronized List<Sample> samples() {
        return new ArrayList<>(samples);
    }
}
