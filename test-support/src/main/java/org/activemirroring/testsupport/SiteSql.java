package org.activemirroring.testsupport;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small static SQL helpers for the tests that read and compare mirrors' site databases. */
public final class SiteSql {
    private SiteSql() {
    }

    public static void exec(PgServer s, String sql) throws SQLException {
        try (Connection c = s.connect(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** The first column of every row. */
    public static List<String> rows(PgServer s, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = s.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** The first column of the first row, or null when there is none. */
    public static String scalar(PgServer s, String sql) throws SQLException {
        List<String> rows = rows(s, sql);
        return rows.isEmpty() ? null : rows.get(0);
    }

    public static long count(PgServer s, String sql) throws SQLException {
        return Long.parseLong(scalar(s, sql));
    }

    /** Every table of the public schema, qualified, sorted. */
    public static List<String> publicTables(PgServer s) throws SQLException {
        return rows(s, "SELECT 'public.' || tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    }

    /** Per table: row count and md5 over every row's text form. */
    public static Map<String, String> digest(PgServer s, List<String> tables) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String t : tables) {
            out.put(t, scalar(s, "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text),"
                    + " '')) FROM " + t + " t"));
        }
        return out;
    }

    /** {@link #digest} of every table of the public schema. */
    public static Map<String, String> digest(PgServer s) throws SQLException {
        return digest(s, publicTables(s));
    }

    /** The digest, or what went wrong reading it (for failure messages, which cannot throw). */
    public static String describe(PgServer s) {
        try {
            return digest(s).toString();
        } catch (SQLException e) {
            return e.toString();
        }
    }

    /** Whether every server holds the same rows in every table of {@code tables}. */
    public static boolean allEqual(List<PgServer> servers, List<String> tables) throws SQLException {
        Map<String, String> first = digest(servers.get(0), tables);
        for (PgServer s : servers.subList(1, servers.size())) {
            if (!first.equals(digest(s, tables))) {
                return false;
            }
        }
        return true;
    }

    /** Each server's digests of {@code tables}, or what went wrong reading them (for failure messages). */
    public static String describe(List<PgServer> servers, List<String> tables) {
        StringBuilder sb = new StringBuilder();
        for (PgServer s : servers) {
            try {
                sb.append('\n').append(s.name()).append(": ").append(digest(s, tables));
            } catch (SQLException e) {
                sb.append('\n').append(s.name()).append(": ").append(e);
            }
        }
        return sb.toString();
    }
}
