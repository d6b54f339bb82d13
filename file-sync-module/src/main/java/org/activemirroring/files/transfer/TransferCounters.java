package org.activemirroring.files.transfer;

import java.util.concurrent.atomic.LongAdder;

/** What a {@link FileAssembler} has moved since it was made. Thread-safe; values only grow. */
public final class TransferCounters {
    private final LongAdder bytesFetched = new LongAdder();
    private final LongAdder blocksFetched = new LongAdder();
    private final LongAdder bytesFromLocal = new LongAdder();
    private final LongAdder blocksRefused = new LongAdder();

    /** Bytes of verified blocks received from peers. */
    public long bytesFetched() {
        return bytesFetched.sum();
    }

    /** Verified blocks received from peers (a block used at several offsets counts once). */
    public long blocksFetched() {
        return blocksFetched.sum();
    }

    /** Bytes copied from blocks this mirror already held, instead of fetching them. */
    public long bytesFromLocal() {
        return bytesFromLocal.sum();
    }

    /** Blocks a peer sent whose SHA-256 did not match: dropped and asked from another peer. */
    public long blocksRefused() {
        return blocksRefused.sum();
    }

    void fetched(int bytes) {
        blocksFetched.increment();
        bytesFetched.add(bytes);
    }

    void fromLocal(long bytes) {
        bytesFromLocal.add(bytes);
    }

    void refused() {
        blocksRefused.increment();
    }

    @Override
    public String toString() {
        return "TransferCounters[bytesFetched=" + bytesFetched() + ", blocksFetched=" + blocksFetched()
                + ", bytesFromLocal=" + bytesFromLocal() + ", blocksRefused=" + blocksRefused() + "]";
    }
}
