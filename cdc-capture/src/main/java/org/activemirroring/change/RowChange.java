package org.activemirroring.change;

import java.util.List;
import java.util.Map;
import java.util.Objects;


/**
 * One row's change inside a {@link ChangeSet}.
 *
 * <p>Values are in a database-neutral text form: numbers and booleans as their literal,
 * date/time values in ISO-8601 ({@code 2024-05-01}, {@code 2024-05-01T10:15:30.123456},
 * {@code 2024-05-01T10:15:30.123456Z}), intervals in ISO-8601 ({@code P1DT2H}), binary as base64,
 * JSON and UUIDs as their text. SQL NULL is a Java null. The applier turns them back into typed
 * values by the column types of its own table.
 *
 * @param table     qualified table name, {@code schema.table}
 * @param op        what happened; {@link Op#TRUNCATE} empties the whole table and has an empty
 *                  key and no images
 * @param key       the row identity (primary key columns) and their values, in key order
 * @param after     full row image after the change; null for deletes. Columns whose value the
 *                  source did not send (unchanged TOASTed values) are absent and listed in
 *                  {@code unchanged}
 * @param before    row image before the change where the source has one, else null
 * @param unchanged columns left out of {@code after} because their value did not change and the
 *                  database did not send it; never written on the peer
 * @param prev      the version the row had on the origin when this change replaced it
 *                  ({@link RowVersion#NONE} if it had none), or null if unknown (the write raced
 *                  with an applied change). A receiver whose row still has this version sees a
 *                  plain succession; any other version there was a concurrent write
 */
public record RowChange(String table, Op op, Map<String, String> key, Map<String, String> after,
                        Map<String, String> before, List<String> unchanged, RowVersion prev) {

    /** The kind of row change. The single letters are the wire form. */
    public enum Op {
        INSERT("c"), UPDATE("u"), DELETE("d"),
        /** The table was truncated: every row of it goes (see {@link org.activemirroring.db.TableTombstones}). */
        TRUNCATE("t");

        private final String code;

        Op(String code) {
            this.code = code;
        }

        public String code() {
            return code;
        }

        public static Op ofCode(String code) {
            for (Op op : values()) {
                if (op.code.equals(code)) {
                    return op;
                }
            }
            throw new IllegalArgumentException("unknown row operation '" + code + "'");
        }
    }

    public RowChange {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(key, "key");
        if (op == Op.TRUNCATE) {
            if (!key.isEmpty() || after != null) {
                throw new IllegalArgumentException("a truncate of " + table + " carries no key and no row image");
            }
        } else if (key.isEmpty()) {
            throw new IllegalArgumentException("row change on " + table + " has no key");
        }
        if (op != Op.DELETE && op != Op.TRUNCATE && after == null) {
            throw new IllegalArgumentException(op + " on " + table + " has no after-image");
        }
        unchanged = unchanged == null ? List.of() : List.copyOf(unchanged);
    }

    /** A row change whose previous version is unknown. */
    public RowChange(String table, Op op, Map<String, String> key, Map<String, String> after,
                     Map<String, String> before, List<String> unchanged) {
        this(table, op, key, after, before, unchanged, null);
    }

    /** A truncate of {@code table}: every row of it goes. */
    public static RowChange truncate(String table) {
        return new RowChange(table, Op.TRUNCATE, Map.of(), null, null, List.of(), null);
    }

    /** The same change, of the table now named {@code newName}. */
    public RowChange inTable(String newName) {
        return new RowChange(newName, op, key, after, before, unchanged, prev);
    }

    /** The same change with the previous version the origin saw. */
    public RowChange withPrev(RowVersion version) {
        return new RowChange(table, op, key, after, before, unchanged, version);
    }
}
