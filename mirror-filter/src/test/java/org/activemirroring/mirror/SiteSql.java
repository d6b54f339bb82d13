package org.activemirroring.mirror;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.testsupport.PgServer;

/** Small static SQL helpers for the tests that compare mirrors' databases. */
final class SiteSql {
    private SiteSql() {
    }

    static void exec(PgServer s, String sql) throws SQLException {
        try (Connection c = s.connect(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** The first column of every row. */
    static List<String> rows(PgServer s, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = s.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** The first column of the first row, or null when there is none. */
    static String scalar(PgServer s, String sql) throws SQLException {
        List<String> rows = rows(s, sql);
        return rows.isEmpty() ? null : rows.get(0);
    }

    static long count(PgServer s, String sql) throws SQLException {
        return Long.parseLong(scalar(s, sql));
    }

    /** Every table of the public schema, qualified, sorted. */
    static List<String> publicTables(PgServer s) throws SQLException {
        return rows(s, "SELECT 'public.' || tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    }

    /** Per table: row count and md5 over every row's text form. */
    static Map<String, String> digest(PgServer s, List<String> tables) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String t : tables) {
            out.put(t, scalar(s, "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text),"
                    + " '')) FROM " + t + " t"));
        }
        return out;
    }

    /** {@link #digest} of every table of the public schema. */
    static Map<String, String> digest(PgServer s) throws SQLException {
        return digest(s, publicTables(s));
    }

    /** The digest, or what went wrong reading it (for failure messages, which cannot throw). */
    static String describe(PgServer s) {
        try {
            return digest(s).toString();
        } catch (SQLException e) {
            return e.toString();
        }
    }
}
