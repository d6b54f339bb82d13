package org.activemirroring.capture;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

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
 * <pre>
 * {"v":1,"tx":745,"ct":1714558530123456,"at":1714558530130789,
 *  "r":[{"t":"public.item","o":"u","k":{"id":"7"},"a":{"id":"7","name":null},"b":null,"u":["body"]}]}
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

    /** Encodes a ChangeSet; its origin and seq are not written. */
    public byte[] encode(ChangeSet cs) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        root.put("v", FORMAT_VERSION);
        root.put("tx", cs.sourceTxId());
        root.put("ct", cs.commitTimeMicros());
        root.put("at", cs.captureTimeMicros());
        ArrayNode rows = root.putArray("r");
        for (RowChange rc : cs.rows()) {
            ObjectNode r = rows.addObject();
            r.put("t", rc.table());
            r.put("o", rc.op().code());
            r.set("k", values(f, rc.key()));
            r.set("a", rc.after() == null ? f.nullNode() : values(f, rc.after()));
            r.set("b", rc.before() == null ? f.nullNode() : values(f, rc.before()));
            if (!rc.unchanged().isEmpty()) {
                ArrayNode u = r.putArray("u");
                rc.unchanged().forEach(u::add);
            }
        }
        try {
            return mapper.writeValueAsBytes(root);
        } catch (IOException e) {
            // Writing a tree of strings to a byte array does not do I/O; this is a bug.
            throw new IllegalStateException("cannot encode ChangeSet of tx " + cs.sourceTxId(), e);
        }
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
        JsonNode root;
        try {
            root = mapper.readTree(payload);
        } catch (JsonProcessingException e) {
            throw new ChangeSetFormatException("payload is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ChangeSetFormatException("payload cannot be read: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new ChangeSetFormatException("payload is not a JSON object");
        }
        int version = requireLong(root, "v", "ChangeSet").intValue();
        if (version != FORMAT_VERSION) {
            throw new ChangeSetFormatException("ChangeSet format version " + version + " is not supported (this build reads "
                    + FORMAT_VERSION + "); upgrade this mirror");
        }
        long tx = requireLong(root, "tx", "ChangeSet");
        long ct = requireLong(root, "ct", "ChangeSet");
        long at = requireLong(root, "at", "ChangeSet");
        JsonNode rowsNode = root.get("r");
        if (rowsNode == null || !rowsNode.isArray() || rowsNode.isEmpty()) {
            throw new ChangeSetFormatException("field 'r' (rows) must be a non-empty array");
        }
        List<RowChange> rows = new ArrayList<>(rowsNode.size());
        int i = 0;
        for (JsonNode r : rowsNode) {
            rows.add(row(r, i++));
        }
        try {
            return new ChangeSet(origin, seq, tx, ct, at, rows);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new ChangeSetFormatException(e.getMessage(), e);
        }
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

    private static RowChange row(JsonNode r, int index) {
        String where = "row " + index;
        if (!r.isObject()) {
            throw new ChangeSetFormatException(where + " is not a JSON object");
        }
        String table = requireText(r, "t", where);
        where = where + " (" + table + ")";
        RowChange.Op op;
        try {
            op = RowChange.Op.ofCode(requireText(r, "o", where));
        } catch (IllegalArgumentException e) {
            throw new ChangeSetFormatException(where + ": " + e.getMessage(), e);
        }
        Map<String, String> key = valueMap(r.get("k"), where, "k", false);
        Map<String, String> after = valueMap(r.get("a"), where, "a", true);
        Map<String, String> before = valueMap(r.get("b"), where, "b", true);
        List<String> unchanged = new ArrayList<>();
        JsonNode u = r.get("u");
        if (u != null && !u.isNull()) {
            if (!u.isArray()) {
                throw new ChangeSetFormatException(where + ": field 'u' (unchanged columns) must be an array");
            }
            for (JsonNode n : u) {
                if (!n.isTextual()) {
                    throw new ChangeSetFormatException(where + ": field 'u' must hold column names");
                }
                unchanged.add(n.asText());
            }
        }
        try {
            return new RowChange(table, op, key, after, before, unchanged);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new ChangeSetFormatException(where + ": " + e.getMessage(), e);
        }
    }

    private static ObjectNode values(JsonNodeFactory f, Map<String, String> values) {
        ObjectNode o = f.objectNode();
        values.forEach((k, v) -> {
            if (v == null) {
                o.putNull(k);
            } else {
                o.put(k, v);
            }
        });
        return o;
    }

    private static Map<String, String> valueMap(JsonNode n, String where, String field, boolean nullable) {
        if (n == null || n.isNull()) {
            if (nullable) {
                return null;
            }
            throw new ChangeSetFormatException(where + ": field '" + field + "' is missing");
        }
        if (!n.isObject()) {
            throw new ChangeSetFormatException(where + ": field '" + field + "' must be an object of column values");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (v.isNull()) {
                out.put(e.getKey(), null);
            } else if (v.isTextual()) {
                out.put(e.getKey(), v.textValue());
            } else {
                throw new ChangeSetFormatException(where + ": value of column '" + e.getKey() + "' in '" + field
                        + "' must be a string or null, was " + v.getNodeType());
            }
        }
        return out;
    }

    private static Long requireLong(JsonNode n, String field, String where) {
        JsonNode v = n.get(field);
        if (v == null || !v.canConvertToLong() || !v.isIntegralNumber()) {
            throw new ChangeSetFormatException(where + ": field '" + field + "' must be a whole number, was "
                    + (v == null ? "missing" : v.toString()));
        }
        return v.longValue();
    }

    private static String requireText(JsonNode n, String field, String where) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new ChangeSetFormatException(where + ": field '" + field + "' must be a string, was "
                    + (v == null ? "missing" : v.toString()));
        }
        return v.textValue();
    }
}
