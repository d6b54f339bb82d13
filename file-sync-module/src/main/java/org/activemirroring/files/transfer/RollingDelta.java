package org.activemirroring.files.transfer;

import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;

/**
 * rsync's delta algorithm, applied to the bytes around a file's edit: the side that holds an old
 * version ("base") describes it as a {@link Signature} of fixed-size sub-blocks, each a weak rolling
 * checksum and a strong one; the side that holds the new bytes ({@link #diff}) slides a window over
 * them and answers with a stream of operations, copies of base sub-blocks and literal bytes;
 * {@link #patch} rebuilds the new bytes from the base and that stream.
 *
 * <p>The op stream: {@code 1, start (int), count (int)} copies {@code count} sub-blocks of the base
 * starting at sub-block {@code start}; {@code 2, length (int), bytes} inserts {@code length}
 * literal bytes. Integers are big-endian. {@link #patch} is strict: an op out of range, or output
 * of another length than expected, is refused whole. Nothing here is trusted for correctness:
 * whoever rebuilds checks each rebuilt block's SHA-256 (a strong-checksum collision then only costs
 * a fetch of that block).
 */
public final class RollingDelta {

    /** Smallest sub-block a signature may use. */
    public static final int MIN_SUB_BLOCK = 64;
    /** Largest sub-block a signature may use. */
    public static final int MAX_SUB_BLOCK = 64 * 1024;

    /**
     * Sub-blocks with the window's weak checksum whose strong checksum is compared, per position:
     * a base of many equal sub-blocks (or a signature made to collide) then costs a bounded
     * amount of work per byte; a match missed that way only travels as literal bytes.
     */
    static final int MAX_CANDIDATES = 8;

    static final byte OP_COPY = 1;
    static final byte OP_LITERAL = 2;

    private RollingDelta() {
    }

    /**
     * A base described by its full sub-blocks of {@code subBlockSize} bytes (a shorter tail is
     * left out: bytes it held travel as literals).
     *
     * @param weak   per sub-block, the rolling checksum ({@link #weak})
     * @param strong per sub-block, the first 8 bytes of its SHA-256, as a long
     */
    public record Signature(int subBlockSize, int[] weak, long[] strong) {
        public Signature {
            if (subBlockSize < MIN_SUB_BLOCK || subBlockSize > MAX_SUB_BLOCK) {
                throw new IllegalArgumentException("Invalid sub-block size " + subBlockSize + ": give "
                        + MIN_SUB_BLOCK + ".." + MAX_SUB_BLOCK);
            }
            Objects.requireNonNull(weak, "weak");
            Objects.requireNonNull(strong, "strong");
            if (weak.length != strong.length) {
                throw new IllegalArgumentException("A signature has one weak and one strong checksum per sub-block, not "
                        + weak.length + " and " + strong.length);
            }
        }

        /** How many sub-blocks it describes. */
        public int count() {
            return weak.length;
        }
    }

    /**
     * The sub-block size for a base of {@code baseLength} bytes: about the square root of 12 times
     * it (signature bytes and the literal bytes around each edit balance there), a power of two,
     * 256 to 8192.
     */
    public static int subBlockSizeFor(long baseLength) {
        long ideal = (long) Math.sqrt(12.0 * Math.max(1, baseLength));
        int s = Integer.highestOneBit((int) Math.min(Integer.MAX_VALUE, Math.max(1, ideal)));
        return Math.max(256, Math.min(8192, s));
    }

    /** The signature of {@code length} bytes of {@code base} from {@code off}. */
    public static Signature sign(byte[] base, int off, int length, int subBlockSize) {
        int count = length / subBlockSize;
        int[] weak = new int[count];
        long[] strong = new long[count];
        MessageDigest md = BlockReads.sha256();
        for (int i = 0; i < count; i++) {
            int at = off + i * subBlockSize;
            weak[i] = weak(base, at, subBlockSize);
            strong[i] = strong(md, base, at, subBlockSize);
        }
        return new Signature(subBlockSize, weak, strong);
    }

