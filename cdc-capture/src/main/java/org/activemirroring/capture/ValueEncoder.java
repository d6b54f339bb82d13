package org.activemirroring.capture;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import org.activemirroring.change.RowChange;
import org.apache.kafka.connect.data.Schema;

/**
 * Turns one Kafka Connect column value, as Debezium's PostgreSQL connector produces it, into the
 * canonical text of {@link RowChange}.
 *
 * <p>Which form a value takes depends on the connector settings {@link DebeziumCapture} uses:
 * {@code decimal.handling.mode=string}, {@code interval.handling.mode=string} and
 * {@code time.precision.mode=adaptive_time_microseconds}. Date/time values get a fixed number of
 * fraction digits per semantic type (3 for millis, 6 for micros, 9 for nanos), so that the same
 * value is the same text on every mirror. Arrays, bit strings, the geometric types, composites,
 * extension types and the other types Debezium would deliver in a lossy form arrive already as
 * PostgreSQL's own text (PostgreSQL's connector settings add
 * {@code org.activemirroring.postgres.PostgresTextConverter}), a plain string kept as it is. A Connect
 * array (only without that converter) becomes PostgreSQL's array literal
 * ({@code {"1","a \"q\"",NULL}}), which the applier's {@code ?::<type>[]} cast parses. Anything
 * without a faithful text form (timetz, Debezium's bit strings, structs) is refused with
 * {@link UnsupportedTypeException} rather than sent in a form a peer would misread;
 * the database's {@link org.activemirroring.db.Catalog#unsupportedColumns} finds such columns at start, and
 * they are held out.
 *
 * <p>Stateless and thread-safe.
 */
public final class ValueEncoder {

    // Debezium semantic type names (io.debezium.time.*, io.debezium.data.*): compared as strings
    // so this class needs only the Kafka Connect data API.
    static final String DATE = "io.debezium.time.Date";
    static final String TIME = "io.debezium.time.Time";
    static final String MICRO_TIME = "io.debezium.time.MicroTime";
    static final String NANO_TIME = "io.debezium.time.NanoTime";
    static final String TIMESTAMP = "io.debezium.time.Timestamp";
    static final String MICRO_TIMESTAMP = "io.debezium.time.MicroTimestamp";
    static final String NANO_TIMESTAMP = "io.debezium.time.NanoTimestamp";
    static final String BITS = "io.debezium.data.Bits";
    static final String ZONED_TIME = "io.debezium.time.ZonedTime";
    static final String CONNECT_DECIMAL = "org.apache.kafka.connect.data.Decimal";
    /** Schema parameter with the column's database type, set for the types listed in {@code datatype.propagate.source.type}. */
    static final String SOURCE_TYPE = "__debezium.source.column.type";

    /**
     * Encodes a value.
     *
     * @param table  {@code schema.table}, for the error message
     * @param column column name, for the error message
     * @param schema the field's Connect schema
     * @param value  the Connect value; null is SQL NULL
     * @return the canonical text, or null for SQL NULL
     * @throws UnsupportedTypeException for types without a canonical text form yet
     */
    public String encode(String table, String column, Schema schema, Object value) {
        if (value == null) {
            return null;
        }
        String name = schema.name();
        if (name != null) {
            switch (name) {
                case DATE:
                    return LocalDate.ofEpochDay(((Number) value).longValue()).toString();
                case TIME:
                    return time(((Number) value).longValue() * 1_000_000L, 3);
                case MICRO_TIME:
                    return time(((Number) value).longValue() * 1_000L, 6);
                case NANO_TIME:
                    return time(((Number) value).longValue(), 9);
                case TIMESTAMP:
                    return timestamp(Math.floorDiv(((Number) value).longValue(), 1_000L),
                            Math.floorMod(((Number) value).longValue(), 1_000L) * 1_000_000L, 3);
                case MICRO_TIMESTAMP:
                    return timestamp(Math.floorDiv(((Number) value).longValue(), 1_000_000L),
                            Math.floorMod(((Number) value).longValue(), 1_000_000L) * 1_000L, 6);
                case NANO_TIMESTAMP:
                    return timestamp(Math.floorDiv(((Number) value).longValue(), 1_000_000_000L),
                            Math.floorMod(((Number) value).longValue(), 1_000_000_000L), 9);
                case CONNECT_DECIMAL:
                    // Only with decimal.handling.mode=precise; kept correct in case someone sets it.
                    return ((BigDecimal) value).toPlainString();
                case ZONED_TIME:
                    // Debezium converts timetz to UTC while it parses pgoutput's text, before any
                    // converter runs: the peer would store the same instant with offset +00, so the
                    // mirrors would differ. Refused rather than diverge.
                    throw new UnsupportedTypeException(table, column,
                            "time with time zone (Debezium sends it in UTC and the offset would be lost; use timestamptz,"
                                    + " or time and a separate offset column)");
                case BITS:
                    // BYTES underneath, without a varbit's leading zeros; base64 would be cast wrongly
                    // into bit(n) on the peer. PostgresTextConverter takes bit strings as their text.
                    throw new UnsupportedTypeException(table, column, name);
                default:
                    break; // other semantic types (Json, Uuid, ZonedTimestamp, Enum...) use the plain type below
            }
        }
        switch (schema.type()) {
            case INT8:
            case INT16:
            case INT32:
            case INT64:
            case BOOLEAN:
                return value.toString();
            case FLOAT32:
                return floating(((Number) value).doubleValue(), value.toString());
            case FLOAT64:
                return floating(((Number) value).doubleValue(), value.toString());
            case STRING:
                return isNumeric(schema) ? numericText((String) value) : (String) value;
            case BYTES:
                return Base64.getEncoder().encodeToString(bytes(value));
            case ARRAY:
                return arrayLiteral(table, column, schema, (List<?>) value);
            default:
                throw new UnsupportedTypeException(table, column,
                        schema.type() + (name == null ? "" : " (" + name + ")"));
        }
    }

