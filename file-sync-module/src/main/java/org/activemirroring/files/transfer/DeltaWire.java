package org.activemirroring.files.transfer;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.activemirroring.files.Block;

/**
 * The binary format of the {@value #KIND} request: "build these blocks out of the base I
 * describe, and send me only what my base lacks" ({@link RollingDelta}). Integers are big-endian.
 * <pre>
 * request: version (1 byte, {@value #VERSION}), sub-block size (int), sub-block count (int,
 *          0..{@value #MAX_SUB_BLOCKS}), per sub-block: weak checksum (int), strong checksum (long);
 *          then wanted count (int, 1..{@value BlockWire#MAX_BLOCKS_PER_REQUEST}), per wanted block:
 *          SHA-256 (32 bytes), length (int); the wanted blocks hold at most {@value #MAX_TARGET_BYTES} bytes
 * reply:   {@value #NOT_HELD} when the peer does not hold every wanted block, else {@value #OPS}
 *          followed by the op stream that builds the wanted blocks one after the other
 * </pre>
 * Decoding is strict: anything else is refused whole with a {@link BlockWireException}.
 */
public final class DeltaWire {

    /** The request kind registered with the peer transport. */
    public static final String KIND = "files.delta";
    /** Format version; a request of another version is refused. */
    public static final byte VERSION = 1;
    /** Most sub-blocks a base may be described by. */
    public static final int MAX_SUB_BLOCKS = 65_536;
    /** Most bytes of wanted blocks one request may ask to build (4 MiB). */
    public static final int MAX_TARGET_BYTES = 4 * 1024 * 1024;
    /** Reply status: some wanted block is not held by the peer; ask another or fetch the blocks. */
    public static final byte NOT_HELD = 0;
    /** Reply status: the op stream follows. */
    public static final byte OPS = 1;

    private static final int SUB_BLOCK_ENTRY = Integer.BYTES + Long.BYTES;
    private static final int WANTED_ENTRY = Block.HASH_LENGTH + Integer.BYTES;
    private static final HexFormat HEX = HexFormat.of();

    /** A decoded request: the base's signature and the blocks to build, in order. */
    public record Request(RollingDelta.Signature base, List<BlockWire.Wanted> wanted) {
        /** Total bytes of the wanted blocks. */
        public int targetLength() {
            return wanted.stream().mapToInt(BlockWire.Wanted::length).sum();
        }
    }

    private DeltaWire() {
    }

    /** The request body; {@code wanted} holds 1..1024 blocks of at most {@link #MAX_TARGET_BYTES} in all. */
    public static byte[] encodeRequest(RollingDelta.Signature base, List<BlockWire.Wanted> wanted) {
        long total = wanted.stream().mapToLong(BlockWire.Wanted::length).sum();
        if (wanted.isEmpty() || wanted.size() > BlockWire.MAX_BLOCKS_PER_REQUEST || total > MAX_TARGET_BYTES) {
            throw new IllegalArgumentException("A delta request builds 1.." + BlockWire.MAX_BLOCKS_PER_REQUEST
                    + " blocks of at most " + MAX_TARGET_BYTES + " bytes, not " + wanted.size() + " of " + total);
        }
        if (base.count() > MAX_SUB_BLOCKS) {
            throw new IllegalArgumentException("A delta request's base has at most " + MAX_SUB_BLOCKS
                    + " sub-blocks, not " + base.count() + "; use larger sub-blocks or a smaller base");
        }
        ByteBuffer out = ByteBuffer.allocate(1 + 2 * Integer.BYTES + SUB_BLOCK_ENTRY * base.count()
                + Integer.BYTES + WANTED_ENTRY * wanted.size());
        out.put(VERSION).putInt(base.subBlockSize()).putInt(base.count());
        for (int i = 0; i < base.count(); i++) {
            out.putInt(base.weak()[i]).putLong(base.strong()[i]);
        }
        out.putInt(wanted.size());
        for (BlockWire.Wanted w : wanted) {
            out.put(w.sha256()).putInt(w.length());
        }
        return out.array();
    }

    /** Reads a request body. */
    public static Request decodeRequest(byte[] body) throws BlockWireException {
        if (body == null || body.length < 1 + 3 * Integer.BYTES) {
            throw new BlockWireException("Delta request of " + (body == null ? "no" : body.length)
                    + " bytes is shorter than its header; the sender is broken or not a mirror");
        }
        ByteBuffer in = ByteBuffer.wrap(body);
        byte version = in.get();
        if (version != VERSION) {
            throw new BlockWireException("Delta request of format version " + version + ", this mirror reads version "
                    + VERSION + "; run the same ActiveMirroring version on every mirror");
        }
        int size = in.getInt();
        int count = in.getInt();
        if (size < RollingDelta.MIN_SUB_BLOCK || size > RollingDelta.MAX_SUB_BLOCK) {
            throw new BlockWireException("Delta request with sub-blocks of " + size + " bytes; they hold "
                    + RollingDelta.MIN_SUB_BLOCK + ".." + RollingDelta.MAX_SUB_BLOCK);
        }
        if (count < 0 || count > MAX_SUB_BLOCKS || in.remaining() < (long) count * SUB_BLOCK_ENTRY + Integer.BYTES) {
            throw new BlockWireException("Delta request describes " + count + " sub-blocks in " + in.remaining()
                    + " bytes; it is truncated or corrupt (at most " + MAX_SUB_BLOCKS + ")");
        }
        int[] weak = new int[count];
        long[] strong = new long[count];
        for (int i = 0; i < count; i++) {
            weak[i] = in.getInt();
            strong[i] = in.getLong();
        }
        int wantedCount = in.getInt();
        if (wantedCount <= 0 || wantedCount > BlockWire.MAX_BLOCKS_PER_REQUEST
                || in.remaining() != (long) wantedCount * WANTED_ENTRY) {
            throw new BlockWireException("Delta request for " + wantedCount + " blocks has " + in.remaining()
                    + " bytes of entries; it asks for 1.." + BlockWire.MAX_BLOCKS_PER_REQUEST + " blocks, "
                    + WANTED_ENTRY + " bytes each");
        }
        List<BlockWire.Wanted> wanted = new ArrayList<>(wantedCount);
        byte[] hash = new byte[Block.HASH_LENGTH];
        long total = 0;
        for (int i = 0; i < wantedCount; i++) {
            in.get(hash);
            int length = in.getInt();
            if (length <= 0 || length > MAX_TARGET_BYTES) {
                throw new BlockWireException("Delta request entry " + i + " asks for " + length
                        + " bytes; blocks built by delta hold 1.." + MAX_TARGET_BYTES);
            }
            total += length;
            wanted.add(new BlockWire.Wanted(HEX.formatHex(hash), length));
        }
        if (total > MAX_TARGET_BYTES) {
            throw new BlockWireException("Delta request asks to build " + total + " bytes; at most " + MAX_TARGET_BYTES);
        }
        return new Request(new RollingDelta.Signature(size, weak, strong), wanted);
    }
}
