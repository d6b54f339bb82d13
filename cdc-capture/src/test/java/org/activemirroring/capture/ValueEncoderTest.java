package org.activemirroring.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.LocalDate;
import java.util.List;

import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

class ValueEncoderTest {

    private final ValueEncoder enc = new ValueEncoder();

    private String encode(Schema schema, Object value) {
        return enc.encode("public.t", "c", schema, value);
    }

    private static Schema named(Schema.Type type, String name) {
        return SchemaBuilder.type(type).name(name).optional().build();
    }

    @Test
    void nullIsNull() {
        assertNull(encode(Schema.OPTIONAL_STRING_SCHEMA, null));
        assertNull(encode(SchemaBuilder.array(Schema.INT32_SCHEMA).optional().build(), null));
    }

    @Test
    void numbersAndBooleansAsLiterals() {
        assertEquals("-7", encode(Schema.INT16_SCHEMA, (short) -7));
        assertEquals("2147483647", encode(Schema.INT32_SCHEMA, Integer.MAX_VALUE));
        assertEquals("-9223372036854775808", encode(Schema.INT64_SCHEMA, Long.MIN_VALUE));
        assertEquals("1", encode(Schema.INT8_SCHEMA, (byte) 1));
        assertEquals("true", encode(Schema.BOOLEAN_SCHEMA, true));
        assertEquals("1.5", encode(Schema.FLOAT64_SCHEMA, 1.5d));
        assertEquals("1.0E300", encode(Schema.FLOAT64_SCHEMA, 1e300d));
        assertEquals("0.1", encode(Schema.FLOAT32_SCHEMA, 0.1f));
        assertEquals("NaN", encode(Schema.FLOAT64_SCHEMA, Double.NaN));
        assertEquals("Infinity", encode(Schema.FLOAT64_SCHEMA, Double.POSITIVE_INFINITY));
        assertEquals("-Infinity", encode(Schema.FLOAT32_SCHEMA, Float.NEGATIVE_INFINITY));
    }

    @Test
    void stringsAndStringSemanticTypesAsIs() {
        assertEquals("12345.678", encode(Schema.STRING_SCHEMA, "12345.678"));
        assertEquals("2024-05-01T08:15:30.123456Z", encode(named(Schema.Type.STRING, "io.debezium.time.ZonedTimestamp"),
                "2024-05-01T08:15:30.123456Z"));
        assertEquals("{\"a\": 1}", encode(named(Schema.Type.STRING, "io.debezium.data.Json"), "{\"a\": 1}"));
        assertEquals("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                encode(named(Schema.Type.STRING, "io.debezium.data.Uuid"), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
        assertEquals("P1Y2M3DT4H5M6.78S", encode(Schema.STRING_SCHEMA, "P1Y2M3DT4H5M6.78S"));
        assertEquals("Zoë ☃", encode(named(Schema.Type.STRING, "io.debezium.data.Enum"), "Zoë ☃"));
    }

    @Test
    void bytesAsBase64() {
        assertEquals("AP8Q", encode(Schema.BYTES_SCHEMA, new byte[] {0, -1, 16}));
        ByteBuffer buf = ByteBuffer.wrap(new byte[] {9, 0, -1, 16, 9}, 1, 3);
        assertEquals("AP8Q", encode(Schema.BYTES_SCHEMA, buf));
        assertEquals(1, buf.position(), "the buffer is not consumed");
        assertEquals("", encode(Schema.BYTES_SCHEMA, new byte[0]));
    }

    @Test
    void datesAndTimes() {
        assertEquals("2024-02-29", encode(named(Schema.Type.INT32, ValueEncoder.DATE),
                (int) LocalDate.of(2024, 2, 29).toEpochDay()));
        assertEquals("1969-12-31", encode(named(Schema.Type.INT32, ValueEncoder.DATE), -1));
        assertEquals("23:59:59.999999", encode(named(Schema.Type.INT64, ValueEncoder.MICRO_TIME), 86_399_999_999L));
        assertEquals("00:00:00.000000", encode(named(Schema.Type.INT64, ValueEncoder.MICRO_TIME), 0L));
        assertEquals("24:00:00.000000", encode(named(Schema.Type.INT64, ValueEncoder.MICRO_TIME), 86_400_000_000L));
        assertEquals("10:15:30.500", encode(named(Schema.Type.INT32, ValueEncoder.TIME), 36_930_500));
        assertEquals("10:15:30.000000001", encode(named(Schema.Type.INT64, ValueEncoder.NANO_TIME), 36_930_000_000_001L));
        assertEquals("2024-05-01T10:15:30.123", encode(named(Schema.Type.INT64, ValueEncoder.TIMESTAMP), 1_714_558_530_123L));
        assertEquals("2024-05-01T10:15:30.123456",
                encode(named(Schema.Type.INT64, ValueEncoder.MICRO_TIMESTAMP), 1_714_558_530_123_456L));
        assertEquals("2024-05-01T10:15:30.000000",
                encode(named(Schema.Type.INT64, ValueEncoder.MICRO_TIMESTAMP), 1_714_558_530_000_000L));
        assertEquals("1969-12-31T23:59:59.999999", encode(named(Schema.Type.INT64, ValueEncoder.MICRO_TIMESTAMP), -1L));
        assertEquals("2024-05-01T10:15:30.123456789",
                encode(named(Schema.Type.INT64, ValueEncoder.NANO_TIMESTAMP), 1_714_558_530_123_456_789L));
    }

    @Test
    void preciseDecimalAsPlainText() {
        assertEquals("0.000001", encode(Decimal.schema(6), new BigDecimal("1E-6")));
    }

    @Test
    void unsupportedTypesAreRefusedNamingTableColumnAndType() {
        Schema matrix = SchemaBuilder.array(SchemaBuilder.array(Schema.INT32_SCHEMA).build()).build();
        UnsupportedTypeException ex = assertThrows(UnsupportedTypeException.class,
                () -> enc.encode("public.t", "grid", matrix, List.of(List.of(1))));
        assertEquals("public.t", ex.table());
        assertEquals("grid", ex.column());
        assertTrue(ex.getMessage().contains("multi-dimensional") && ex.getMessage().contains("mirror.tables.exclude"),
                ex.getMessage());
        Schema mapSchema = SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.STRING_SCHEMA).build();
        ex = assertThrows(UnsupportedTypeException.class,
                () -> enc.encode("public.t", "h", mapSchema, java.util.Map.of("a", "b")));
        assertTrue(ex.getMessage().contains("MAP"), ex.getMessage());
        Schema geometry = SchemaBuilder.struct().name("io.debezium.data.geometry.Geometry")
                .field("wkb", Schema.BYTES_SCHEMA).build();
        ex = assertThrows(UnsupportedTypeException.class,
                () -> enc.encode("public.t", "shape", geometry, new Struct(geometry).put("wkb", new byte[1])));
        assertTrue(ex.getMessage().contains("io.debezium.data.geometry.Geometry"), ex.getMessage());
        assertThrows(UnsupportedTypeException.class,
                () -> encode(named(Schema.Type.BYTES, "io.debezium.data.Bits"), new byte[] {1}));
        ex = assertThrows(UnsupportedTypeException.class,
                () -> encode(named(Schema.Type.STRING, "io.debezium.time.ZonedTime"), "08:15:30.123456Z"));
        assertTrue(ex.getMessage().contains("time with time zone"), ex.getMessage());
    }

