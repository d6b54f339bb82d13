package org.activemirroring.transport;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Compact binary form of an {@link Envelope}, used on the wire and in the journal.
 *
 * <p>Layout (big-endian):
 * <pre>
 *   magic      4 bytes  "AMEV"
 *   version    1 byte   {@link Envelope#FORMAT_VERSION}
 *   origin     u16 length + UTF-8
 *   seq        8 bytes
 *   prevHash   32 bytes (fixed: the format only knows SHA-256)
 *   type       u16 length + UTF-8
 *   payload    i32 length + bytes
 *   signature  u16 length + bytes      (last, so the hashed part is a prefix)
 * </pre>
 * The magic and version come first so that a reader recognises foreign or future data before
 * trusting any length. Every length is checked against the bytes actually present before anything
 * is allocated, so corrupt or hostile input fails with {@link IllegalArgumentException}, never with
 * an {@link OutOfMemoryError}.
 *
 * <p>Stateless and thread-safe.
 */
public final class EnvelopeCodec {

    /** "AMEV": ActiveMirroring EnVelope. */
    static final byte[] MAGIC = {'A', 'M', 'E', 'V'};

    /** Largest payload accepted (256 MiB); a bigger length field means corruption, not data. */
    public static final int MAX_PAYLOAD = 256 * 1024 * 1024;

    /** Largest origin id, payload type or signature; all are short by nature. */
    static final int MAX_SHORT_FIELD = 1024;

    private static final int FIXED_OVERHEAD = MAGIC.length + 1 + 2 + 8 + Envelope.HASH_LENGTH + 2 + 4 + 2;

    private EnvelopeCodec() {
    }

    /** Encodes {@code e}, signature included. */
    public static byte[] encode(Envelope e) {
        byte[] origin = e.origin().getBytes(StandardCharsets.UTF_8);
        byte[] type = e.payloadType().getBytes(StandardCharsets.UTF_8);
        checkWritable(e, origin, type);
        ByteBuffer buf = ByteBuffer.allocate(FIXED_OVERHEAD + origin.length + type.length + e.payload().length
                + e.signature().length);
        writeUnsigned(buf, e, origin, type);
        buf.putShort((short) e.signature().length).put(e.signature());
        return buf.array();
    }

    /**
     * Decodes one envelope that fills all of {@code data}.
     *
     * @throws IllegalArgumentException if the data is not exactly one well-formed envelope of a
     *                                  known version; the message says what is wrong
     */
    public static Envelope decode(byte[] data) {
        return decode(data, 0, data.length);
    }

    /** Decodes one envelope that fills exactly {@code data[offset, offset+length)}. */
    public static Envelope decode(byte[] data, int offset, int length) {
        ByteBuffer buf = ByteBuffer.wrap(data, offset, length);
        try {
            for (byte m : MAGIC) {
                if (buf.get() != m) {
                    throw new IllegalArgumentException("not an envelope: wrong magic bytes (expected 'AMEV')");
                }
            }
            int version = buf.get() & 0xff;
            if (version != Envelope.FORMAT_VERSION) {
                throw new IllegalArgumentException("unknown envelope format version " + version + " (this build reads "
                        + Envelope.FORMAT_VERSION + "); upgrade this mirror to read envelopes of newer peers");
            }
            String origin = readString(buf, "origin");
            long seq = buf.getLong();
            if (seq < 1) {
                throw new IllegalArgumentException("invalid seq " + seq);
            }
            byte[] prevHash = new byte[Envelope.HASH_LENGTH];
            buf.get(prevHash);
            String type = readString(buf, "payload type");
            byte[] payload = readBytes(buf, buf.getInt(), MAX_PAYLOAD, "payload");
            byte[] signature = readBytes(buf, buf.getShort() & 0xffff, MAX_SHORT_FIELD, "signature");
            if (buf.hasRemaining()) {
                throw new IllegalArgumentException(buf.remaining() + " unexpected trailing bytes after the envelope");
            }
            return new Envelope(version, origin, seq, prevHash, type, payload, signature);
        } catch (BufferUnderflowException ex) {
            throw new IllegalArgumentException("truncated envelope (" + length + " bytes)");
        }
    }

    /**
     * SHA-256 over the encoding without the signature, so that signing does not change the hash
     * chain and a signature can be added or checked independently of it.
     */
    public static byte[] hash(Envelope e) {
        byte[] origin = e.origin().getBytes(StandardCharsets.UTF_8);
        byte[] type = e.payloadType().getBytes(StandardCharsets.UTF_8);
        checkWritable(e, origin, type);
        // The header and then the payload in place: every envelope sent and received is hashed,
        // and payloads can be megabytes.
        ByteBuffer header = ByteBuffer.allocate(FIXED_OVERHEAD - 2 + origin.length + type.length);
        writeHeader(header, e, origin, type);
        MessageDigest digest = DIGEST.get();
        digest.update(header.array());
        digest.update(e.payload());
        return digest.digest();
    }

    /** One digest per thread: looking one up through the security providers costs more than hashing a small envelope. */
    private static final ThreadLocal<MessageDigest> DIGEST = ThreadLocal.withInitial(EnvelopeCodec::sha256);

    /** The prevHash of an origin's first envelope. */
    public static byte[] zeroHash() {
        return new byte[Envelope.HASH_LENGTH];
    }

    private static void writeUnsigned(ByteBuffer buf, Envelope e, byte[] origin, byte[] type) {
        writeHeader(buf, e, origin, type);
        buf.put(e.payload());
    }

    /** Everything before the payload's bytes (its length is the header's last field). */
    private static void writeHeader(ByteBuffer buf, Envelope e, byte[] origin, byte[] type) {
        buf.put(MAGIC).put((byte) e.formatVersion());
        buf.putShort((short) origin.length).put(origin);
        buf.putLong(e.seq());
        buf.put(e.prevHash());
        buf.putShort((short) type.length).put(type);
        buf.putInt(e.payload().length);
    }

    private static void checkWritable(Envelope e, byte[] origin, byte[] type) {
        if (e.formatVersion() != Envelope.FORMAT_VERSION) {
            throw new IllegalArgumentException("cannot encode envelope format version " + e.formatVersion()
                    + "; this build writes version " + Envelope.FORMAT_VERSION);
        }
        checkMax(origin.length, MAX_SHORT_FIELD, "origin");
        checkMax(type.length, MAX_SHORT_FIELD, "payload type");
        checkMax(e.payload().length, MAX_PAYLOAD, "payload");
        checkMax(e.signature().length, MAX_SHORT_FIELD, "signature");
    }

    private static void checkMax(int len, int max, String what) {
        if (len > max) {
            throw new IllegalArgumentException(what + " is " + len + " bytes; at most " + max + " are allowed");
        }
    }

    private static String readString(ByteBuffer buf, String what) {
        byte[] bytes = readBytes(buf, buf.getShort() & 0xffff, MAX_SHORT_FIELD, what);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException ex) {
            throw new IllegalArgumentException(what + " is not valid UTF-8");
        }
    }

    private static byte[] readBytes(ByteBuffer buf, int len, int max, String what) {
        // Check before allocating: a corrupt length must not allocate gigabytes.
        if (len < 0 || len > max) {
            throw new IllegalArgumentException("invalid " + what + " length " + len + " (at most " + max + ")");
        }
        if (len > buf.remaining()) {
            throw new IllegalArgumentException("truncated envelope: " + what + " claims " + len + " bytes, only "
                    + buf.remaining() + " left");
        }
        byte[] out = new byte[len];
        buf.get(out);
        return out;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }
}