    /** The op stream that rebuilds {@code length} bytes of {@code target} from {@code off} out of the signed base. */
    public static byte[] diff(byte[] target, int off, int length, Signature sig) {
        Ops ops = new Ops(length);
        int s = sig.subBlockSize();
        if (sig.count() == 0 || length < s) {
            ops.literal(target, off, length);
            return ops.bytes();
        }
        Lookup lookup = new Lookup(sig);
        MessageDigest md = BlockReads.sha256();
        int end = off + length;
        int pos = off;
        int literalFrom = off;
        int expected = -1;
        int w = weak(target, pos, s);
        int a = w & 0xffff;
        int b = w >>> 16;
        while (pos + s <= end) {
            int found = lookup.find(w, expected, md, target, pos);
            if (found >= 0) {
                ops.literal(target, literalFrom, pos - literalFrom);
                ops.copy(found);
                expected = found + 1;
                pos += s;
                literalFrom = pos;
                if (pos + s <= end) {
                    w = weak(target, pos, s);
                    a = w & 0xffff;
                    b = w >>> 16;
                }
                continue;
            }
            if (pos + s < end) {
                int out = target[pos] & 0xff;
                int in = target[pos + s] & 0xff;
                a = (a - out + in) & 0xffff;
                b = (b - s * out + a) & 0xffff;
                w = a | b << 16;
            }
            pos++;
        }
        ops.literal(target, literalFrom, end - literalFrom);
        return ops.bytes();
    }

    /**
     * Rebuilds the target from {@code base} (the bytes the signature was made of, from
     * {@code baseOff}) and an op stream; its length must be {@code expectedLength}.
     *
     * @throws BlockWireException the stream is malformed, names sub-blocks the base does not have,
     *                            or builds another length
     */
    public static byte[] patch(byte[] ops, int opsOff, int opsLength, byte[] base, int baseOff, int baseLength,
                               int subBlockSize, int expectedLength) throws BlockWireException {
        byte[] out = new byte[expectedLength];
        int subBlocks = baseLength / subBlockSize;
        int pos = opsOff;
        int end = opsOff + opsLength;
        int at = 0;
        while (pos < end) {
            byte op = ops[pos++];
            if (end - pos < Integer.BYTES) {
                throw new BlockWireException("Delta op at byte " + (pos - 1 - opsOff) + " is truncated");
            }
            int first = getInt(ops, pos);
            pos += Integer.BYTES;
            if (op == OP_COPY) {
                if (end - pos < Integer.BYTES) {
                    throw new BlockWireException("Delta copy op at byte " + (pos - 5 - opsOff) + " is truncated");
                }
                int count = getInt(ops, pos);
                pos += Integer.BYTES;
                if (first < 0 || count <= 0 || first > subBlocks - count) {
                    throw new BlockWireException("Delta copies sub-blocks " + first + "+" + count + " of a base of "
                            + subBlocks);
                }
                long bytes = (long) count * subBlockSize;
                if (bytes > expectedLength - at) {
                    throw new BlockWireException("Delta builds more than the " + expectedLength + " bytes asked for");
                }
                System.arraycopy(base, baseOff + first * subBlockSize, out, at, (int) bytes);
                at += (int) bytes;
            } else if (op == OP_LITERAL) {
                if (first <= 0 || first > end - pos || first > expectedLength - at) {
                    throw new BlockWireException("Delta literal of " + first + " bytes does not fit (" + (end - pos)
                            + " left in the reply, " + (expectedLength - at) + " left to build)");
                }
                System.arraycopy(ops, pos, out, at, first);
                pos += first;
                at += first;
            } else {
                throw new BlockWireException("Unknown delta op " + op + " at byte " + (pos - 5 - opsOff));
            }
        }
        if (at != expectedLength) {
            throw new BlockWireException("Delta builds " + at + " bytes, not the " + expectedLength + " asked for");
        }
        return out;
    }

