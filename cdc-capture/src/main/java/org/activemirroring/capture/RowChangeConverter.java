package org.activemirroring.capture;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.activemirroring.change.RowChange;
import org.activemirroring.change.RowValues;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Turns one Debezium data change event (a {@link SourceRecord} with its Connect schemas) into a
 * {@link RowChange}.
 *
 * <p>Columns whose after-value is Debezium's unavailable-value placeholder (unchanged TOASTed
 * values PostgreSQL did not send) are left out of {@code after} and listed in {@code unchanged}:
 * the placeholder must never be written into a peer. Stateless and thread-safe.
 */
public final class RowChangeConverter {

    /** What Debezium puts in place of an unchanged TOASTed value; set explicitly in the connector settings. */
    public static final String UNAVAILABLE = "__debezium_unavailable_value";
    private static final byte[] UNAVAILABLE_BYTES = UNAVAILABLE.getBytes(StandardCharsets.UTF_8);

    private final ValueEncoder encoder;
    private final Set<String> fullBeforeImage;
    private final Map<String, List<String>> indexKeyColumns;
    /** Column names shared by the rows of a table, by table: keys, after- and before-images apart. */
    private final Map<String, RowValues.Columns> keyColumns = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, RowValues.Columns> afterColumns = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, RowValues.Columns> beforeColumns = new java.util.concurrent.ConcurrentHashMap<>();

    RowChangeConverter(ValueEncoder encoder, Set<String> fullBeforeImage) {
        this(encoder, fullBeforeImage, Map.of());
    }

    /**
     * @param fullBeforeImage tables (schema.table) whose events carry a complete before-image
     *                        (REPLICA IDENTITY FULL); for the others {@code before} is left null
     * @param indexKeyColumns per table identified by a unique index rather than a primary key, the
     *                        index's columns in index order: the key is built in that order (Debezium
     *                        gives {@code message.key.columns} in table column order), so it reads the
     *                        same as the identity {@link org.activemirroring.db.Dialect#describe} finds on a peer
     */
    RowChangeConverter(ValueEncoder encoder, Set<String> fullBeforeImage, Map<String, List<String>> indexKeyColumns) {
        this.encoder = encoder;
        this.fullBeforeImage = Set.copyOf(fullBeforeImage);
        this.indexKeyColumns = Map.copyOf(indexKeyColumns);
    }

    /** Whether a record is a data change event (has an {@code op}), not transaction metadata or other. */
    static boolean isDataEvent(SourceRecord r) {
        return r.value() instanceof Struct v && v.schema().field("op") != null && v.schema().field("source") != null;
    }

    static Struct source(SourceRecord r) {
        return ((Struct) r.value()).getStruct("source");
    }

    static String table(Struct source) {
        return source.getString("schema") + "." + source.getString("table");
    }

    RowChange convert(SourceRecord record) {
        Struct value = (Struct) record.value();
        Struct source = value.getStruct("source");
        String table = table(source);
        if ("t".equals(value.getString("op"))) {
            // One event per table a TRUNCATE emptied (CASCADE included): no key, no images.
            return RowChange.truncate(table);
        }
        RowChange.Op op = switch (value.getString("op")) {
            case "c", "r" -> RowChange.Op.INSERT;
            case "u" -> RowChange.Op.UPDATE;
            case "d" -> RowChange.Op.DELETE;
            default -> throw new IllegalStateException("Unexpected change event op '" + value.getString("op")
                    + "' on " + table + "; ActiveMirroring handles inserts, updates, deletes and truncates");
        };
        if (!(record.key() instanceof Struct key)) {
            throw new IllegalStateException("Table " + table + " has no primary key and no unique index over NOT NULL"
                    + " columns, so its rows cannot be mirrored; add a primary key or exclude it with"
                    + " mirror.tables.exclude=" + table);
        }
        RowValues.Builder keyValues = new RowValues.Builder(keyColumns);
        List<String> order = indexKeyColumns.get(table);
        if (order != null) {
            for (String col : order) {
                Field f = key.schema().field(col);
                if (f == null) {
                    throw new IllegalStateException("The key of a change event on " + table + " lacks column " + col
                            + " of the table's unique index; restart capture so that it reads the table's identity"
                            + " again");
                }
                keyValues.put(col, encoder.encode(table, col, f.schema(), key.get(f)));
            }
        }
        for (Field f : key.schema().fields()) {
            if (!keyValues.contains(f.name())) {
                keyValues.put(f.name(), encoder.encode(table, f.name(), f.schema(), key.get(f)));
            }
        }
        List<String> unchanged = new ArrayList<>();
        Map<String, String> after = image(afterColumns, table, value.getStruct("after"), unchanged);
        // With the default replica identity a delete's before-image holds only the key and
        // Debezium sets every other column to null: not the old values, so not sent as such.
        Map<String, String> before = fullBeforeImage.contains(table)
                ? image(beforeColumns, table, value.getStruct("before"), new ArrayList<>()) : null;
        return new RowChange(table, op, keyValues.build(table), op == RowChange.Op.DELETE ? null : after, before, unchanged);
    }

    private Map<String, String> image(Map<String, RowValues.Columns> columns, String table, Struct row,
                                      List<String> unchanged) {
        if (row == null) {
            return null;
        }
        RowValues.Builder out = new RowValues.Builder(columns);
        for (Field f : row.schema().fields()) {
            Object v = row.get(f);
            if (isUnavailable(v, f.schema())) {
                unchanged.add(f.name());
            } else {
                out.put(f.name(), encoder.encode(table, f.name(), f.schema(), v));
            }
        }
        return out.build(table);
    }

    static boolean isUnavailable(Object v, Schema schema) {
        if (v instanceof String s) {
            return s.equals(UNAVAILABLE);
        }
        if (v instanceof byte[] || v instanceof java.nio.ByteBuffer) {
            return schema.type() == Schema.Type.BYTES && Arrays.equals(ValueEncoder.bytes(v), UNAVAILABLE_BYTES);
        }
        return false;
    }
}
