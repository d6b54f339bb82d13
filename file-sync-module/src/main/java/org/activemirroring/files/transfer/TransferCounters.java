package org.activemirroring.files.transfer;

import java.util.concurrent.atomic.LongAdder;

/** What a {@link FileAssembler} has moved since it was made. Thread-safe; values only grow. */
public final class TransferCounters {
    private final LongAdder bytesFetched = new LongAdder();
    private final LongAdder blocksFetched = new LongAdder();
    private final LongAdder bytesFromLocal = new LongAdder();
    private final LongAdder blocksRefused = new LongAdder();
    private final LongAdder requestBytes = new LongAdder();
    private final LongAdder replyBytes = new LongAdder();
    private final LongAdder bytesBuiltByDelta = new LongAdder();
    private final LongAdder blocksBuiltByDelta = new LongAdder();

    /** Bytes received from peers to build files: verified whole blocks, and delta op streams. */
    public long bytesFetched() {
        return bytesFetched.sum();
    }

    /** Verified whole blocks received from peers (a block used at several offsets counts once). */
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

    /** Bytes of block and delta requests sent to peers (their bodies, signatures included). */
    public long requestBytes() {
        return requestBytes.sum();
    }

    /** Bytes of the answers received to them (their bodies: block bytes, length headers, delta op streams). */
    public long replyBytes() {
        return replyBytes.sum();
    }

    /**
     * Bytes of blocks built out of the version they replace, from a delta a peer sent
     * ({@link DeltaFetcher}); only the bytes that version lacked travelled.
     */
    public long bytesBuiltByDelta() {
        return bytesBuiltByDelta.sum();
    }

    /** Blocks built that way (a block used at several offsets counts once). */
    public long blocksBuiltByDelta() {
        return blocksBuiltByDelta.sum();
    }

    void wire(int request, int reply) {
        requestBytes.add(request);
        replyBytes.add(reply);
    }

    void deltaReceived(int bytes) {
        bytesFetched.add(bytes);
    }

    void builtByDelta(int bytes) {
        blocksBuiltByDelta.increment();
        bytesBuiltByDelta.add(bytes);
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
                + ", bytesFromLocal=" + bytesFromLocal() + ", blocksRefused=" + blocksRefused() + ", requestBytes="
                + requestBytes() + ", replyBytes=" + replyBytes() + ", bytesBuiltByDelta=" + bytesBuiltByDelta()
                + ", blocksBuiltByDelta=" + blocksBuiltByDelta() + "]";
    }
}
