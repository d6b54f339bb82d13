package org.activemirroring.files.transfer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Positional reads and writes of blocks, each read checked against the block's SHA-256. */
final class BlockReads {

    private BlockReads() {
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM: every Java SE runtime must provide it", e);
        }
    }

    /** Whether {@code length} bytes of {@code a} from {@code off} hash to {@code sha256}. */
    static boolean matches(MessageDigest md, byte[] a, int off, int length, byte[] sha256) {
        md.reset();
        md.update(a, off, length);
        return MessageDigest.isEqual(md.digest(), sha256);
    }

    /** Reads exactly {@code length} bytes at {@code position}; false at end of file before that. */
    static boolean readFully(FileChannel ch, byte[] dst, int off, int length, long position) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(dst, off, length);
        while (buf.hasRemaining()) {
            int n = ch.read(buf, position + (buf.position() - off));
            if (n < 0) {
                return false;
            }
        }
        return true;
    }

    static void writeFully(FileChannel ch, byte[] src, int off, int length, long position) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(src, off, length);
        while (buf.hasRemaining()) {
            ch.write(buf, position + (buf.position() - off));
        }
    }
}
