package org.activemirroring.db;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;


/**
 * What the applier needs to know about one local table: its writable columns with their SQL types,
 * and the columns that identify a row.
 *
 * @param schema     schema name
 * @param table      table name
 * @param columns    writable columns in table order, each with its type as the database spells it
 *                   for a cast (PostgreSQL {@code format_type}); generated columns are left out
 * @param binary     the columns holding raw bytes (bound as bytes, not as text)
 * @param alwaysIdentity columns {@code GENERATED ALWAYS AS IDENTITY}: an insert must say
 *                   {@code OVERRIDING SYSTEM VALUE} to write the origin's value, and they cannot be updated
 * @param primaryKey the row identity in index order, never empty: the primary key, else the unique index over
 *                   NOT NULL columns that {@link Dialect#describe} chose (which
 *                   {@code ON CONFLICT (<these columns>)} infers just as well). The name stays because the
 *                   applier's statements use it everywhere.
 */
public record TableShape(String schema, String table, Map<String, String> columns, Set<String> binary,
                         List<String> primaryKey, Set<String> alwaysIdentity) {

    /** A shape without {@code GENERATED ALWAYS AS IDENTITY} columns. */
    public TableShape(String schema, String table, Map<String, String> columns, Set<String> binary,
                      List<String> primaryKey) {
        this(schema, table, columns, binary, primaryKey, Set.of());
    }

    public TableShape {
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(table, "table");
        columns = Collections.unmodifiableMap(new LinkedHashMap<>(columns));
        binary = Set.copyOf(binary);
        alwaysIdentity = alwaysIdentity == null ? Set.of() : Set.copyOf(alwaysIdentity);
        primaryKey = List.copyOf(primaryKey);
        if (primaryKey.isEmpty()) {
            throw new IllegalArgumentException(qualified(schema, table)
                    + " has no primary key and no unique index over NOT NULL columns");
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
