package org.activemirroring.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.activemirroring.db.TableShape;
import org.junit.jupiter.api.Test;

class PostgresDialectTest {

    private static final TableShape ITEM;

    static {
        Map<String, String> cols = new LinkedHashMap<>();
        cols.put("id", "bigint");
        cols.put("name", "character varying(20)");
        cols.put("blob", "bytea");
        cols.put("we\"ird", "timestamp with time zone");
        ITEM = new TableShape("shop", "item", cols, Set.of("blob"), List.of("id"));
    }

    @Test
    void upsertUpdatesOnlyTheNonKeyColumnsItWrites() {
        assertEquals("INSERT INTO \"shop\".\"item\" (\"id\", \"name\", \"blob\") VALUES (?::bigint, ?::character varying(20), ?)"
                        + " ON CONFLICT (\"id\") DO UPDATE SET \"name\" = EXCLUDED.\"name\", \"blob\" = EXCLUDED.\"blob\"",
                PostgresDialect.upsertSql(ITEM, List.of("id", "name", "blob")));
    }

    @Test
    void upsertOfKeyOnlyDoesNothingOnConflict() {
        assertEquals("INSERT INTO \"shop\".\"item\" (\"id\") VALUES (?::bigint) ON CONFLICT (\"id\") DO NOTHING",
                PostgresDialect.upsertSql(ITEM, List.of("id")));
    }

    @Test
    void anAlwaysIdentityColumnIsWrittenWithTheOriginsValueAndNeverUpdated() {
        Map<String, String> cols = new LinkedHashMap<>();
        cols.put("id", "bigint");
        cols.put("seq", "bigint");
        cols.put("name", "text");
        TableShape t = new TableShape("s", "t", cols, Set.of(), List.of("id"), Set.of("id", "seq"));
        assertEquals("INSERT INTO \"s\".\"t\" (\"id\", \"seq\", \"name\") OVERRIDING SYSTEM VALUE VALUES (?::bigint,"
                        + " ?::bigint, ?::text) ON CONFLICT (\"id\") DO UPDATE SET \"name\" = EXCLUDED.\"name\"",
                PostgresDialect.upsertSql(t, List.of("id", "seq", "name")));
    }

    @Test
    void deleteByKeyAndQuoting() {
        assertEquals("DELETE FROM \"shop\".\"item\" WHERE \"id\" = ?::bigint", PostgresDialect.deleteSql(ITEM, List.of("id")));
        assertEquals("\"we\"\"ird\"", PostgresDialect.quote("we\"ird"));
    }
}
