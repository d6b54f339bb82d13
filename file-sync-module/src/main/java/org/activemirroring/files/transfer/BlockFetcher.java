package org.activemirroring.files.transfer;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;

import org.activemirroring.transport.Reply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches a file's missing blocks from peers, one peer after the other: each peer is asked for
 * everything still missing, in batches of at most {@code maxBatchBytes} with at most
 * {@code parallel} requests in flight, so memory stays below {@code parallel * maxBatchBytes}
 * plus one reply's headers. Workers verify each block and write it at its offsets in the temp
 * file (positional writes, so they need no lock); the calling thread alone updates what is
 * missing. A peer that fails a request is not asked again for this file.
 */
final class BlockFetcher {

    private static final Logger LOG = LoggerFactory.getLogger(BlockFetcher.class);

    /** A block still wanted, and every offset of the file it goes to. */
    record Need(BlockWire.Wanted block, long[] offsets) {
    }

    /** What one request brought: hashes written, hashes refused, or why it brought nothing. */
    private record Batch(List<String> received, List<String> refused, long bytes, Exception failure,
                         IOException writeError) {
        static Batch failed(Exception e) {
            return new Batch(List.of(), List.of(), 0, e, null);
        }
    }

    private final PeerRequests peers;
    private final ExecutorService pool;
    private final int parallel;
    private final int maxBatchBytes;
    private final Duration timeout;
    private final TransferCounters counters;

    BlockFetcher(PeerRequests peers, ExecutorService pool, int parallel, int maxBatchBytes, Duration timeout,
                 TransferCounters counters) {
        this.peers = peers;
        this.pool = pool;
        this.parallel = parallel;
        this.maxBatchBytes = maxBatchBytes;
        this.timeout = timeout;
        this.counters = counters;
    }

    /**
     * Asks the peers in {@code order} for the blocks in {@code missing} (by hash), writing each
     * into {@code out} and removing it from {@code missing}. Returns the bytes received. Throws
     * only when writing the temp file fails or the thread is interrupted.
     */
    long fetch(String path, FileChannel out, Map<String, Need> missing, List<String> order)
            throws IOException, InterruptedException {
        long fetched = 0;
        for (String peer : order) {
            if (missing.isEmpty()) {
                break;
            }
            fetched += fetchFrom(peer, path, out, missing);
        }
        return fetched;
    }

    private long fetchFrom(String peer, String path, FileChannel out, Map<String, Need> missing)
            throws IOException, InterruptedException {
        Deque<List<Need>> batches = batches(missing.values());
        CompletionService<Batch> done = new ExecutorCompletionService<>(pool);
        List<Future<Batch>> running = new ArrayList<>();
        int inFlight = 0;
        long fetched = 0;
        int refused = 0;
        String firstRefused = null;
        Exception failure = null;
        boolean finished = false;
        try {
            while (true) {
                while (failure == null && inFlight < parallel && !batches.isEmpty()) {
                    List<Need> batch = batches.poll();
                    try {
                        running.add(done.submit(() -> ask(peer, out, batch)));
                    } catch (RejectedExecutionException e) {
                        throw new IllegalStateException("The FileAssembler was closed while building '" + path
                                + "'; the partial file is kept, prepare it again with an open assembler", e);
                    }
                    inFlight++;
                }
                if (inFlight == 0) {
                    break;
                }
                Batch r = result(done.take());
                inFlight--;
                if (r.writeError() != null) {
                    throw r.writeError();
                }
                if (r.failure() != null && failure == null) {
                    failure = r.failure();
                    LOG.warn("Peer {} gave no usable answer for blocks of '{}' ({}); asking the next peer",
                            peer, path, failure.toString());
                }
                for (String hex : r.received()) {
                    missing.remove(hex);
                }
                fetched += r.bytes();
                if (!r.refused().isEmpty()) {
                    refused += r.refused().size();
                    firstRefused = firstRefused == null ? r.refused().get(0) : firstRefused;
                }
            }
            finished = true;
        } finally {
            if (!finished) {
                running.forEach(f -> f.cancel(true));
            }
        }
        if (refused > 0) {
            LOG.warn("Peer {} sent {} blocks of '{}' whose SHA-256 did not match (first {}); they were dropped and "
                    + "are asked from other peers. If this repeats, check that peer's disk", peer, refused, path, firstRefused);
        }
        return fetched;
    }

    private static Batch result(Future<Batch> f) throws InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            // ask() catches what a peer can cause; anything else is still only this peer's answer lost.
            return Batch.failed(e.getCause() instanceof Exception ex ? ex : e);
        }
    }

    /** Runs on a pool thread: one request, each received block verified and written. */
    private Batch ask(String peer, FileChannel out, List<Need> batch) {
        List<BlockWire.Wanted> wanted = batch.stream().map(Need::block).toList();
        Reply reply;
        int[] at;
        try {
            byte[] request = BlockWire.encodeRequest(wanted);
            reply = peers.request(peer, BlockWire.KIND, request, timeout);
            counters.wire(request.length, reply == null ? 0 : reply.length());
            if (reply == null) {
                return Batch.failed(new BlockWireException("no reply body"));
            }
            at = BlockWire.decodeReply(reply, wanted);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Batch.failed(e);
        } catch (Exception e) {
            return Batch.failed(e);
        }
        MessageDigest md = BlockReads.sha256();
        List<String> received = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < at.length; i++) {
            if (at[i] < 0) {
                continue;
            }
            Need need = batch.get(i);
            int length = need.block().length();
            if (!BlockReads.matches(md, reply.array(), at[i], length, need.block().sha256())) {
                counters.refused();
                refused.add(need.block().sha256Hex());
                continue;
            }
            try {
                for (long offset : need.offsets()) {
                    BlockReads.writeFully(out, reply.array(), at[i], length, offset);
                }
            } catch (IOException e) {
                return new Batch(received, refused, bytes, null, e);
            }
            counters.fetched(length);
            received.add(need.block().sha256Hex());
            bytes += length;
        }
        return new Batch(received, refused, bytes, null, null);
    }

    /** Groups blocks into requests of at most maxBatchBytes (a larger block goes alone). */
    private Deque<List<Need>> batches(Collection<Need> needs) {
        Deque<List<Need>> batches = new ArrayDeque<>();
        List<Need> current = new ArrayList<>();
        long bytes = 0;
        for (Need n : needs) {
            int length = n.block().length();
            if (!current.isEmpty() && (bytes + length > maxBatchBytes || current.size() == BlockWire.MAX_BLOCKS_PER_REQUEST)) {
                batches.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(n);
            bytes += length;
        }
        if (!current.isEmpty()) {
            batches.add(current);
        }
        return batches;
    }
}
