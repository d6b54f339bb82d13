package org.activemirroring.join;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.activemirroring.transport.Reply;

/**
 * The messages of a join between a joining mirror and its donor, carried as unicast requests of
 * kind {@link #KIND}. Requests and the {@code begin} answer are JSON; a chunk answer is a frame of
 * a JSON header followed by the raw bytes the donor's {@link org.activemirroring.db.BulkCopy}
 * wrote (PostgreSQL: {@code COPY ... TO STDOUT}), which the joiner's loads unchanged. Chunks are in
 * the text format, or in the binary format when the joiner asks for it and the donor can give it
 * for that table (the header says which).
 *
 * <p>Everything decoded here comes from the network: a malformed message is an
 * {@link IllegalArgumentException} with the reason, never a half-read value.
 */
public final class JoinWire {

    /** The request kind under which a mirror serves joins. */
    public static final String KIND = "mirror.join";

    /** Version of these messages; a donor refuses a joiner that speaks another one. */
    public static final int VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private JoinWire() {
    }

    /** What a joiner asks. {@code op}: hello, begin, rows, versions, end. */
    public record Request(int version, String op, String session, String table, long fromPage, long toPage,
                          String after, int limit, String format) {
        public static Request hello() {
            return new Request(VERSION, "hello", null, null, 0, 0, null, 0, null);
        }

        public static Request begin() {
            return new Request(VERSION, "begin", null, null, 0, 0, null, 0, null);
        }

        /** Resumes {@code session} if the donor still holds it (answered like begin). */
        public static Request resume(String session) {
            return new Request(VERSION, "resume", session, null, 0, 0, null, 0, null);
        }

        /** Rows of a page range; {@code binary} asks for COPY's binary format (see {@link TableInfo#binary}). */
        public static Request rows(String session, String table, long fromPage, long toPage, boolean binary) {
            return new Request(VERSION, "rows", session, table, fromPage, toPage, null, 0, binary ? BINARY : null);
        }

        public static Request versions(String session, String table, String after, int limit) {
            return new Request(VERSION, "versions", session, table, 0, 0, after, limit, null);
        }

        public static Request end(String session) {
            return new Request(VERSION, "end", session, null, 0, 0, null, 0, null);
        }

        /** Whether this request asks for COPY's binary format. */
        public boolean wantsBinary() {
            return BINARY.equals(format);
        }
    }

    /** The {@code format} of a request or chunk in COPY's binary format (absent: text). */
    public static final String BINARY = "binary";

    /**
     * A donor's state: {@code complete} (holds the data, can serve a join), {@code joining} (is
     * itself loading), {@code empty} (new, has not decided where its data comes from); {@code rows}:
     * while undecided, whether its own mirrored tables hold rows (a site that existed before
     * mirroring, or seed rows its site wrote at start).
     */
    public record Hello(String node, String state, boolean ready, boolean rows) {
        /** A hello without the row flag (as older releases send it). */
        public Hello(String node, String state, boolean ready) {
            this(node, state, ready, false);
        }
    }

    /**
     * One mirrored table of a snapshot: COPY column list, size in pages (-1: one chunk), each
     * column's type as {@code format_type} writes it, and whether the donor can copy its rows in
     * COPY's binary format: every column of a built-in type with binary input and output whose
     * binary form holds no object id of the donor's own (no {@code reg*} types, no user-defined
     * types, enums, composites or arrays of them). {@code types} is null from a donor of an older
     * release, and then {@code binary} is false.
     */
    public record TableInfo(String name, List<String> columns, long pages, List<String> types, boolean binary) {
    }

