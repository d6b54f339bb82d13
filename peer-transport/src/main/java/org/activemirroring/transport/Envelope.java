package org.activemirroring.transport;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;

/**
 * The unit that travels between mirrors and sits in the journals: one payload from one origin.
 *
 * <p>{@code seq} is gapless per origin, starting at 1. {@code prevHash} is the SHA-256 hash of
 * the origin's previous envelope (32 zero bytes for seq 1), so each origin's history is a hash
 * chain and a rewritten history shows. {@code signature} stays empty until envelopes are signed.
 *
 * <p>Arrays are never null; the record does not copy them, callers must not mutate them.
 */
public record Envelope(int formatVersion, String origin, long seq, byte[] prevHash, String payloadType,
                       byte[] payload, byte[] signature) {

    /** The envelope format this build writes. Readers refuse versions they do not know. */
    public static final int FORMAT_VERSION = 1;

    /** Hash length in bytes (SHA-256). */
    public static final int HASH_LENGTH = 32;

    public Envelope {
        Objects.requireNonNull(origin, "origin");
        Objects.requireNonNull(prevHash, "prevHash");
        Objects.requireNonNull(payloadType, "payloadType");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(signature, "signature");
        if (seq < 1) {
            throw new IllegalArgumentException("seq must be >= 1, was " + seq);
        }
        if (prevHash.length != HASH_LENGTH) {
            throw new IllegalArgumentException("prevHash must be " + HASH_LENGTH + " bytes, was " + prevHash.length);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Envelope e
                && formatVersion == e.formatVersion
                && seq == e.seq
                && origin.equals(e.origin)
                && payloadType.equals(e.payloadType)
                && Arrays.equals(prevHash, e.prevHash)
                && Arrays.equals(payload, e.payload)
                && Arrays.equals(signature, e.signature);
    }

    @Override
    public int hashCode() {
        return Objects.hash(origin, seq, Arrays.hashCode(payload));
    }

    @Override
    public String toString() {
        return "Envelope[" + origin + "#" + seq + " " + payloadType + " " + payload.length + "B prev="
                + HexFormat.of().formatHex(prevHash, 0, 4) + "]";
    }
}