    private static Schema arrayOf(Schema element) {
        return SchemaBuilder.array(element).optional().build();
    }

    @Test
    void arraysAsPostgresArrayLiteralsWithEveryElementQuoted() {
        assertEquals("{}", encode(arrayOf(Schema.OPTIONAL_INT32_SCHEMA), List.of()));
        assertEquals("{\"1\",\"-2147483648\",NULL}",
                encode(arrayOf(Schema.OPTIONAL_INT32_SCHEMA), java.util.Arrays.asList(1, Integer.MIN_VALUE, null)));
        // Quotes, commas, braces, backslashes, blanks, the word NULL and the empty string stay data.
        List<String> texts = java.util.Arrays.asList("plain", "a,b", "say \"hi\"", "back\\slash", "{x}", " pad ",
                "NULL", "", null, "Zoë ☃");
        assertEquals("{\"plain\",\"a,b\",\"say \\\"hi\\\"\",\"back\\\\slash\",\"{x}\",\" pad \",\"NULL\",\"\",NULL,"
                + "\"Zoë ☃\"}", encode(arrayOf(Schema.OPTIONAL_STRING_SCHEMA), texts));
        assertEquals("{\"NaN\",\"-Infinity\",\"1.5\"}",
                encode(arrayOf(Schema.OPTIONAL_FLOAT64_SCHEMA), List.of(Double.NaN, Double.NEGATIVE_INFINITY, 1.5)));
        assertEquals("{\"2024-02-29\"}", encode(arrayOf(named(Schema.Type.INT32, ValueEncoder.DATE)),
                List.of((int) LocalDate.of(2024, 2, 29).toEpochDay())));
        assertEquals("{\"\\\\x00ff10\",\"\\\\x\"}", encode(arrayOf(Schema.OPTIONAL_BYTES_SCHEMA),
                List.of(new byte[] {0, -1, 16}, new byte[0])), "bytea elements in hex, the only bytea text input");
    }

    @Test
    void numericSpecialValuesInPostgresSpellingOnlyForNumericColumns() {
        Schema numeric = SchemaBuilder.string().optional().parameter(ValueEncoder.SOURCE_TYPE, "NUMERIC").build();
        assertEquals("-Infinity", encode(numeric, "NEGATIVE_INFINITY"));
        assertEquals("Infinity", encode(numeric, "POSITIVE_INFINITY"));
        assertEquals("NaN", encode(numeric, "NAN"));
        assertEquals("-12.50", encode(numeric, "-12.50"));
        assertEquals("POSITIVE_INFINITY", encode(Schema.OPTIONAL_STRING_SCHEMA, "POSITIVE_INFINITY"), "text stays text");
        assertEquals("{\"NAN\"}", encode(arrayOf(Schema.OPTIONAL_STRING_SCHEMA), List.of("NAN")), "text[] stays text");
    }
}
