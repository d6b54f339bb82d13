package org.activemirroring.change;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.activemirroring.transport.Envelope;

/**
 * Turns a {@link ChangeSet} into the bytes of an envelope payload and back.
 *
 * <p>JSON with one-letter field names: a row change is sent to every mirror, so names are kept
 * short; JSON rather than a binary format because it saves little (STACK.md: ~13%) and stays
 * readable in journals. Origin and seq are not in the payload: the envelope carries them and
 * {@link #decode(Envelope)} takes them from there, so the two can never disagree. {@code ct} (source
 * commit) and {@code at} (capture) are epoch microseconds.
 *
 * {@code h} is the transaction's hybrid-clock timestamp, {@code d} its dependencies (the origin's
 * applied vector), a row's {@code p} the version it replaced on the origin as [clock, origin]
 * (absent when unknown). A row's {@code o} is {@code c}, {@code u}, {@code d}, or {@code t} for a
 * truncate of the whole table ({@code "k":{}}, no images); payloads without truncates read as
 * before; a build that predates truncates refuses a payload holding one as malformed.
 *
 * <pre>
 * {"v":1,"tx":745,"ct":1714558530123456,"at":1714558530130789,"h":112358132134,"d":{"web-2":17},
 *  "r":[{"t":"public.item","o":"u","k":{"id":"7"},"a":{"id":"7","name":null},"b":null,"u":["body"],
 *        "p":[112358132100,"web-2"]}]}
 * </pre>
 *
 * Thread-safe.
 */
public final class ChangeSetCodec {

    /** The payload format this build writes; {@link #decode} refuses others. */
    public static final int FORMAT_VERSION = 1;

    private final ObjectMapper mapper;

    public ChangeSetCodec() {
        // Row values can be large (TOASTed text, bytea as base64): lift Jackson's default 20 MB
        // string limit, the transport limits payload sizes on its own.
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
                .build();
        this.mapper = new ObjectMapper(factory);
    }

