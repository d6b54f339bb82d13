package org.activemirroring.files.transfer;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.activemirroring.files.FolderEntry;
import org.activemirroring.transport.Reply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds an edited file's changed blocks out of the version it replaces, sending over the wire
 * only the bytes that version lacks ({@link RollingDelta}, rsync's algorithm, confined to the
 * edited regions). A content-defined block that an edit touched is mostly old bytes: fetched
 * whole, an insertion of 10 KiB into a 1 MiB file costs the one or two 64 KiB blocks around it;
 * built by delta, it costs the 10 KiB, the sub-blocks cut at its edges and the base's signature.
 *
 * <p>Each run of consecutive missing blocks of the wanted version is one request. Its base is the
 * region of the file now at the target that the run replaces: from the end of the block before the
 * run to the start of the block after it, where those blocks are found at the target (else
 * {@value #SLACK} bytes around the run's own offsets). Runs or bases too large for one request are
 * left to {@link BlockFetcher}, as is every block a delta did not build: each built block is kept
 * only when its SHA-256 matches, so a stale or changed base costs bytes, never correctness.
 */
final class DeltaFetcher {

    /** Bytes of base taken around a run where the blocks next to it are not found at the target. */
    static final int SLACK = 64 * 1024;
    /** Runs of one file built by delta; the blocks of any further runs are fetched whole. */
    static final int MAX_RUNS = 32;
    /** Largest base read into memory for one run (4 MiB). */
    static final int MAX_BASE_BYTES = 4 * 1024 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(DeltaFetcher.class);
    private static final HexFormat HEX = HexFormat.of();

    /** Consecutive missing blocks {@code from..to} (inclusive) of the wanted version. */
    private record Run(int from, int to) {
    }

    private final LocalBlocks local;
    private final PeerRequests peers;
    private final Duration timeout;
    private final TransferCounters counters;

    DeltaFetcher(LocalBlocks local, PeerRequests peers, Duration timeout, TransferCounters counters) {
        this.local = local;
        this.peers = peers;
        this.timeout = timeout;
        this.counters = counters;
    }

    /**
     * Builds what it can of {@code missing} out of the file now at {@code target}, asking the peers
     * in {@code order}; writes each built block at its offsets in {@code out} and removes it from
     * {@code missing}. Returns the reply bytes received. Throws only when writing {@code out} fails.
     */
    long fetch(Path target, FolderEntry wanted, FileChannel out, Map<String, BlockFetcher.Need> missing,
               List<String> order) throws IOException, InterruptedException {
        if (missing.isEmpty() || order.isEmpty()) {
            return 0;
        }
        long oldSize;
        try {
            BasicFileAttributes a = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isRegularFile() || a.size() == 0) {
                return 0;
            }
            oldSize = a.size();
        } catch (IOException e) {
            return 0;
        }
        List<FolderEntry.BlockRef> blocks = wanted.blocks();
        List<Run> runs = runs(blocks, missing);
        if (runs.isEmpty()) {
            return 0;
        }
        if (runs.size() > MAX_RUNS) {
            // One request per run, one after the other: past a few dozen scattered edits, the rest
            // go to the block fetch, whose requests run in parallel.
            runs = runs.subList(0, MAX_RUNS);
        }
        Path file = target.toAbsolutePath().normalize();
        FileChannel base;
        try {
            base = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | UnsupportedOperationException e) {
            return 0;
        }
        long received = 0;
        try (base) {
            for (Run run : runs) {
                if (Thread.interrupted()) {
                    throw new InterruptedException("Interrupted while building '" + wanted.path() + "' by delta");
                }
                received += build(run, blocks, file, base, oldSize, wanted.path(), out, missing, order);
            }
        }
        return received;
    }

    /** Maximal runs of blocks still missing that fit one request. */
    private static List<Run> runs(List<FolderEntry.BlockRef> blocks, Map<String, BlockFetcher.Need> missing) {
        List<Run> runs = new ArrayList<>();
        int i = 0;
        while (i < blocks.size()) {
            if (!missing.containsKey(key(blocks.get(i)))) {
                i++;
                continue;
            }
            int from = i;
            long bytes = 0;
            while (i < blocks.size() && missing.containsKey(key(blocks.get(i)))
                    && i - from < BlockWire.MAX_BLOCKS_PER_REQUEST) {
                bytes += blocks.get(i).length();
                i++;
            }
            if (bytes <= DeltaWire.MAX_TARGET_BYTES) {
                runs.add(new Run(from, i - 1));
            }
        }
        return runs;
    }

    private long build(Run run, List<FolderEntry.BlockRef> blocks, Path file, FileChannel base, long oldSize,
                       String path, FileChannel out, Map<String, BlockFetcher.Need> missing, List<String> order)
            throws IOException, InterruptedException {
        long newStart = blocks.get(run.from()).offset();
        FolderEntry.BlockRef last = blocks.get(run.to());
        long newEnd = last.offset() + last.length();
        long before = run.from() == 0 ? 0 : endAtTarget(blocks.get(run.from() - 1), file);
        long after = run.to() == blocks.size() - 1 ? oldSize : startAtTarget(blocks.get(run.to() + 1), file);
        long from = before >= 0 ? before : Math.max(0, Math.min(newStart, oldSize) - SLACK);
        long to = after >= 0 ? after : Math.min(oldSize, from + (newEnd - newStart) + 2L * SLACK);
        to = Math.min(to, oldSize);
        if (to - from < RollingDelta.MIN_SUB_BLOCK || to - from > MAX_BASE_BYTES) {
            return 0;
        }
        byte[] baseBytes = new byte[(int) (to - from)];
        try {
            if (!BlockReads.readFully(base, baseBytes, 0, baseBytes.length, from)) {
                return 0;
            }
        } catch (IOException e) {
            // The previous version could not be read (changed or gone meanwhile): these blocks are fetched whole.
            LOG.debug("No delta for '{}' from its previous version ({})", path, e.toString());
            return 0;
        }
        int subBlock = RollingDelta.subBlockSizeFor(baseBytes.length);
        RollingDelta.Signature sig = RollingDelta.sign(baseBytes, 0, baseBytes.length, subBlock);
        List<BlockWire.Wanted> wanted = new ArrayList<>(run.to() - run.from() + 1);
        for (int i = run.from(); i <= run.to(); i++) {
            wanted.add(new BlockWire.Wanted(key(blocks.get(i)), blocks.get(i).length()));
        }
        byte[] request = DeltaWire.encodeRequest(sig, wanted);
        int length = (int) (newEnd - newStart);
        for (String peer : order) {
            Reply reply;
            try {
                reply = peers.request(peer, DeltaWire.KIND, request, timeout);
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                counters.wire(request.length, 0);
                LOG.debug("Peer {} gave no delta for '{}' ({}); asking the next", peer, path, e.toString());
                continue;
            }
            int replyLength = reply == null ? 0 : reply.length();
            counters.wire(request.length, replyLength);
            if (reply == null || replyLength == 0 || reply.array()[reply.offset()] != DeltaWire.OPS) {
                continue;
            }
            counters.deltaReceived(replyLength);
            byte[] built;
            try {
                built = RollingDelta.patch(reply.array(), reply.offset() + 1, replyLength - 1, baseBytes, 0,
                        baseBytes.length, subBlock, length);
            } catch (BlockWireException e) {
                LOG.warn("Peer {} sent a malformed delta for '{}' ({}); its blocks are fetched whole", peer, path,
                        e.getMessage());
                continue;
            }
            keepVerified(built, wanted, out, missing);
            return replyLength;
        }
        return 0;
    }

    /** Writes each built block whose SHA-256 matches at its offsets; the others stay missing. */
    private void keepVerified(byte[] built, List<BlockWire.Wanted> wanted, FileChannel out,
                              Map<String, BlockFetcher.Need> missing) throws IOException {
        MessageDigest md = BlockReads.sha256();
        int at = 0;
        for (BlockWire.Wanted w : wanted) {
            BlockFetcher.Need need = missing.get(w.sha256Hex());
            if (need != null && BlockReads.matches(md, built, at, w.length(), HEX.parseHex(w.sha256Hex()))) {
                for (long offset : need.offsets()) {
                    BlockReads.writeFully(out, built, at, w.length(), offset);
                }
                missing.remove(w.sha256Hex());
                counters.builtByDelta(w.length());
            }
            at += w.length();
        }
    }

    /** Where {@code b}'s bytes end in the file at the target, or -1 when it is not known to be there. */
    private long endAtTarget(FolderEntry.BlockRef b, Path file) {
        long start = startAtTarget(b, file);
        return start < 0 ? -1 : start + b.length();
    }

    /** Where {@code b}'s bytes start in the file at the target, or -1 when it is not known to be there. */
    private long startAtTarget(FolderEntry.BlockRef b, Path file) {
        long best = -1;
        for (BlockPlace p : local.places(key(b))) {
            if (p.length() == b.length() && p.file().equals(file)) {
                // The same block may sit at several offsets: take the one nearest its new offset.
                if (best < 0 || Math.abs(p.offset() - b.offset()) < Math.abs(best - b.offset())) {
                    best = p.offset();
                }
            }
        }
        return best;
    }

    private static String key(FolderEntry.BlockRef b) {
        return b.sha256Hex().toLowerCase(Locale.ROOT);
    }
}