    /** rsync's weak checksum of {@code length} bytes from {@code off}: two 16-bit sums in one int. */
    static int weak(byte[] a, int off, int length) {
        int s1 = 0;
        int s2 = 0;
        for (int i = 0; i < length; i++) {
            int x = a[off + i] & 0xff;
            s1 += x;
            s2 += (length - i) * x;
        }
        // Sums wrap at 2^32; only their low 16 bits count, which wrapping keeps.
        return (s1 & 0xffff) | (s2 & 0xffff) << 16;
    }

    static long strong(MessageDigest md, byte[] a, int off, int length) {
        md.reset();
        md.update(a, off, length);
        byte[] d = md.digest();
        long v = 0;
        for (int i = 0; i < Long.BYTES; i++) {
            v = v << 8 | (d[i] & 0xff);
        }
        return v;
    }

    static int getInt(byte[] a, int pos) {
        return (a[pos] & 0xff) << 24 | (a[pos + 1] & 0xff) << 16 | (a[pos + 2] & 0xff) << 8 | (a[pos + 3] & 0xff);
    }

    /** The signature's sub-blocks by weak checksum: an open hash of chains. */
    private static final class Lookup {
        private final Signature sig;
        private final int[] head;
        private final int[] next;
        private final int mask;

        Lookup(Signature sig) {
            this.sig = sig;
            int size = Integer.highestOneBit(Math.max(1, sig.count()) * 2 - 1) << 1;
            this.head = new int[size];
            this.next = new int[sig.count()];
            this.mask = size - 1;
            Arrays.fill(head, -1);
            // Backwards, so each chain lists the lowest index first (a run of equal sub-blocks then copies in order).
            for (int i = sig.count() - 1; i >= 0; i--) {
                int h = bucket(sig.weak()[i]);
                next[i] = head[h];
                head[h] = i;
            }
        }

        /** The sub-block the window at {@code pos} equals, preferring {@code expected}; -1 when none. */
        int find(int weak, int expected, MessageDigest md, byte[] target, int pos) {
            int h = head[bucket(weak)];
            if (h < 0) {
                return -1;
            }
            long strong = 0;
            boolean computed = false;
            if (expected >= 0 && expected < sig.count() && sig.weak()[expected] == weak) {
                strong = strong(md, target, pos, sig.subBlockSize());
                computed = true;
                if (sig.strong()[expected] == strong) {
                    return expected;
                }
            }
            int candidates = 0;
            for (int i = h; i >= 0 && candidates < MAX_CANDIDATES; i = next[i]) {
                if (sig.weak()[i] != weak) {
                    continue;
                }
                candidates++;
                if (!computed) {
                    strong = strong(md, target, pos, sig.subBlockSize());
                    computed = true;
                }
                if (sig.strong()[i] == strong) {
                    return i;
                }
            }
            return -1;
        }

        private int bucket(int weak) {
            int x = weak * 0x9E3779B9;
            return (x ^ x >>> 16) & mask;
        }
    }

    /** The op stream being written: consecutive copies merge into one op. */
    private static final class Ops {
        private final ByteArrayOutputStream out;
        private int copyStart = -1;
        private int copyCount;

        Ops(int targetLength) {
            this.out = new ByteArrayOutputStream(Math.min(targetLength / 8 + 64, 1 << 20));
        }

        void copy(int index) {
            if (copyStart >= 0 && copyStart + copyCount == index) {
                copyCount++;
                return;
            }
            flushCopy();
            copyStart = index;
            copyCount = 1;
        }

        void literal(byte[] a, int off, int length) {
            if (length <= 0) {
                return;
            }
            flushCopy();
            out.write(OP_LITERAL);
            putInt(length);
            out.write(a, off, length);
        }

        byte[] bytes() {
            flushCopy();
            return out.toByteArray();
        }

        private void flushCopy() {
            if (copyStart < 0) {
                return;
            }
            out.write(OP_COPY);
            putInt(copyStart);
            putInt(copyCount);
            copyStart = -1;
            copyCount = 0;
        }

        private void putInt(int v) {
            out.write(v >>> 24);
            out.write(v >>> 16);
            out.write(v >>> 8);
            out.write(v);
        }
    }
}
