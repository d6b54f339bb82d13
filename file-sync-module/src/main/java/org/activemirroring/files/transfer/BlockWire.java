package org.activemirroring.files.transfer;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import org.activemirroring.files.Block;
import org.activemirroring.transport.Reply;

/**
 * The binary format of the {@value #KIND} request, which asks a peer for blocks by SHA-256.
 * Integers are big-endian.
 * <pre>
 * request: version (1 byte, {@value #VERSION}), count (int, 1..{@value #MAX_BLOCKS_PER_REQUEST}),
 *          then per wanted block: SHA-256 (32 bytes), expected length (int, 1..{@link #MAX_BLOCK_LENGTH})
 * reply:   per requested block, in order: length (int; -1 = not held) then that many bytes
 * </pre>
 * A reply is at most {@link #MAX_REPLY_BYTES}; a server answers "not held" for blocks past that
 * budget, and the requester asks for them again. The largest block fits in a reply beside the
 * headers of a full request, so every request makes progress. Decoding is strict: anything that
 * does not follow the format exactly is refused whole with a {@link BlockWireException}. The
 * bytes of a reply are not checked here; the requester checks each block's SHA-256.
 */
public final class BlockWire {

    /** The request kind registered with the peer transport. */
    public static final String KIND = "files.blocks";
    /** Format version; a request of another version is refused. */
    public static final byte VERSION = 1;
    /** Most blocks one request may ask for. */
    public static final int MAX_BLOCKS_PER_REQUEST = 1024;
    /** Largest reply body, in bytes (8 MiB). */
    public static final int MAX_REPLY_BYTES = 8 * 1024 * 1024;
    /** Largest block a request may ask for: alone, it fits a reply to a full request. */
    public static final int MAX_BLOCK_LENGTH = MAX_REPLY_BYTES - Integer.BYTES * MAX_BLOCKS_PER_REQUEST;

    private static final int REQUEST_HEADER = 1 + Integer.BYTES;
    private static final int REQUEST_ENTRY = Block.HASH_LENGTH + Integer.BYTES;
    private static final HexFormat HEX = HexFormat.of();

    private BlockWire() {
    }

    /**
     * One block asked for.
     *
     * @param sha256Hex SHA-256 of its bytes, 64 hex digits (kept lower-case); never null
     * @param length    its length, 1..{@link #MAX_BLOCK_LENGTH}
     */
    public record Wanted(String sha256Hex, int length) {
        public Wanted {
            Objects.requireNonNull(sha256Hex, "sha256Hex");
            if (sha256Hex.length() != 2 * Block.HASH_LENGTH || !isHex(sha256Hex)) {
                throw new IllegalArgumentException("Invalid block hash '" + sha256Hex
                        + "': give the SHA-256 of the block as 64 hex digits");
            }
            if (length <= 0 || length > MAX_BLOCK_LENGTH) {
                throw new IllegalArgumentException("Invalid length " + length + " of block " + sha256Hex
                        + ": blocks hold 1.." + MAX_BLOCK_LENGTH + " bytes");
            }
            sha256Hex = sha256Hex.toLowerCase(Locale.ROOT);
        }

        /** The hash as 32 bytes (a new array). */
        public byte[] sha256() {
            return HEX.parseHex(sha256Hex);
        }

