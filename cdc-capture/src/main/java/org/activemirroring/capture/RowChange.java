package org.activemirroring.capture;

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
 * @param op        what happened
 * @param key       the row identity (primary key columns) and their values, in key order
 * @param after     full row image after the change; null for deletes. Columns whose value the
 *                  source did not send (unchanged TOASTed values) are absent and listed in
 *                  {@code unchanged}
 * @param before    row image before the change where the source has one, else null
 * @param unchanged columns left out of {@code after} because their value did not change and the
 *                  database did not send it; never written on the peer
 */
public record RowChange(String table, Op op, Map<String, String> key, Map<String, String> after,
                        Map<String, String> before, List<String> unchanged) {

    /** The kind of row change. The single letters are the wire form. */
    public enum Op {
        INSERT("c"), UPDATE("u"), DELETE("d");

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
        if (key.isEmpty()) {
            throw new IllegalArgumentException("row change on " + table + " has no key");
        }
        if (op != Op.DELETE && after == null) {
            throw new IllegalArgumentException(op + " on " + table + " has no after-image");
        }
        unchanged = unchanged == null ? List.of() : List.copyOf(unchanged);
    }
}
