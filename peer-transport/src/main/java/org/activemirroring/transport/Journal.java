package org.activemirroring.transport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's durable journal: every envelope it originated or received, one append-only file per
 * origin, so that any peer can serve catch-up for any origin.
 *
 * <p>Each record is {@code length (i32) + CRC32 of the encoding (i32) + encoded envelope}. A crash
 * can leave a torn last record; {@link #open} verifies every record and cuts the file at the first
 * bad one (logging what was cut), so everything before it survives.
 *
 * <p>Per origin, sequence numbers only grow: usually head+1; a forward jump is allowed (a node
 * that joined from a snapshot starts mid-history), an old or duplicate seq is ignored. An index
 * seq to file offset is kept in memory.
 *
 * <p>Thread-safe: each origin file has its own lock; reads do not block appends of other origins.
 */
public final class Journal implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);
    private static final String SUFFIX = ".journal";
    private static final int HEADER = 8;
    /** A record larger than this is corruption: the codec refuses payloads beyond its maximum. */
    static final int MAX_RECORD = EnvelopeCodec.MAX_PAYLOAD + 64 * 1024;

    private final Path dir;
    private final Map<String, OriginLog> logs = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private Journal(Path dir) {
        this.dir = dir;
    }

    /** Opens (creating if needed) the journal in {@code dir}, repairing torn tails. */
    public static Journal open(Path dir) throws IOException {
        Files.createDirectories(dir);
        Journal j = new Journal(dir);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                String origin = decodeName(name.substring(0, name.length() - SUFFIX.length()));
                if (origin == null) {
                    LOG.warn("Ignoring journal file {} whose name is not an encoded origin id", f);
                    continue;
                }
                j.logs.put(origin, OriginLog.open(f, origin));
            }
        } catch (IOException | RuntimeException e) {
            j.close();
            throw e;
        }
        return j;
    }

    /**
     * Appends {@code e} to its origin's file.
     *
     * @param fsync force the record to disk before returning
     * @return false if the journal already holds this seq or a later one (the envelope is ignored)
     */
    public boolean append(Envelope e, boolean fsync) throws IOException {
        ensureOpen();
        OriginLog log = logs.computeIfAbsent(e.origin(), o -> {
            try {
                return OriginLog.open(dir.resolve(encodeName(o) + SUFFIX), o);
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
        });
        return log.append(e, fsync);
    }

    /** Highest seq held for {@code origin}, 0 if none. */
    public long head(String origin) {
        OriginLog log = logs.get(origin);
        return log == null ? 0 : log.head();
    }

    /** Highest seq held per origin (origins with no record are absent). */
    public Map<String, Long> heads() {
        Map<String, Long> out = new TreeMap<>();
        logs.forEach((o, log) -> {
            long h = log.head();
            if (h > 0) {
                out.put(o, h);
            }
        });
        return out;
    }

    /**
     * Consecutive envelopes of {@code origin} starting at {@code fromSeq}: stops at the first seq
     * not held, after {@code maxCount} envelopes, or once {@code maxBytes} of encoded envelopes
     * have been read (at least one is always returned if held).
     */
    public List<Envelope> read(String origin, long fromSeq, int maxCount, long maxBytes) throws IOException {
        ensureOpen();
        OriginLog log = logs.get(origin);
        return log == null ? List.of() : log.read(fromSeq, maxCount, maxBytes);
    }

    /** Same as {@link #read(String, long, int, long)} without a byte limit. */
    public List<Envelope> read(String origin, long fromSeq, int maxCount) throws IOException {
        return read(origin, fromSeq, maxCount, Long.MAX_VALUE);
    }

    /** The last {@code max} envelopes held for {@code origin}, oldest first. */
    public List<Envelope> tail(String origin, int max) throws IOException {
        ensureOpen();
        OriginLog log = logs.get(origin);
        return log == null ? List.of() : log.tail(max);
    }

    @Override
    public void close() {
        closed = true;
        for (OriginLog log : logs.values()) {
            log.close();
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("journal in " + dir + " is closed");
        }
    }

    /**
     * File-name-safe form of an origin id: [a-z0-9-] stay, every other byte of its UTF-8 becomes
     * {@code _xx}. Node ids are already [a-z0-9-]; envelopes from the network are not trusted to be.
     */
    static String encodeName(String origin) {
        StringBuilder sb = new StringBuilder();
        for (byte b : origin.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
                sb.append(c);
            } else {
                sb.append('_').append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
            }
        }
        return sb.toString();
    }

    /** Inverse of {@link #encodeName}; null if {@code name} is not such an encoding. */
    static String decodeName(String name) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c == '_') {
                if (i + 2 >= name.length()) {
                    return null;
                }
                int hi = Character.digit(name.charAt(i + 1), 16);
                int lo = Character.digit(name.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
                out.write(c);
            } else {
                return null;
            }
        }
        return name.isEmpty() ? null : out.toString(StandardCharsets.UTF_8);
    }

    /** One origin's file and its in-memory index. All access under its own monitor. */
    private static final class OriginLog {
        private final Path file;
        private final String origin;
        private final FileChannel ch;
        private long[] seqs = new long[64];
        private long[] offsets = new long[64];
        private int count;
        private long size;

        private OriginLog(Path file, String origin, FileChannel ch) {
            this.file = file;
            this.origin = origin;
            this.ch = ch;
        }

        static OriginLog open(Path file, String origin) throws IOException {
            boolean created = !Files.exists(file);
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            OriginLog log = new OriginLog(file, origin, ch);
            try {
                log.scan();
                if (created) {
                    syncDirectory(file.getParent());
                }
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
            return log;
        }

        /** Reads every record, indexes the good ones and cuts the file at the first bad one. */
        private void scan() throws IOException {
            long fileSize = ch.size();
            long pos = 0;
            ByteBuffer header = ByteBuffer.allocate(HEADER);
            String problem = null;
            while (pos < fileSize) {
                if (fileSize - pos < HEADER) {
                    problem = "torn record header";
                    break;
                }
                header.clear();
                readFully(header, pos);
                header.flip();
                int len = header.getInt();
                int crc = header.getInt();
                if (len <= 0 || len > MAX_RECORD || len > fileSize - pos - HEADER) {
                    problem = len > 0 && len <= MAX_RECORD ? "torn record (length " + len + " runs past the end)"
                            : "invalid record length " + len;
                    break;
                }
                ByteBuffer body = ByteBuffer.allocate(len);
                readFully(body, pos + HEADER);
                if (crc(body.array()) != crc) {
                    problem = "CRC mismatch";
                    break;
                }
                Envelope e;
                try {
                    e = EnvelopeCodec.decode(body.array());
                } catch (IllegalArgumentException ex) {
                    problem = "undecodable record: " + ex.getMessage();
                    break;
                }
                if (!e.origin().equals(origin) || e.seq() <= head()) {
                    problem = "record " + e.origin() + "#" + e.seq() + " does not continue " + origin + "#" + head();
                    break;
                }
                index(e.seq(), pos);
                pos += HEADER + len;
            }
            if (problem != null) {
                LOG.warn("Journal {}: cut {} bytes at offset {} ({}); kept {} records up to seq {}. "
                                + "A crash during a write leaves this; the cut envelopes will be fetched from peers again.",
                        file, fileSize - pos, pos, problem, count, head());
                ch.truncate(pos);
                ch.force(true);
            }
            size = pos;
        }

        synchronized boolean append(Envelope e, boolean fsync) throws IOException {
            if (e.seq() <= head()) {
                return false;
            }
            byte[] body = EnvelopeCodec.encode(e);
            ByteBuffer rec = ByteBuffer.allocate(HEADER + body.length);
            rec.putInt(body.length).putInt(crc(body)).put(body).flip();
            long pos = size;
            while (rec.hasRemaining()) {
                pos += ch.write(rec, pos);
            }
            if (fsync) {
                ch.force(false);
            }
            index(e.seq(), size);
            size = pos;
            return true;
        }

        synchronized long head() {
            return count == 0 ? 0 : seqs[count - 1];
        }

        synchronized List<Envelope> read(long fromSeq, int maxCount, long maxBytes) throws IOException {
            int i = java.util.Arrays.binarySearch(seqs, 0, count, fromSeq);
            List<Envelope> out = new ArrayList<>();
            long bytes = 0;
            for (long expect = fromSeq; i >= 0 && i < count && out.size() < maxCount && seqs[i] == expect; i++, expect++) {
                Envelope e = readAt(offsets[i]);
                out.add(e);
                bytes += e.payload().length;
                if (bytes >= maxBytes) {
                    break;
                }
            }
            return out;
        }

        synchronized List<Envelope> tail(int max) throws IOException {
            List<Envelope> out = new ArrayList<>();
            for (int i = Math.max(0, count - max); i < count; i++) {
                out.add(readAt(offsets[i]));
            }
            return Collections.unmodifiableList(out);
        }

        synchronized void close() {
            try {
                ch.close();
            } catch (IOException e) {
                LOG.warn("Closing journal file {} failed: {}", file, e.toString());
            }
        }

        private Envelope readAt(long pos) throws IOException {
            ByteBuffer header = ByteBuffer.allocate(HEADER);
            readFully(header, pos);
            header.flip();
            int len = header.getInt();
            int crc = header.getInt();
            ByteBuffer body = ByteBuffer.allocate(len);
            readFully(body, pos + HEADER);
            if (crc(body.array()) != crc) {
                throw new IOException("journal " + file + " corrupt at offset " + pos + " (CRC mismatch)");
            }
            return EnvelopeCodec.decode(body.array());
        }

        private void index(long seq, long offset) {
            if (count == seqs.length) {
                seqs = java.util.Arrays.copyOf(seqs, count * 2);
                offsets = java.util.Arrays.copyOf(offsets, count * 2);
            }
            seqs[count] = seq;
            offsets[count] = offset;
            count++;
        }

        private void readFully(ByteBuffer buf, long pos) throws IOException {
            while (buf.hasRemaining()) {
                int n = ch.read(buf, pos);
                if (n < 0) {
                    throw new IOException("unexpected end of journal " + file + " at offset " + pos);
                }
                pos += n;
            }
        }
    }

    /**
     * A new file's directory entry must reach the disk too, or a crash can lose the whole file
     * with its fsynced records. Best effort: not every platform can open a directory.
     */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            LOG.debug("Cannot fsync directory {}: {}", dir, e.toString());
        }
    }

    static int crc(byte[] data) {
        CRC32 c = new CRC32();
        c.update(data);
        return (int) c.getValue();
    }
}
