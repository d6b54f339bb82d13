package org.activemirroring.capture;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The messages of a join between a joining mirror and its donor, carried as unicast requests of
 * kind {@link #KIND}. Requests and the {@code begin} answer are JSON; a chunk answer is a frame of
 * a JSON header followed by the raw bytes of a PostgreSQL {@code COPY ... TO STDOUT} (text format),
 * which the joiner feeds to {@code COPY ... FROM STDIN} unchanged.
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
                          String after, int limit) {
        public static Request hello() {
            return new Request(VERSION, "hello", null, null, 0, 0, null, 0);
        }

        public static Request begin() {
            return new Request(VERSION, "begin", null, null, 0, 0, null, 0);
        }

        /** Resumes {@code session} if the donor still holds it (answered like begin). */
        public static Request resume(String session) {
            return new Request(VERSION, "resume", session, null, 0, 0, null, 0);
        }

        public static Request rows(String session, String table, long fromPage, long toPage) {
            return new Request(VERSION, "rows", session, table, fromPage, toPage, null, 0);
        }

        public static Request versions(String session, String table, String after, int limit) {
            return new Request(VERSION, "versions", session, table, 0, 0, after, limit);
        }

        public static Request end(String session) {
            return new Request(VERSION, "end", session, null, 0, 0, null, 0);
        }
    }

    /**
     * A donor's state: {@code complete} (holds the data, can serve a join), {@code joining} (is
     * itself loading), {@code empty} (new and empty, has not decided where its data comes from).
     */
    public record Hello(String node, String state, boolean ready) {
    }

    /** One mirrored table of a snapshot: COPY column list and size in pages (-1: one chunk). */
    public record TableInfo(String name, List<String> columns, long pages) {
    }

    /**
     * The answer to begin: the snapshot's session, what it holds (per origin, every change up to
     * this seq is in it), its tables, and the DDL to create them on an empty database, or why the
     * donor cannot give it ({@code ddlProblem}; a joiner that has the tables does not need it).
     */
    public record Begin(String session, String donor, Map<String, Long> vector, List<TableInfo> tables,
                        List<String> beforeData, List<String> afterData, String ddlProblem) {
    }

    /**
     * Header of a chunk: rows in it, for versions the last key (null when no rows), and the
     * donor's own journal head when it answered.
     */
    public record ChunkHeader(long rows, String last, long donorHead) {
    }

    /** A chunk: header and COPY text, {@code length} bytes of {@code frame} from {@code offset}. */
    public record Chunk(ChunkHeader header, byte[] frame, int offset, int length) {
        public java.io.InputStream copy() {
            return new java.io.ByteArrayInputStream(frame, offset, length);
        }
    }

    public static byte[] json(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + value.getClass().getSimpleName(), e);
        }
    }

    public static <T> T parse(byte[] bytes, Class<T> type) {
        try {
            T v = JSON.readValue(bytes, type);
            if (v == null) {
                throw new IllegalArgumentException("empty " + type.getSimpleName());
            }
            return v;
        } catch (IOException e) {
            throw new IllegalArgumentException("malformed join " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /** Frames {@code length} bytes of COPY text from {@code copy} (one copy of the data). */
    public static byte[] chunk(ChunkHeader header, byte[] copy, int length) {
        byte[] h = json(header);
        return ByteBuffer.allocate(4 + h.length + length).putInt(h.length).put(h).put(copy, 0, length).array();
    }

    public static Chunk parseChunk(byte[] frame) {
        if (frame.length < 4) {
            throw new IllegalArgumentException("join chunk of " + frame.length + " bytes has no header");
        }
        int len = ByteBuffer.wrap(frame, 0, 4).getInt();
        if (len <= 0 || len > frame.length - 4) {
            throw new IllegalArgumentException("join chunk header length " + len + " does not fit a frame of "
                    + frame.length + " bytes");
        }
        ChunkHeader h = parse(Arrays.copyOfRange(frame, 4, 4 + len), ChunkHeader.class);
        return new Chunk(h, frame, 4 + len, frame.length - 4 - len);
    }
}