    /**
     * Encodes a ChangeSet; its origin and seq are not written. Streams straight into bytes (no
     * JSON tree): capture encodes every row of every transaction, so this is on the hot path.
     */
    public byte[] encode(ChangeSet cs) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + cs.rows().size() * 128);
        try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeNumberField("v", FORMAT_VERSION);
            g.writeNumberField("tx", cs.sourceTxId());
            g.writeNumberField("ct", cs.commitTimeMicros());
            g.writeNumberField("at", cs.captureTimeMicros());
            g.writeNumberField("h", cs.clock());
            g.writeObjectFieldStart("d");
            for (Map.Entry<String, Long> d : cs.deps().entrySet()) {
                g.writeNumberField(d.getKey(), d.getValue());
            }
            g.writeEndObject();
            g.writeArrayFieldStart("r");
            for (RowChange rc : cs.rows()) {
                g.writeStartObject();
                g.writeStringField("t", rc.table());
                g.writeStringField("o", rc.op().code());
                writeValues(g, "k", rc.key());
                writeValues(g, "a", rc.after());
                writeValues(g, "b", rc.before());
                if (!rc.unchanged().isEmpty()) {
                    g.writeArrayFieldStart("u");
                    for (String col : rc.unchanged()) {
                        g.writeString(col);
                    }
                    g.writeEndArray();
                }
                if (rc.prev() != null) {
                    g.writeArrayFieldStart("p");
                    g.writeNumber(rc.prev().clock());
                    g.writeString(rc.prev().origin());
                    g.writeEndArray();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            // Writing strings into a byte array does no I/O; this is a bug.
            throw new IllegalStateException("cannot encode ChangeSet of tx " + cs.sourceTxId(), e);
        }
        return out.toByteArray();
    }

    private static void writeValues(JsonGenerator g, String field, Map<String, String> values) throws IOException {
        if (values == null) {
            g.writeNullField(field);
            return;
        }
        g.writeObjectFieldStart(field);
        for (Map.Entry<String, String> v : values.entrySet()) {
            if (v.getValue() == null) {
                g.writeNullField(v.getKey());
            } else {
                g.writeStringField(v.getKey(), v.getValue());
            }
        }
        g.writeEndObject();
    }

    /**
     * Decodes the payload of a ChangeSet envelope, with origin and seq of the envelope.
     *
     * @throws ChangeSetFormatException if the payload type or content is not a ChangeSet this build reads
     */
    public ChangeSet decode(Envelope envelope) {
        if (!ChangeSet.PAYLOAD_TYPE.equals(envelope.payloadType())) {
            throw new ChangeSetFormatException("envelope " + envelope.origin() + "#" + envelope.seq()
                    + " has payload type '" + envelope.payloadType() + "', not " + ChangeSet.PAYLOAD_TYPE);
        }
        try {
            return decode(envelope.payload(), envelope.origin(), envelope.seq());
        } catch (ChangeSetFormatException e) {
            throw new ChangeSetFormatException("envelope " + envelope.origin() + "#" + envelope.seq() + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * Decodes a payload, giving the result the origin and seq passed in.
     *
     * @throws ChangeSetFormatException naming what is wrong
     */
    public ChangeSet decode(byte[] payload, String origin, long seq) {
        // Streams from the bytes (no JSON tree): a ChangeSet can hold hundreds of thousands of rows,
        // and a tree of them costs several times the memory of the rows themselves.
        try (JsonParser p = mapper.getFactory().createParser(payload)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new ChangeSetFormatException("payload is not a JSON object");
            }
            Long version = null;
            Long tx = null;
            Long ct = null;
            Long at = null;
            Long clock = null;
            Map<String, Long> deps = Map.of();
            List<RowChange> rows = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                p.nextToken();
                switch (name) {
                    case "v" -> version = wholeNumber(p, "v", "ChangeSet");
                    case "tx" -> tx = wholeNumber(p, "tx", "ChangeSet");
                    case "ct" -> ct = wholeNumber(p, "ct", "ChangeSet");
                    case "at" -> at = wholeNumber(p, "at", "ChangeSet");
                    case "h" -> clock = wholeNumber(p, "h", "ChangeSet");
                    case "d" -> deps = deps(p);
                    case "r" -> {
                        checkVersion(version);
                        rows = rows(p);
                    }
                    default -> p.skipChildren(); // fields of a newer minor revision
                }
            }
            checkVersion(version);
            require(tx, "tx", "ChangeSet");
            require(ct, "ct", "ChangeSet");
            require(at, "at", "ChangeSet");
            require(clock, "h", "ChangeSet");
            if (rows == null || rows.isEmpty()) {
                throw new ChangeSetFormatException("field 'r' (rows) must be a non-empty array");
            }
            try {
                return new ChangeSet(origin, seq, tx, ct, at, clock, deps, rows);
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new ChangeSetFormatException(e.getMessage(), e);
            }
        } catch (JsonProcessingException e) {
            throw new ChangeSetFormatException("payload is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ChangeSetFormatException("payload cannot be read: " + e.getMessage(), e);
        }
    }

    private static void checkVersion(Long version) {
        if (version == null) {
            throw new ChangeSetFormatException("ChangeSet: field 'v' must be a whole number, was missing");
        }
        if (version != FORMAT_VERSION) {
            throw new ChangeSetFormatException("ChangeSet format version " + version + " is not supported (this build reads "
                    + FORMAT_VERSION + "); upgrade this mirror");
        }
    }

    private static Map<String, Long> deps(JsonParser p) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new ChangeSetFormatException("ChangeSet: field 'd' (dependencies) must be an object of origin: seq");
        }
        Map<String, Long> out = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String origin = p.currentName();
            p.nextToken();
            out.put(origin, wholeNumber(p, origin, "ChangeSet dependencies"));
        }
        return out;
    }

    private static List<RowChange> rows(JsonParser p) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new ChangeSetFormatException("field 'r' (rows) must be a non-empty array");
        }
        List<RowChange> rows = new ArrayList<>();
        // Rows of a table share their column names (see RowValues): by field (k, a, b), then table.
        Map<String, Map<String, RowValues.Columns>> columns = new java.util.HashMap<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
            rows.add(row(p, rows.size(), columns));
        }
        return rows;
    }

    private static RowChange row(JsonParser p, int index, Map<String, Map<String, RowValues.Columns>> columns)
            throws IOException {
        RowPlace where = new RowPlace(index);
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new ChangeSetFormatException(where + " is not a JSON object");
        }
        String table = null;
        String opCode = null;
        Map<String, String> key = null;
        Map<String, String> after = null;
        Map<String, String> before = null;
        List<String> unchanged = new ArrayList<>();
        RowVersion prev = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken value = p.nextToken();
            switch (name) {
                case "t" -> {
                    table = text(p, "t", where);
                    where.table = table;
                }
                case "o" -> opCode = text(p, "o", where);
                case "k" -> key = valueMap(p, where, "k", table, columns);
                case "a" -> after = valueMap(p, where, "a", table, columns);
                case "b" -> before = valueMap(p, where, "b", table, columns);
                case "u" -> {
                    if (value == JsonToken.VALUE_NULL) {
                        break;
                    }
                    if (value != JsonToken.START_ARRAY) {
                        throw new ChangeSetFormatException(where + ": field 'u' (unchanged columns) must be an array");
                    }
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        if (p.currentToken() != JsonToken.VALUE_STRING) {
                            throw new ChangeSetFormatException(where + ": field 'u' must hold column names");
                        }
                        unchanged.add(p.getText());
                    }
                }
                case "p" -> prev = version(p, where);
                default -> p.skipChildren();
            }
        }
        if (table == null) {
            throw new ChangeSetFormatException(where + ": field 't' must be a string, was missing");
        }
        if (opCode == null) {
            throw new ChangeSetFormatException(where + ": field 'o' must be a string, was missing");
        }
        if (key == null) {
            throw new ChangeSetFormatException(where + ": field 'k' is missing");
        }
        try {
            return new RowChange(table, RowChange.Op.ofCode(opCode), key, after, before, unchanged, prev);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new ChangeSetFormatException(where + ": " + e.getMessage(), e);
        }
    }

    private static RowVersion version(JsonParser p, Object where) throws IOException {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        if (p.currentToken() != JsonToken.START_ARRAY || p.nextToken() != JsonToken.VALUE_NUMBER_INT) {
            throw badPrevious(where);
        }
        long clock = p.getLongValue();
        if (p.nextToken() != JsonToken.VALUE_STRING) {
            throw badPrevious(where);
        }
        String origin = p.getText();
        if (p.nextToken() != JsonToken.END_ARRAY) {
            throw badPrevious(where);
        }
        return new RowVersion(clock, origin);
    }

    private static ChangeSetFormatException badPrevious(Object where) {
        return new ChangeSetFormatException(where + ": field 'p' (previous version) must be [clock, origin]");
    }

    /**
     * Where in a ChangeSet a row is, for error messages: "row 3 (public.items)". Its text is
     * built only when a message needs it, not for every field of every row decoded.
     */
    private static final class RowPlace {
        private final int index;
        private String table;

        RowPlace(int index) {
            this.index = index;
        }

        @Override
        public String toString() {
            return table == null ? "row " + index : "row " + index + " (" + table + ")";
        }
    }

    /** A map of column values; null for a JSON null (absent images). */
    private static Map<String, String> valueMap(JsonParser p, Object where, String field, String table,
                                                Map<String, Map<String, RowValues.Columns>> columns)
            throws IOException {
        if (p.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new ChangeSetFormatException(where + ": field '" + field + "' must be an object of column values");
        }
        RowValues.Builder out = new RowValues.Builder(columns.computeIfAbsent(field, f -> new java.util.HashMap<>()));
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String column = p.currentName();
            JsonToken v = p.nextToken();
            if (v == JsonToken.VALUE_NULL) {
                out.put(column, null);
            } else if (v == JsonToken.VALUE_STRING) {
                out.put(column, p.getText());
            } else {
                throw new ChangeSetFormatException(where + ": value of column '" + column + "' in '" + field
                        + "' must be a string or null, was " + v);
            }
        }
        try {
            return out.build(table);
        } catch (IllegalArgumentException e) {
            throw new ChangeSetFormatException(where + ": in '" + field + "', " + e.getMessage());
        }
    }

    private static long wholeNumber(JsonParser p, String field, String where) throws IOException {
        if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
            throw new ChangeSetFormatException(where + ": field '" + field + "' must be a whole number, was "
                    + p.getText());
        }
        return p.getLongValue();
    }

    private static void require(Long value, String field, String where) {
        if (value == null) {
            throw new ChangeSetFormatException(where + ": field '" + field + "' must be a whole number, was missing");
        }
    }

    private static String text(JsonParser p, String field, Object where) throws IOException {
        if (p.currentToken() != JsonToken.VALUE_STRING) {
            throw new ChangeSetFormatException(where + ": field '" + field + "' must be a string, was " + p.getText());
        }
        return p.getText();
    }

    /**
     * Reads only the source transaction id of an encoded ChangeSet. Capture reads up to ~100k
     * journal entries at start to recognise replays; parsing whole row images there would cost
     * time and memory proportional to the data, this stops at the first fields.
     *
     * @throws ChangeSetFormatException if the payload has no readable {@code tx} field
     */
    public long sourceTxId(byte[] payload) {
        try (JsonParser p = mapper.getFactory().createParser(payload)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new ChangeSetFormatException("payload is not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (name.equals("tx")) {
                    if (value != JsonToken.VALUE_NUMBER_INT) {
                        throw new ChangeSetFormatException("field 'tx' must be a whole number");
                    }
                    return p.getLongValue();
                }
                p.skipChildren();
            }
            throw new ChangeSetFormatException("field 'tx' is missing");
        } catch (IOException e) {
            throw new ChangeSetFormatException("payload is not valid JSON: " + e.getMessage(), e);
        }
    }
}
