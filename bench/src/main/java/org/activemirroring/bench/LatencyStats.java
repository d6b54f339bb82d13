package org.activemirroring.bench;

import java.util.Arrays;
import java.util.Locale;

/** Percentiles of a set of latency samples in nanoseconds, reported in milliseconds. */
final class LatencyStats {
    private final long[] sorted;

    LatencyStats(long[] samplesNanos) {
        this.sorted = samplesNanos.clone();
        Arrays.sort(this.sorted);
    }

    int count() {
        return sorted.length;
    }

    /** The p-th percentile (0..100) in milliseconds, nearest-rank; NaN without samples. */
    double percentileMs(double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] / 1e6;
    }

    double maxMs() {
        return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1] / 1e6;
    }

    String summary() {
        return String.format(Locale.ROOT, "n=%d p50=%.2fms p90=%.2fms p99=%.2fms max=%.2fms", count(), percentileMs(50),
                percentileMs(90), percentileMs(99), maxMs());
    }
}
