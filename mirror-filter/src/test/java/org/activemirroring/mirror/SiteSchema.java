package org.activemirroring.mirror;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.testsupport.PgServer;

/**
 * The test site's schema: a foreign key, text, numeric, timestamptz, bytea, jsonb and a large
 * text column that PostgreSQL TOASTs; plus a per-table digest over all rows.
 */
final class SiteSchema {
    static final List<String> TABLES = List.of("customers", "orders", "documents", "fences");

    private static final String DDL = """
            CREATE TABLE customers (
                id bigint PRIMARY KEY,
                owner text NOT NULL,
                name text NOT NULL,
                balance numeric(14,2) NOT NULL,
                created timestamptz NOT NULL,
                photo bytea,
                profile jsonb
            );
            CREATE TABLE orders (
                id bigint PRIMARY KEY,
                customer_id bigint NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                amount numeric(12,2) NOT NULL,
                placed timestamptz NOT NULL,
                note text
            );
            CREATE TABLE documents (
                id bigint PRIMARY KEY,
                owner text NOT NULL,
                title text NOT NULL,
                body text,
                version int NOT NULL
            );
            CREATE TABLE fences (
                node text PRIMARY KEY,
                round int NOT NULL
            );
            """;

    private SiteSchema() {
    }

    static void create(PgServer server) throws SQLException {
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            s.execute(DDL);
        }
    }

    /** Per table: row count and an md5 over every row's text form in key order. */
    static Map<String, String> digest(PgServer server) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            for (String table : TABLES) {
                String key = table.equals("fences") ? "node" : "id";
                try (ResultSet rs = s.executeQuery("SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY "
                        + key + "), '')) FROM " + table + " t")) {
                    rs.next();
                    out.put(table, rs.getLong(1) + ":" + rs.getString(2));
                }
            }
        }
        return out;
    }

    /** Row count of one table. */
    static long count(PgServer server, String table) throws SQLException {
        try (Connection c = server.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** origin -> {applied_seq, apply_count} from the mirror's bookkeeping table. */
    static Map<String, long[]> appliedTable(PgServer server) throws SQLException {
        Map<String, long[]> out = new LinkedHashMap<>();
        try (Connection c = server.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT origin, applied_seq, apply_count FROM mirror.applied ORDER BY origin")) {
            while (rs.next()) {
                out.put(rs.getString(1), new long[] {rs.getLong(2), rs.getLong(3)});
            }
        }
        return out;
    }
}
