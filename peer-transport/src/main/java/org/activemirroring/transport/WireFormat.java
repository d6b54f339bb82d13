package org.activemirroring.transport;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bytes of the transport's own messages between mirrors (JGroups only carries them).
 *
 * <p>Every message starts with a kind byte: {@link #ENVELOPE} (multicast, one encoded envelope)
 * or {@link #REQUEST} (unicast: request kind string + body). Responses start with a status byte:
 * {@link #OK} + body, or {@link #ERROR} + UTF-8 error text. The bodies of the internal requests
 * {@code transport.heads} and {@code transport.fetch} are defined here too.
 *
 * <p>All decoders throw {@link IllegalArgumentException} on malformed input and check every count
 * and length against the bytes present before allocating.
 */
final class WireFormat {

    static final byte ENVELOPE = 1;
    static final byte REQUEST = 2;
    static final byte OK = 0;
    static final byte ERROR = 1;

    static final String HEADS = "transport.heads";
    static final String FETCH = "transport.fetch";
    /** Per origin, the lowest seq a journal still holds (same encoding as heads). */
    static final String FIRSTS = "transport.firsts";
    static final String RESERVED_PREFIX = "transport.";

    private WireFormat() {
    }

    static byte[] envelopeMessage(Envelope e) {
        byte[] body = EnvelopeCodec.encode(e);
        byte[] out = new byte[body.length + 1];
        out[0] = ENVELOPE;
        System.arraycopy(body, 0, out, 1, body.length);
        return out;
    }

    static byte[] requestMessage(String kind, byte[] body) {
        return write(out -> {
            out.writeByte(REQUEST);
            writeString(out, kind);
            out.write(body);
        });
    }

    /** A decoded request: its kind and body. */
    record Request(String kind, byte[] body) {
    }

    /** Decodes a message that starts with {@link #REQUEST}. */
    static Request decodeRequest(byte[] msg, int offset, int length) {
        ByteBuffer buf = ByteBuffer.wrap(msg, offset, length);
        try {
            if (buf.get() != REQUEST) {
                throw new IllegalArgumentException("not a request");
            }
            String kind = readString(buf);
            byte[] body = new byte[buf.remaining()];
            buf.get(body);
            return new Request(kind, body);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated request");
        }
    }

    /**
     * An OK answer with {@code body}, as JGroups sends it: in place when the byte before the body is
     * free (see {@link Reply}), else a copy.
     */
    static Object ok(Reply body) {
        if (body.offset() >= 1) {
            body.array()[body.offset() - 1] = OK;
            return new org.jgroups.util.ByteArray(body.array(), body.offset() - 1, body.length() + 1);
        }
        return ok(body.toBytes());
    }

    static byte[] ok(byte[] body) {
        byte[] out = new byte[body.length + 1];
        out[0] = OK;
        System.arraycopy(body, 0, out, 1, body.length);
        return out;
    }

    static byte[] error(String text) {
        byte[] t = text.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[t.length + 1];
        out[0] = ERROR;
        System.arraycopy(t, 0, out, 1, t.length);
        return out;
    }

    static byte[] heads(Map<String, Long> heads) {
        return write(out -> {
            out.writeInt(heads.size());
            for (Map.Entry<String, Long> h : heads.entrySet()) {
                writeString(out, h.getKey());
                out.writeLong(h.getValue());
            }
        });
    }

    static Map<String, Long> decodeHeads(byte[] body) {
        ByteBuffer buf = ByteBuffer.wrap(body);
        try {
            int n = buf.getInt();
            // each entry takes at least 10 bytes: a count beyond that is corruption
            if (n < 0 || n > buf.remaining() / 10) {
                throw new IllegalArgumentException("invalid heads count " + n);
            }
            Map<String, Long> out = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                out.put(readString(buf), buf.getLong());
            }
            return out;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated heads response");
        }
    }

    /** A decoded fetch request. */
    record Fetch(String origin, long fromSeq, int maxCount) {
    }

    static byte[] fetch(String origin, long fromSeq, int maxCount) {
        return write(out -> {
            writeString(out, origin);
            out.writeLong(fromSeq);
            out.writeInt(maxCount);
        });
    }

    static Fetch decodeFetch(byte[] body) {
        ByteBuffer buf = ByteBuffer.wrap(body);
        try {
            Fetch f = new Fetch(readString(buf), buf.getLong(), buf.getInt());
            if (f.fromSeq() < 1 || f.maxCount() < 1) {
                throw new IllegalArgumentException("invalid fetch range " + f);
            }
            return f;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated fetch request");
        }
    }

    static byte[] envelopes(List<Envelope> envelopes) {
        return write(out -> {
            out.writeInt(envelopes.size());
            for (Envelope e : envelopes) {
                byte[] b = EnvelopeCodec.encode(e);
                out.writeInt(b.length);
                out.write(b);
            }
        });
    }

    static List<Envelope> decodeEnvelopes(byte[] body) {
        ByteBuffer buf = ByteBuffer.wrap(body);
        try {
            int n = buf.getInt();
            if (n < 0 || n > buf.remaining() / 4) {
                throw new IllegalArgumentException("invalid envelope count " + n);
            }
            List<Envelope> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int len = buf.getInt();
                if (len < 0 || len > buf.remaining()) {
                    throw new IllegalArgumentException("invalid envelope length " + len);
                }
                out.add(EnvelopeCodec.decode(body, buf.position(), len));
                buf.position(buf.position() + len);
            }
            return out;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("truncated envelope list");
        }
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0xffff) {
            throw new IllegalArgumentException("string too long: " + b.length + " bytes");
        }
        out.writeShort(b.length);
        out.write(b);
    }

    private static String readString(ByteBuffer buf) {
        int len = buf.getShort() & 0xffff;
        if (len > buf.remaining()) {
            throw new IllegalArgumentException("truncated string (" + len + " bytes claimed)");
        }
        byte[] b = new byte[len];
        buf.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] write(Writer w) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            w.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot happen with an in-memory stream", e);
        }
        return bytes.toByteArray();
    }
}