        static boolean isHex(String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                // ASCII only: Character.digit would also take other scripts' digits, which HexFormat refuses.
                if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Reads a block's verified bytes into {@code dst} at {@code offset}; false when it is not held. */
    @FunctionalInterface
    public interface BlockSource {
        boolean read(Wanted block, byte[] dst, int offset);
    }

    /** The request body for {@code blocks} (1..{@value #MAX_BLOCKS_PER_REQUEST} of them). */
    public static byte[] encodeRequest(List<Wanted> blocks) {
        if (blocks.isEmpty() || blocks.size() > MAX_BLOCKS_PER_REQUEST) {
            throw new IllegalArgumentException("A block request asks for 1.." + MAX_BLOCKS_PER_REQUEST
                    + " blocks, not " + blocks.size() + "; split it into batches");
        }
        ByteBuffer out = ByteBuffer.allocate(REQUEST_HEADER + REQUEST_ENTRY * blocks.size());
        out.put(VERSION).putInt(blocks.size());
        for (Wanted w : blocks) {
            out.put(w.sha256()).putInt(w.length());
        }
        return out.array();
    }

    /** The blocks a request body asks for, in order. */
    public static List<Wanted> decodeRequest(byte[] body) throws BlockWireException {
        if (body == null || body.length < REQUEST_HEADER) {
            throw new BlockWireException("Block request of " + (body == null ? "no" : body.length)
                    + " bytes is shorter than its " + REQUEST_HEADER + "-byte header; the sender is broken or not a mirror");
        }
        ByteBuffer in = ByteBuffer.wrap(body);
        byte version = in.get();
        if (version != VERSION) {
            throw new BlockWireException("Block request of format version " + version + ", this mirror reads version "
                    + VERSION + "; run the same ActiveMirroring version on every mirror");
        }
        int count = in.getInt();
        if (count <= 0 || count > MAX_BLOCKS_PER_REQUEST) {
            throw new BlockWireException("Block request for " + count + " blocks; a request asks for 1.."
                    + MAX_BLOCKS_PER_REQUEST);
        }
        if (in.remaining() != (long) count * REQUEST_ENTRY) {
            throw new BlockWireException("Block request for " + count + " blocks has " + in.remaining()
                    + " bytes of entries, not " + count * REQUEST_ENTRY + "; it is truncated or corrupt");
        }
        List<Wanted> blocks = new ArrayList<>(count);
        byte[] hash = new byte[Block.HASH_LENGTH];
        for (int i = 0; i < count; i++) {
            in.get(hash);
            int length = in.getInt();
            if (length <= 0 || length > MAX_BLOCK_LENGTH) {
                throw new BlockWireException("Block request entry " + i + " asks for " + length
                        + " bytes; blocks hold 1.." + MAX_BLOCK_LENGTH);
            }
            blocks.add(new Wanted(HEX.formatHex(hash), length));
        }
        return blocks;
    }

    /**
     * The reply to a request for {@code asked}, each block read through {@code source} straight
     * into the reply's array. The reply leaves the array's first byte free ({@code offset == 1}),
     * so the transport sends it without a copy. Its array holds at most {@link #MAX_REPLY_BYTES} + 1
     * bytes however much was asked.
     */
    public static Reply encodeReply(List<Wanted> asked, BlockSource source) {
        long headers = (long) Integer.BYTES * asked.size();
        long all = headers;
        for (Wanted w : asked) {
            all += w.length();
        }
        byte[] out = new byte[1 + (int) Math.min(MAX_REPLY_BYTES, all)];
        long budget = MAX_REPLY_BYTES - headers;
        int pos = 1;
        for (Wanted w : asked) {
            boolean held = w.length() <= budget && source.read(w, out, pos + Integer.BYTES);
            putInt(out, pos, held ? w.length() : -1);
            pos += Integer.BYTES;
            if (held) {
                pos += w.length();
                budget -= w.length();
            }
        }
        return new Reply(out, 1, pos - 1);
    }

    /**
     * Where each asked block's bytes start in {@code reply.array()}, or -1 where the peer does not
     * hold it. The lengths must be exactly the asked ones and the reply must end after the last.
     */
    public static int[] decodeReply(Reply reply, List<Wanted> asked) throws BlockWireException {
        if (reply.length() > MAX_REPLY_BYTES) {
            throw new BlockWireException("Block reply of " + reply.length() + " bytes is over the limit of "
                    + MAX_REPLY_BYTES + "; the peer runs an incompatible version");
        }
        byte[] a = reply.array();
        int pos = reply.offset();
        int end = reply.offset() + reply.length();
        int[] at = new int[asked.size()];
        for (int i = 0; i < at.length; i++) {
            if (end - pos < Integer.BYTES) {
                throw new BlockWireException("Block reply ends before the length of block " + i + " of " + at.length
                        + "; it is truncated");
            }
            int length = getInt(a, pos);
            pos += Integer.BYTES;
            if (length == -1) {
                at[i] = -1;
                continue;
            }
            if (length != asked.get(i).length()) {
                throw new BlockWireException("Block reply gives " + length + " bytes for block " + asked.get(i).sha256Hex()
                        + ", which has " + asked.get(i).length() + "; the peer is broken");
            }
            if (end - pos < length) {
                throw new BlockWireException("Block reply ends inside block " + i + " of " + at.length
                        + "; it is truncated");
            }
            at[i] = pos;
            pos += length;
        }
        if (pos != end) {
            throw new BlockWireException("Block reply has " + (end - pos) + " bytes after its last block; it is corrupt");
        }
        return at;
    }

    private static void putInt(byte[] a, int pos, int v) {
        a[pos] = (byte) (v >>> 24);
        a[pos + 1] = (byte) (v >>> 16);
        a[pos + 2] = (byte) (v >>> 8);
        a[pos + 3] = (byte) v;
    }

    private static int getInt(byte[] a, int pos) {
        return (a[pos] & 0xff) << 24 | (a[pos + 1] & 0xff) << 16 | (a[pos + 2] & 0xff) << 8 | (a[pos + 3] & 0xff);
    }
}
