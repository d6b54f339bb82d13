package org.activemirroring.mirror.edge;

import java.util.concurrent.atomic.AtomicLong;

/**
 * How often flood control refused a request, since start: for status and metrics. Thread-safe.
 */
public final class FloodStats {
    private final AtomicLong refusedWrites = new AtomicLong();
    private final AtomicLong refusedUploads = new AtomicLong();

    void refusedWrite() {
        refusedWrites.incrementAndGet();
    }

    void refusedUpload() {
        refusedUploads.incrementAndGet();
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