    /**
     * The answer to begin: the snapshot's session, what it holds (per origin, every change up to
     * this seq is in it), its tables, and the DDL to create them on an empty database, or why the
     * donor cannot give it ({@code ddlProblem}; a joiner that has the tables does not need it), and
     * the donor database's {@code server_version_num} (0 from a donor of an older release).
     * {@code localTables} are the tables {@code mirror.tables.exclude} keeps local: no rows travel,
     * but the DDL creates them too, so the site finds every table it uses on a joined mirror
     * ({@code localProblem} says why they are left out of the DDL when the donor cannot describe them).
     */
    public record Begin(String session, String donor, Map<String, Long> vector, List<TableInfo> tables,
                        List<String> beforeData, List<String> afterData, String ddlProblem, int serverVersion,
                        List<String> localTables, String localProblem) {
        public Begin {
            localTables = localTables == null ? List.of() : List.copyOf(localTables);
        }

        /** A begin without tables kept local (as older releases send it). */
        public Begin(String session, String donor, Map<String, Long> vector, List<TableInfo> tables,
                     List<String> beforeData, List<String> afterData, String ddlProblem, int serverVersion) {
            this(session, donor, vector, tables, beforeData, afterData, ddlProblem, serverVersion, List.of(), null);
        }
    }

    /**
     * Header of a chunk: rows in it, for versions the last key (null when no rows), the donor's own
     * journal head when it answered, and the COPY format of the data ({@link #BINARY}, or null for
     * text).
     */
    public record ChunkHeader(long rows, String last, long donorHead, String format) {
        public boolean binary() {
            return BINARY.equals(format);
        }
    }

    /** A chunk: header and COPY data, {@code length} bytes of {@code frame} from {@code offset}. */
    public record Chunk(ChunkHeader header, byte[] frame, int offset, int length) {
    }

    public static byte[] json(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    public static <T> T parse(byte[] bytes, Class<T> type) {
        return parse(Reply.of(bytes), type);
    }

    /** A JSON message read where it is in {@code message}'s array. */
    public static <T> T parse(Reply message, Class<T> type) {
        try {
            T v = JSON.readValue(message.array(), message.offset(), message.length(), type);
            if (v == null) {
                throw new IllegalArgumentException("empty " + type.getSimpleName());
            }
            return v;
        } catch (IOException e) {
            throw new IllegalArgumentException("malformed join " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /** Room a donor leaves for the chunk header before the COPY data it frames in place. */
    static final int HEADER_ROOM = 256;
    /**
     * Where a donor writes COPY data in the array it frames in place: after a free byte for the
     * transport ({@link Reply}), the header's length and {@link #HEADER_ROOM}.
     */
    static final int DATA_OFFSET = 1 + 4 + HEADER_ROOM;

    /**
     * Frames the COPY data of {@code array} from {@link #DATA_OFFSET} to {@code end} where it is:
     * the header goes in the room before it, padded with spaces (JSON allows them), so the frame
     * is an ordinary one and the data is never copied. A header too long for the room (a long key)
     * gets a frame of its own, with one copy of the data.
     */
    static Reply chunkInPlace(ChunkHeader header, byte[] array, int end) {
        byte[] h = json(header);
        if (h.length > HEADER_ROOM) {
            int length = end - DATA_OFFSET;
            return Reply.of(ByteBuffer.allocate(4 + h.length + length).putInt(h.length).put(h)
                    .put(array, DATA_OFFSET, length).array());
        }
        ByteBuffer.wrap(array, 1, 4).putInt(HEADER_ROOM);
        System.arraycopy(h, 0, array, 5, h.length);
        Arrays.fill(array, 5 + h.length, DATA_OFFSET, (byte) ' ');
        return new Reply(array, 1, end - 1);
    }

    /** The chunk framed in {@code frame}'s bytes, read in place. */
    public static Chunk parseChunk(Reply frame) {
        int size = frame.length();
        if (size < 4) {
            throw new IllegalArgumentException("join chunk of " + size + " bytes has no header");
        }
        int start = frame.offset();
        int len = ByteBuffer.wrap(frame.array(), start, 4).getInt();
        if (len <= 0 || len > size - 4) {
            throw new IllegalArgumentException("join chunk header length " + len + " does not fit a frame of "
                    + size + " bytes");
        }
        ChunkHeader h = parse(new Reply(frame.array(), start + 4, len), ChunkHeader.class);
        return new Chunk(h, frame.array(), start + 4 + len, size - 4 - len);
    }
}
