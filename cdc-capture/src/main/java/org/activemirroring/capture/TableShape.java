package org.activemirroring.capture;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What the applier needs to know about one local table: its writable columns with their SQL types,
 * and its primary key.
 *
 * @param schema     schema name
 * @param table      table name
 * @param columns    writable columns in table order, each with its type as the database spells it
 *                   for a cast (PostgreSQL {@code format_type}); generated columns are left out
 * @param binary     the columns holding raw bytes (bound as bytes, not as text)
 * @param primaryKey primary key columns in key order; never empty
 */
public record TableShape(String schema, String table, Map<String, String> columns, Set<String> binary,
                         List<String> primaryKey) {

    public TableShape {
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(table, "table");
        columns = Collections.unmodifiableMap(new LinkedHashMap<>(columns));
        binary = Set.copyOf(binary);
        primaryKey = List.copyOf(primaryKey);
        if (primaryKey.isEmpty()) {
            throw new IllegalArgumentException(qualified(schema, table) + " has no primary key");
        }
    }

    /** {@code schema.table}, the form ChangeSets use. */
    public String qualifiedName() {
        return qualified(schema, table);
    }

    static String qualified(String schema, String table) {
        return schema + "." + table;
    }
}
