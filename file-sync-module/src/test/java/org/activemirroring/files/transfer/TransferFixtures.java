package org.activemirroring.files.transfer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

import org.activemirroring.files.Block;
import org.activemirroring.files.ChunkSizes;
import org.activemirroring.files.Chunker;
import org.activemirroring.files.FolderEntry;
import org.activemirroring.transport.Reply;
import org.activemirroring.transport.RequestHandler;

/** Small static helpers for this package's tests: content, entries, and peers in the same JVM. */
final class TransferFixtures {

    /**
     * Blocks of 8 KiB on average, so a 1 MiB test file has over a hundred and a file spans several
     * requests and delta runs. What is transferred follows the block lists, whatever sizes cut them;
     * mirrors' own sizes ({@code ChunkSizes.forFileSize}) are used by the folder tests.
     */
    static final Chunker SMALL_BLOCKS = new Chunker(new ChunkSizes(2 * 1024, 8 * 1024, 32 * 1024));

    private TransferFixtures() {
    }

    static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** {@code a} with {@code what} inserted at {@code at}. */
    static byte[] insert(byte[] a, int at, byte[] what) {
        byte[] out = new byte[a.length + what.length];
        System.arraycopy(a, 0, out, 0, at);
        System.arraycopy(what, 0, out, at, what.length);
        System.arraycopy(a, at, out, at + what.length, a.length - at);
        return out;
    }

    static String sha256Hex(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<FolderEntry.BlockRef> blocks(byte[] data) {
        List<FolderEntry.BlockRef> refs = new ArrayList<>();
        for (Block b : SMALL_BLOCKS.cut(data)) {
            refs.add(new FolderEntry.BlockRef(b.offset(), b.length(), HexFormat.of().formatHex(b.sha256())));
        }
        return refs;
    }

    /** The entry a scanner would make of {@code data} at {@code path}. */
    static FolderEntry entry(String path, byte[] data, long mtimeMs, Integer mode) {
        return new FolderEntry(path, data.length, mtimeMs, mode, null, sha256Hex(data), blocks(data),
                Map.of("a", 1L), false);
    }

    static FolderEntry entry(String path, byte[] data) {
        return entry(path, data, 1_700_000_000_000L, null);
    }

    /** Writes {@code data} at {@code root/path} and records its blocks in {@code map}. */
    static FolderEntry put(Path root, String path, byte[] data, BlockMap map) throws IOException {
        Path file = root.resolve(path);
        Files.createDirectories(file.getParent());
        Files.write(file, data);
        FolderEntry e = entry(path, data);
        map.add(root, e);
        return e;
    }

    /** Bytes of the blocks of {@code wanted} whose hashes {@code held} lacks (each hash once). */
    static long bytesNotIn(FolderEntry wanted, List<FolderEntry.BlockRef> held) {
        List<String> have = held.stream().map(FolderEntry.BlockRef::sha256Hex).toList();
        Map<String, Integer> missing = new LinkedHashMap<>();
        for (FolderEntry.BlockRef b : wanted.blocks()) {
            if (!have.contains(b.sha256Hex())) {
                missing.put(b.sha256Hex(), b.length());
            }
        }
        return missing.values().stream().mapToLong(Integer::longValue).sum();
    }

    /**
     * Peers in this JVM: each node's requests go straight to its handler, its reply possibly
     * changed on the way (to play a broken peer). A node without a handler fails every request;
     * one without a delta handler fails every delta request. {@link #requests} counts block requests.
     */
    static final class FakePeers implements PeerRequests {
        final Map<String, RequestHandler> handlers = new LinkedHashMap<>();
        final Map<String, RequestHandler> deltaHandlers = new LinkedHashMap<>();
        final AtomicInteger deltaRequests = new AtomicInteger();
        final Map<String, UnaryOperator<Reply>> tamper = new LinkedHashMap<>();
        final Map<String, AtomicInteger> requests = new LinkedHashMap<>();
        final List<String> reachable = new ArrayList<>();
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();

        FakePeers peer(String node, RequestHandler handler) {
            handlers.put(node, handler);
            reachable.add(node);
            requests.put(node, new AtomicInteger());
            return this;
        }

        int requests(String node) {
            return requests.get(node).get();
        }

        @Override
        public List<String> peers() {
            return List.copyOf(reachable);
        }

        /** Also answers {@link DeltaWire#KIND} requests at {@code node} with {@code handler}. */
        FakePeers deltas(String node, RequestHandler handler) {
            deltaHandlers.put(node, handler);
            return this;
        }

        @Override
        public Reply request(String node, String kind, byte[] body, Duration timeout) throws Exception {
            if (DeltaWire.KIND.equals(kind)) {
                deltaRequests.incrementAndGet();
                RequestHandler d = deltaHandlers.get(node);
                if (d == null) {
                    throw new IOException("peer " + node + " answers no delta requests");
                }
                return tamper.getOrDefault(node, UnaryOperator.identity()).apply(d.reply("local", body));
            }
            requests.get(node).incrementAndGet();
            if (!BlockWire.KIND.equals(kind)) {
                throw new IllegalArgumentException("unexpected kind " + kind);
            }
            RequestHandler h = handlers.get(node);
            if (h == null) {
                throw new IOException("peer " + node + " is down");
            }
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                Reply r = h.reply("local", body);
                return tamper.getOrDefault(node, UnaryOperator.identity()).apply(r);
            } finally {
                inFlight.decrementAndGet();
            }
        }
    }
}
