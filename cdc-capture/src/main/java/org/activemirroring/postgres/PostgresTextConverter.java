package org.activemirroring.postgres;

import java.util.Properties;
import java.util.Set;

import org.apache.kafka.connect.data.SchemaBuilder;
import org.postgresql.jdbc.PgArray;
import org.postgresql.util.PGobject;

import io.debezium.connector.postgresql.UnchangedToastedReplicationMessageColumn;
import io.debezium.spi.converter.CustomConverter;
import io.debezium.spi.converter.RelationalColumn;
import org.activemirroring.capture.DebeziumCapture;
import org.activemirroring.capture.RowChangeConverter;
import org.activemirroring.capture.UnsupportedTypeException;
import org.activemirroring.capture.ValueEncoder;

/**
 * A Debezium custom converter that hands capture PostgreSQL's own text of a value, for the column
 * types whose Debezium form would lose something, so that the peer's input function reads back
 * the same value (what pg_dump's text COPY relies on as well).
 *
 * <p>pgoutput sends every value as the text of the type's output function; Debezium's PostgreSQL
 * connector (3.5) then parses it into Java objects for its own Connect types, and that loses data
 * for several types: a varbit's length (leading zeros), a numeric[] holding NaN or Infinity (the
 * whole array becomes NULL), every multi-dimensional array (its elements become NULL), arrays of
 * bit, composite or other types it has no element schema for (NULL), and arrays of interval,
 * money, xml, name, point or varbit (the column is left out of the event altogether). Its
 * value resolver still has the text, or an object that renders it, when the converters run:
 * <ul>
 *   <li>arrays (any element type, domains over arrays too): a pgjdbc {@link PgArray} made from
 *       the text pgoutput sent, which {@code toString()} returns unchanged (dimensions, lower
 *       bounds, NULL elements and all);</li>
 *   <li>composites, enums, ranges and extension types such as citext and hstore, and built-in
 *       types it does not know (tsquery, pg_lsn, multiranges, ...): the text itself, given
 *       {@code include.unknown.datatypes=true} (without it Debezium leaves them out or nulls);</li>
 *   <li>bit and varbit: the text itself (e.g. {@code 0010});</li>
 *   <li>the geometric types: a pgjdbc {@link PGobject} (PGpoint, PGpolygon, ...) whose
 *       {@code getValue()} writes its doubles with Java's shortest exact spelling, and open and
 *       closed paths as such.</li>
 * </ul>
 * Every type but the ones in {@link #DEBEZIUM_TYPES} is therefore taken here, as a plain STRING
 * field; types added to a table while capture runs included. Not timetz: Debezium converts it to
 * UTC while parsing, before any converter sees it, so no text with the original offset exists
 * any more (capture refuses such columns, see {@link CapturePreflight}).
 *
 * <p>Debezium instantiates it by name ({@code converters=pgtext}, {@code pgtext.type}, set by
 * {@link DebeziumCapture}), hence public with a no-argument constructor. Stateless and thread-safe.
 */
public final class PostgresTextConverter implements CustomConverter<SchemaBuilder, RelationalColumn> {

    /**
     * Built-in types (pg_type oids, fixed for every database and version) that Debezium delivers
     * in a form {@link ValueEncoder} turns into exact text, so they keep Debezium's own types:
     * bool, bytea, "char", name, int8, int2, int4, text, oid, json, xml, cidr, float4, float8,
     * macaddr8, money, macaddr, inet, bpchar, varchar, date, time, timestamp, timestamptz,
     * interval, timetz (refused by the encoder, see above), numeric, uuid, tsvector, jsonb and the
     * six built-in ranges. Domains arrive with their base type's oid.
     */
    public static final Set<Integer> DEBEZIUM_TYPES = Set.of(16, 17, 18, 19, 20, 21, 23, 25, 26, 114, 142, 650, 700, 701,
            774, 790, 829, 869, 1042, 1043, 1082, 1083, 1114, 1184, 1186, 1266, 1700, 2950, 3614, 3802, 3904, 3906,
            3908, 3910, 3912, 3926);

    @Override
    public void configure(Properties props) {
        // nothing to configure
    }

    @Override
    public void converterFor(RelationalColumn column, ConverterRegistration<SchemaBuilder> registration) {
        if (DEBEZIUM_TYPES.contains(column.nativeType())) {
            return;
        }
        String table = column.dataCollection();
        String name = column.name();
        registration.register(SchemaBuilder.string(), value -> text(table, name, column.typeName(), value));
    }

    /**
     * The text of one resolved value; {@link RowChangeConverter#UNAVAILABLE} for an unchanged
     * TOASTed value PostgreSQL did not send.
     *
     * @throws UnsupportedTypeException for a value that carries no text form, rather than guess
     */
    static String text(String table, String column, String type, Object value) {
        if (value == null) {
            return null;
        }
        if (UnchangedToastedReplicationMessageColumn.isUnchangedToastedValue(value)) {
            return RowChangeConverter.UNAVAILABLE;
        }
        if (value instanceof String s) {
            return s;
        }
        if (value instanceof PgArray a) {
            return a.toString(); // the text it was made from
        }
        if (value instanceof PGobject o) {
            return o.getValue();
        }
        throw new UnsupportedTypeException(table, column, type + " (Debezium delivers a "
                + value.getClass().getName() + ", not its text)");
    }
}
