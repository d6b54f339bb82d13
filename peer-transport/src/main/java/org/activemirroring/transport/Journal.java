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
    /** Separates the origin from the first seq in a segment's file name; never part of an encoded origin. */
    private static final String SEGMENT_MARK = "@";
    private static final String LOCK_FILE = "journal.lock";
    /** Default size at which a segment is closed and a new one begun. */
    public static final long DEFAULT_SEGMENT_BYTES = 64L * 1024 * 1024;
    private static final int HEADER = 8;
    /** A record larger than this is corruption: the codec refuses payloads beyond its maximum. */
    static final int MAX_RECORD = EnvelopeCodec.MAX_PAYLOAD + 64 * 1024;

    private final Path dir;
    private final long segmentBytes;
    private final Map<String, OriginLog> logs = new ConcurrentHashMap<>();
    private FileChannel lockChannel;
    private volatile boolean closed;

    private Journal(Path dir, long segmentBytes) {
        this.dir = dir;
        this.segmentBytes = segmentBytes;
    }

    /** Opens (creating if needed) the journal in {@code dir} with the default segment size. */
    public static Journal open(Path dir) throws IOException {
        return open(dir, DEFAULT_SEGMENT_BYTES);
    }

    /**
     * Opens (creating if needed) the journal in {@code dir}, repairing torn tails.
     *
     * @param segmentBytes size at which a segment file is closed and a new one begun
     * @throws IOException also when another process (or another journal in this one) has the
     *                     directory open: two mirrors on one data directory would corrupt it
     */
    public static Journal open(Path dir, long segmentBytes) throws IOException {
        Files.createDirectories(dir);
        Journal j = new Journal(dir, segmentBytes);
        try {
            j.lock();
            Map<String, TreeMap<Long, Path>> byOrigin = new TreeMap<>();
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
                for (Path f : files) {
                    String name = f.getFileName().toString();
                    String base = name.substring(0, name.length() - SUFFIX.length());
                    int mark = base.indexOf(SEGMENT_MARK);
                    String origin = decodeName(mark < 0 ? base : base.substring(0, mark));
                    Long first = mark < 0 ? Long.valueOf(-1) : parseSeq(base.substring(mark + 1));
                    if (origin == null || first == null) {
                        LOG.warn("Ignoring journal file {} whose name is not <origin>@<seq>.journal", f);
                        continue;
                    }
                    byOrigin.computeIfAbsent(origin, o -> new TreeMap<>()).put(first, f);
                }
            }
            for (Map.Entry<String, TreeMap<Long, Path>> e : byOrigin.entrySet()) {
                j.logs.put(e.getKey(), OriginLog.open(dir, e.getKey(), new ArrayList<>(e.getValue().values()),
                        segmentBytes));
            }
        } catch (IOException | RuntimeException e) {
            j.close();
            throw e;
        }
        return j;
    }

    private static Long parseSeq(String s) {
        try {
            return s.isEmpty() ? null : Long.parseLong(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private void lock() throws IOException {
        lockChannel = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        java.nio.channels.FileLock l;
        try {
            l = lockChannel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            l = null;
        }
        if (l == null) {
            lockChannel.close();
            lockChannel = null;
            throw new IOException("The journal in " + dir + " is in use by another mirror (another process, or another"
                    + " node in this one); give every mirror its own mirror.data.dir");
        }
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
                return OriginLog.open(dir, o, List.of(), segmentBytes);
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

    /** Per origin, the lowest seq still held (after retention), for origins with envelopes. */
    public Map<String, Long> firsts() {
        return perOrigin(OriginLog::first);
    }

    /** Highest seq held per origin (origins with no record are absent). */
    public Map<String, Long> heads() {
        return perOrigin(OriginLog::head);
    }

    private Map<String, Long> perOrigin(java.util.function.ToLongFunction<OriginLog> position) {
        Map<String, Long> out = new TreeMap<>();
        logs.forEach((o, log) -> {
            long seq = position.applyAsLong(log);
            if (seq > 0) {
                out.put(o, seq);
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

    /** Lowest seq still held for {@code origin} (older ones went by retention), 0 if none. */
    public long first(String origin) {
        OriginLog log = logs.get(origin);
        return log == null ? 0 : log.first();
    }

    /** Bytes of records held for {@code origin}. */
    public long bytes(String origin) {
        OriginLog log = logs.get(origin);
        return log == null ? 0 : log.bytes();
    }

    /**
     * Applies retention: per origin, deletes the oldest segments while the origin holds more
     * than {@code maxBytesPerOrigin}, or while the oldest segment was last written before
     * {@code maxAge} ago. The segment being written always stays, and so does every envelope above
     * {@code keepAfter} of its origin (what this node has not delivered yet).
     *
     * @return how many envelopes were deleted
     */
    public int prune(long maxBytesPerOrigin, java.time.Duration maxAge, java.time.Instant now,
                     Map<String, Long> keepAfter) throws IOException {
        ensureOpen();
        int removed = 0;
        long minModified = now.minus(maxAge).toEpochMilli();
        for (Map.Entry<String, OriginLog> e : logs.entrySet()) {
            removed += e.getValue().prune(maxBytesPerOrigin, minModified,
                    keepAfter.getOrDefault(e.getKey(), Long.MAX_VALUE));
        }
        return removed;
    }

    @Override
    public void close() {
        closed = true;
        for (OriginLog log : logs.values()) {
            log.close();
        }
        if (lockChannel != null) {
            try {
                lockChannel.close(); // releases the lock
            } catch (IOException e) {
                LOG.warn("Releasing the journal lock in {} failed: {}", dir, e.toString());
            }
            lockChannel = null;
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

    /** One append-only file of an origin's records, starting at {@code firstSeq}. */
    private static final class Segment {
        final Path file;
        final FileChannel ch;
        long size;

        Segment(Path file, FileChannel ch) {
            this.file = file;
            this.ch = ch;
        }

        void close() {
            try {
                ch.close();
            } catch (IOException e) {
                LOG.warn("Closing journal file {} failed: {}", file, e.toString());
            }
        }
    }

    /**
     * One origin's records in segment files ({@code <origin>@<first seq>.journal}) and an
     * in-memory index seq to (segment, offset). New records go to the last segment; a full one is
     * closed for writing and a new one begun, so that retention can delete whole old segments.
     * All access under its own monitor.
     */
    private static final class OriginLog {
        private final Path dir;
        private final String origin;
        private final long segmentBytes;
        private final List<Segment> segments = new ArrayList<>();
        private long[] seqs = new long[64];
        private long[] offsets = new long[64];
        private Segment[] segOf = new Segment[64];
        private int start;
        private int count;

        private OriginLog(Path dir, String origin, long segmentBytes) {
            this.dir = dir;
            this.origin = origin;
            this.segmentBytes = segmentBytes;
        }

        /** Opens the origin's segments (in seq order), verifying every record. */
        static OriginLog open(Path dir, String origin, List<Path> files, long segmentBytes) throws IOException {
            OriginLog log = new OriginLog(dir, origin, segmentBytes);
            try {
                for (int i = 0; i < files.size(); i++) {
                    Path f = files.get(i);
                    Segment seg = new Segment(f, FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE));
                    log.segments.add(seg);
                    if (!log.scan(seg)) {
                        // A damaged record in the middle of history: what follows cannot be trusted
                        // to continue it. Later segments go; peers have those envelopes.
                        for (Path later : files.subList(i + 1, files.size())) {
                            LOG.warn("Journal {}: deleting {} after the damaged segment {}", origin, later, f);
                            Files.deleteIfExists(later);
                        }
                        break;
                    }
                }
            } catch (IOException | RuntimeException e) {
                log.close();
                throw e;
            }
            return log;
        }

        /** Reads every record, indexes the good ones, cuts at the first bad one; false if it cut. */
        private boolean scan(Segment seg) throws IOException {
            FileChannel ch = seg.ch;
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
                readFully(ch, seg.file, header, pos);
                header.flip();
                int len = header.getInt();
                int crc = header.getInt();
                if (len <= 0 || len > MAX_RECORD || len > fileSize - pos - HEADER) {
                    problem = len > 0 && len <= MAX_RECORD ? "torn record (length " + len + " runs past the end)"
                            : "invalid record length " + len;
                    break;
                }
                ByteBuffer body = ByteBuffer.allocate(len);
                readFully(ch, seg.file, body, pos + HEADER);
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
                index(e.seq(), seg, pos);
                pos += HEADER + len;
            }
            seg.size = pos;
            if (problem != null) {
                LOG.warn("Journal {}: cut {} bytes at offset {} ({}); kept {} records up to seq {}. "
                                + "A crash during a write leaves this; the cut envelopes will be fetched from peers again.",
                        seg.file, fileSize - pos, pos, problem, count - start, head());
                ch.truncate(pos);
                ch.force(true);
                return false;
            }
            return true;
        }

        synchronized boolean append(Envelope e, boolean fsync) throws IOException {
            if (e.seq() <= head()) {
                return false;
            }
            Segment seg = segments.isEmpty() ? null : segments.get(segments.size() - 1);
            if (seg == null || seg.size >= segmentBytes) {
                Path f = dir.resolve(encodeName(origin) + SEGMENT_MARK + String.format("%020d", e.seq()) + SUFFIX);
                seg = new Segment(f, FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                        StandardOpenOption.WRITE));
                segments.add(seg);
                syncDirectory(dir);
            }
            byte[] body = EnvelopeCodec.encode(e);
            ByteBuffer rec = ByteBuffer.allocate(HEADER + body.length);
            rec.putInt(body.length).putInt(crc(body)).put(body).flip();
            long pos = seg.size;
            while (rec.hasRemaining()) {
                pos += seg.ch.write(rec, pos);
            }
            if (fsync) {
                seg.ch.force(false);
            }
            index(e.seq(), seg, seg.size);
            seg.size = pos;
            return true;
        }

        synchronized long head() {
            return count == start ? 0 : seqs[count - 1];
        }

        /** Lowest seq still held, 0 if none. */
        synchronized long first() {
            return count == start ? 0 : seqs[start];
        }

        synchronized long bytes() {
            long total = 0;
            for (Segment seg : segments) {
                total += seg.size;
            }
            return total;
        }

        /**
         * Deletes the oldest segments while the origin holds more than {@code maxBytes} or a
         * segment's newest record is older than {@code minModifiedMillis}; never the segment being
         * written, never one holding a seq above {@code keepAfter}.
         *
         * @return how many envelopes went
         */
        synchronized int prune(long maxBytes, long minModifiedMillis, long keepAfter) throws IOException {
            int removed = 0;
            long total = bytes();
            while (segments.size() > 1) {
                Segment oldest = segments.get(0);
                int end = start;
                while (end < count && segOf[end] == oldest) {
                    end++;
                }
                long lastSeq = end > start ? seqs[end - 1] : 0;
                boolean tooBig = total > maxBytes;
                boolean tooOld = Files.getLastModifiedTime(oldest.file).toMillis() < minModifiedMillis;
                if (!(tooBig || tooOld) || lastSeq > keepAfter) {
                    break;
                }
                oldest.close();
                Files.deleteIfExists(oldest.file);
                segments.remove(0);
                total -= oldest.size;
                removed += end - start;
                for (int i = start; i < end; i++) {
                    segOf[i] = null;
                }
                start = end;
                LOG.info("Journal {}: deleted {} (up to seq {}) by retention ({})", origin, oldest.file.getFileName(),
                        lastSeq, tooBig ? "size" : "age");
            }
            if (start > 0 && start > count / 2) {
                compact();
            }
            return removed;
        }

        private void compact() {
            int n = count - start;
            System.arraycopy(seqs, start, seqs, 0, n);
            System.arraycopy(offsets, start, offsets, 0, n);
            System.arraycopy(segOf, start, segOf, 0, n);
            java.util.Arrays.fill(segOf, n, count, null);
            count = n;
            start = 0;
        }

        synchronized List<Envelope> read(long fromSeq, int maxCount, long maxBytes) throws IOException {
            int i = java.util.Arrays.binarySearch(seqs, start, count, fromSeq);
            List<Envelope> out = new ArrayList<>();
            long bytes = 0;
            for (long expect = fromSeq; i >= start && i < count && out.size() < maxCount && seqs[i] == expect;
                 i++, expect++) {
                Envelope e = readAt(segOf[i], offsets[i]);
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
            for (int i = Math.max(start, count - max); i < count; i++) {
                out.add(readAt(segOf[i], offsets[i]));
            }
            return Collections.unmodifiableList(out);
        }

        synchronized void close() {
            for (Segment seg : segments) {
                seg.close();
            }
        }

        private Envelope readAt(Segment seg, long pos) throws IOException {
            ByteBuffer header = ByteBuffer.allocate(HEADER);
            readFully(seg.ch, seg.file, header, pos);
            header.flip();
            int len = header.getInt();
            int crc = header.getInt();
            ByteBuffer body = ByteBuffer.allocate(len);
            readFully(seg.ch, seg.file, body, pos + HEADER);
            if (crc(body.array()) != crc) {
                throw new IOException("journal " + seg.file + " corrupt at offset " + pos + " (CRC mismatch)");
            }
            return EnvelopeCodec.decode(body.array());
        }

        private void index(long seq, Segment seg, long offset) {
            if (count == seqs.length) {
                seqs = java.util.Arrays.copyOf(seqs, count * 2);
                offsets = java.util.Arrays.copyOf(offsets, count * 2);
                segOf = java.util.Arrays.copyOf(segOf, count * 2);
            }
            seqs[count] = seq;
            offsets[count] = offset;
            segOf[count] = seg;
            count++;
        }

        private static void readFully(FileChannel ch, Path file, ByteBuffer buf, long pos) throws IOException {
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
