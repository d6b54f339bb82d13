package org.activemirroring.mirror.edge;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How often flood control refused a request, since start: for status and metrics. Thread-safe.
 */
public final class FloodStats {
    private final AtomicLong refusedWrites = new AtomicLong();
    private final AtomicLong refusedUploads = new AtomicLong();
    /** Told of every limit hit ({@code writes} or {@code upload-bytes}), e.g. to count it as a metric. */
    private volatile java.util.function.Consumer<String> onLimit = limit -> { };

    /** Tells {@code listener} of every limit hit from now on, by the limit's name. */
    public void onLimit(java.util.function.Consumer<String> listener) {
        onLimit = java.util.Objects.requireNonNull(listener);
    }

    void refusedWrite() {
        refusedWrites.incrementAndGet();
        onLimit.accept("writes");
    }

    void refusedUpload() {
        refusedUploads.incrementAndGet();
        onLimit.accept("upload-bytes");
    }

    /** Write requests refused (429) because their client made too many. */
    public long refusedWrites() {
        return refusedWrites.get();
    }

    /** Write requests refused (429) because their client sent too many bytes. */
    public long refusedUploads() {
        return refusedUploads.get();
    }

    /** Every limit hit: {@link #refusedWrites()} + {@link #refusedUploads()}. */
    public long limitsHit() {
        return refusedWrites() + refusedUploads();
    }
}
