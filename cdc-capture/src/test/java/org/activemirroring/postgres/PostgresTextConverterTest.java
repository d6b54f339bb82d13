package org.activemirroring.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Types;
import java.time.OffsetTime;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Properties;

import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.junit.jupiter.api.Test;
import org.postgresql.geometric.PGbox;
import org.postgresql.geometric.PGpath;
import org.postgresql.geometric.PGpoint;
import org.postgresql.geometric.PGpolygon;
import org.postgresql.jdbc.PgArray;

import io.debezium.connector.postgresql.UnchangedToastedReplicationMessageColumn;
import io.debezium.spi.converter.CustomConverter;
import io.debezium.spi.converter.RelationalColumn;
import org.activemirroring.capture.RowChangeConverter;
import org.activemirroring.capture.UnsupportedTypeException;

class PostgresTextConverterTest {

    private static String text(Object value) {
        return PostgresTextConverter.text("public.t", "c", "sometype", value);
    }

    @Test
    void textStaysAsPostgresSentIt() {
        assertNull(text(null));
        assertEquals("0010", text("0010"), "a varbit keeps its leading zeros");
        assertEquals("", text(""));
        assertEquals("(1,\"a, \"\"b\"\"\",NaN)", text("(1,\"a, \"\"b\"\"\",NaN)"));
        assertEquals("\"a\"=>\"1\", \"b\"=>NULL", text("\"a\"=>\"1\", \"b\"=>NULL"));
    }

    @Test
    void arraysAsTheTextTheyWereMadeFrom() throws Exception {
        for (String literal : List.of("{1.5,NaN,NULL,Infinity}", "{{1,2},{3,NULL}}", "[0:1]={7,8}", "{}",
                "{\"(2,,1.5)\",NULL}")) {
            assertEquals(literal, text(new PgArray(null, 1231, literal)));
        }
    }

    @Test
    void geometryInJavasShortestExactSpellingOfEachDouble() throws Exception {
        assertEquals("(0.30000000000000004,-1.0E300)", text(new PGpoint("(0.30000000000000004,-1e+300)")));
        assertEquals("(NaN,Infinity)", text(new PGpoint("(NaN,Infinity)")));
        assertEquals("[(0.0,0.0),(1.0,1.0)]", text(new PGpath("[(0,0),(1,1)]")), "open path");
        assertEquals("((0.0,0.0),(1.0,1.0))", text(new PGpath("((0,0),(1,1))")), "closed path");
        assertEquals("((0.0,0.0),(1.0,1.0),(1.0,0.0))", text(new PGpolygon("((0,0),(1,1),(1,0))")));
        assertEquals("(3.0,4.0),(1.0,2.0)", text(new PGbox("(3,4),(1,2)")));
    }

    @Test
    void anUnchangedToastedValueIsThePlaceholderCaptureLeavesOut() {
        assertEquals(RowChangeConverter.UNAVAILABLE,
                text(UnchangedToastedReplicationMessageColumn.UNCHANGED_TOAST_VALUE));
        assertEquals(RowChangeConverter.UNAVAILABLE,
                text(UnchangedToastedReplicationMessageColumn.UNCHANGED_INT_ARRAY_TOAST_VALUE));
        assertEquals(RowChangeConverter.UNAVAILABLE,
                text(UnchangedToastedReplicationMessageColumn.UNCHANGED_HSTORE_TOAST_VALUE));
    }

    @Test
    void aValueWithoutTextIsRefusedNotGuessed() {
        UnsupportedTypeException e = assertThrows(UnsupportedTypeException.class,
                () -> text(OffsetTime.parse("10:00Z")));
        assertTrue(e.getMessage().contains("Column c of table public.t has type sometype"), e.getMessage());
        assertTrue(e.getMessage().contains("java.time.OffsetTime"), e.getMessage());
    }

    @Test
    void takesEveryTypeButTheOnesDebeziumCarriesExactly() {
        // int4, numeric, timestamptz, timetz (refused later, by the encoder), tsvector, a domain over text
        for (int oid : List.of(23, 1700, 1184, 1266, 3614, 25)) {
            assertEquals(null, registered(column(oid, Types.OTHER, "x")), "oid " + oid);
        }
        // bit, varbit, point, tsquery, pg_lsn, int4multirange, int4[], a composite, citext (an extension's oid)
        for (int oid : List.of(1560, 1562, 600, 3615, 3220, 4451, 1007, 16620, 16386)) {
            Schema schema = registered(column(oid, Types.OTHER, "x"));
            assertEquals(Schema.Type.STRING, schema == null ? null : schema.type(), "oid " + oid);
        }
    }

    private static Schema registered(RelationalColumn column) {
        List<Schema> out = new ArrayList<>();
        PostgresTextConverter converter = new PostgresTextConverter();
        converter.configure(new Properties());
        converter.converterFor(column, new CustomConverter.ConverterRegistration<SchemaBuilder>() {
            @Override
            public void register(SchemaBuilder schema, CustomConverter.Converter converter) {
                out.add(schema.build());
            }
        });
        return out.isEmpty() ? null : out.get(0);
    }

    private static RelationalColumn column(int nativeType, int jdbcType, String typeName) {
        return new RelationalColumn() {
            @Override
            public int jdbcType() {
                return jdbcType;
            }

            @Override
            public int nativeType() {
                return nativeType;
            }

            @Override
            public String typeName() {
                return typeName;
            }

            @Override
            public String typeExpression() {
                return typeName;
            }

            @Override
            public OptionalInt length() {
                return OptionalInt.empty();
            }

            @Override
            public OptionalInt scale() {
                return OptionalInt.empty();
            }

            @Override
            public boolean isOptional() {
                return true;
            }

            @Override
            public Object defaultValue() {
                return null;
            }

            @Override
            public boolean hasDefaultValue() {
                return false;
            }

            @Override
            public String name() {
                return "c";
            }

            @Override
            public String dataCollection() {
                return "public.t";
            }
        };
    }
}