    /**
     * PostgreSQL's array input syntax for a one-dimensional array: every element double-quoted
     * with {@code \} and {@code "} escaped by a backslash (so commas, braces, quotes, blanks, the
     * word NULL and the empty string stay data), SQL NULL as unquoted {@code NULL}. Quoting every
     * element is valid for any element type and gives one spelling per value.
     */
    String arrayLiteral(String table, String column, Schema arraySchema, List<?> elements) {
        // Only without PostgresTextConverter: Debezium's lists lose a numeric[] holding NaN or
        // Infinity (NULL) and the elements of multi-dimensional arrays (NULLs).
        Schema elementSchema = arraySchema.valueSchema();
        if (elementSchema.type() == Schema.Type.ARRAY) {
            throw new UnsupportedTypeException(table, column, "multi-dimensional array");
        }
        StringBuilder sb = new StringBuilder(2 + elements.size() * 8).append('{');
        for (int i = 0; i < elements.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            Object element = elements.get(i);
            if (element == null) {
                sb.append("NULL");
                continue;
            }
            // bytea elements: base64 is not bytea input; hex (\x..) is, inside an array too.
            String text = elementSchema.type() == Schema.Type.BYTES
                    ? "\\x" + HexFormat.of().formatHex(bytes(element))
                    : encode(table, column, elementSchema, element);
            sb.append('"');
            for (int k = 0; k < text.length(); k++) {
                char ch = text.charAt(k);
                if (ch == '"' || ch == '\\') {
                    sb.append('\\');
                }
                sb.append(ch);
            }
            sb.append('"');
        }
        return sb.append('}').toString();
    }

    private static String sourceType(Schema schema) {
        return schema.parameters() == null ? null : schema.parameters().get(SOURCE_TYPE);
    }

    private static boolean isNumeric(Schema schema) {
        return "numeric".equalsIgnoreCase(sourceType(schema));
    }

    /**
     * With decimal.handling.mode=string Debezium spells numeric's special values by its enum
     * names (NAN, POSITIVE_INFINITY, NEGATIVE_INFINITY); PostgreSQL reads NaN, Infinity, -Infinity.
     * Only applied to numeric columns, which capture marks with their source type: in a text
     * column "POSITIVE_INFINITY" is just text.
     */
    static String numericText(String value) {
        return switch (value) {
            case "NAN" -> "NaN";
            case "POSITIVE_INFINITY" -> "Infinity";
            case "NEGATIVE_INFINITY" -> "-Infinity";
            default -> value;
        };
    }

    /** The bytes of a BYTES value, which Connect gives as byte[] or ByteBuffer. */
    static byte[] bytes(Object value) {
        if (value instanceof byte[] b) {
            return b;
        }
        ByteBuffer buf = ((ByteBuffer) value).duplicate();
        byte[] b = new byte[buf.remaining()];
        buf.get(b);
        return b;
    }

    private static String floating(double d, String literal) {
        // PostgreSQL reads these spellings, Java's "Infinity" without sign included.
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (d == Double.POSITIVE_INFINITY) {
            return "Infinity";
        }
        if (d == Double.NEGATIVE_INFINITY) {
            return "-Infinity";
        }
        return literal;
    }

    private static String time(long nanoOfDay, int digits) {
        // PostgreSQL time allows 24:00:00, which LocalTime cannot hold.
        if (nanoOfDay == 86_400_000_000_000L) {
            return "24:00:00." + "0".repeat(digits);
        }
        LocalTime t = LocalTime.ofNanoOfDay(nanoOfDay);
        return String.format(Locale.ROOT, "%02d:%02d:%02d.%s", t.getHour(), t.getMinute(), t.getSecond(),
                fraction(t.getNano(), digits));
    }

    private static String timestamp(long epochSecond, long nanos, int digits) {
        LocalDateTime dt = LocalDateTime.ofEpochSecond(epochSecond, (int) nanos, ZoneOffset.UTC);
        return dt.toLocalDate() + "T" + String.format(Locale.ROOT, "%02d:%02d:%02d.%s", dt.getHour(), dt.getMinute(),
                dt.getSecond(), fraction(dt.getNano(), digits));
    }

    private static String fraction(int nanos, int digits) {
        String nine = String.format(Locale.ROOT, "%09d", nanos);
        return nine.substring(0, digits);
    }
}
