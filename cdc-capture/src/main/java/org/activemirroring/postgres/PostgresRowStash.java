package org.activemirroring.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.activemirroring.db.RowStash;
import org.activemirroring.db.TableShape;

/**
 * PostgreSQL's stash for a join: {@code mirror.join_stash}, rows as {@code to_jsonb} of the table's
 * row and back through {@code jsonb_populate_record}; the site's own writes told apart by the
 * replication origin and time of the transaction that last wrote each row
 * ({@code pg_xact_commit_timestamp_origin}, which needs {@code track_commit_timestamp}).
 */
public final class PostgresRowStash implements RowStash {

    @Override
    public void createStorage(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS mirror.join_stash (id bigserial PRIMARY KEY, tbl text NOT NULL, "
                    + "row_json jsonb NOT NULL, stashed_at timestamptz NOT NULL)");
        }
    }

    @Override
    public long stashAll(Connection c, String table) throws SQLException {
        long n;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO mirror.join_stash (tbl, row_json, stashed_at) "
                + "SELECT ?, to_jsonb(t), now() FROM " + PostgresDialect.quoteQualified(table) + " t")) {
            ps.setString(1, table);
            n = ps.executeUpdate();
        }
        if (n > 0) {
            try (Statement s = c.createStatement()) {
                s.executeUpdate("DELETE FROM " + PostgresDialect.quoteQualified(table));
            }
        }
        return n;
    }

    /** Origin 0 is no replication origin: every mirror session writes under one. */
    @Override
    public long stashSiteWritesSince(Connection c, String table, Timestamp from) throws SQLException {
        String q = PostgresDialect.quoteQualified(table);
        String window = "FROM " + q + " t, pg_xact_commit_timestamp_origin(t.xmin) x WHERE x.roident = 0"
                + " AND x.timestamp >= ? AND x.timestamp < transaction_timestamp()";
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO mirror.join_stash (tbl, row_json, stashed_at)"
                + " SELECT ?, to_jsonb(t), now() " + window)) {
            ps.setString(1, table);
            ps.setTimestamp(2, from);
            long n = ps.executeUpdate();
            if (n > 0) {
                try (PreparedStatement del = c.prepareStatement("DELETE FROM " + q + " t WHERE t.ctid IN (SELECT"
                        + " t.ctid " + window + ")")) {
                    del.setTimestamp(1, from);
                    del.executeUpdate();
                }
            }
            return n;
        }
    }

    @Override
    public long pending(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT CASE WHEN to_regclass('mirror.join_stash') IS NULL THEN 0 "
                     + "ELSE (SELECT count(*) FROM mirror.join_stash) END")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    public List<String> tables(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT DISTINCT tbl FROM mirror.join_stash ORDER BY tbl")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    @Override
    public List<Stashed> rows(Connection c, String table) throws SQLException {
        List<Stashed> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT id, row_json::text FROM mirror.join_stash WHERE tbl = ? ORDER BY id")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Stashed(rs.getLong(1), rs.getString(2)));
                }
            }
        }
        return out;
    }

    @Override
    public void forget(Connection c, List<Long> ids) throws SQLException {
        try (PreparedStatement del = c.prepareStatement("DELETE FROM mirror.join_stash WHERE id = ANY (?)")) {
            del.setArray(1, c.createArrayOf("bigint", ids.toArray()));
            del.executeUpdate();
        }
    }

    @Override
    public Map<String, Set<String>> foreignKeyParents(Connection c) throws SQLException {
        Map<String, Set<String>> parents = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT cn.nspname || '.' || cl.relname, "
                + "pn.nspname || '.' || pl.relname FROM pg_constraint k "
                + "JOIN pg_class cl ON cl.oid = k.conrelid JOIN pg_namespace cn ON cn.oid = cl.relnamespace "
                + "JOIN pg_class pl ON pl.oid = k.confrelid JOIN pg_namespace pn ON pn.oid = pl.relnamespace "
                + "WHERE k.contype = 'f'"); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                parents.computeIfAbsent(rs.getString(1), k -> new HashSet<>()).add(rs.getString(2));
            }
        }
        return parents;
    }

    @Override
    public Restorer restorer(Connection c, TableShape shape) throws SQLException {
        String q = PostgresDialect.quoteQualified(shape.qualifiedName());
        List<String> key = shape.primaryKey();
        StringBuilder match = new StringBuilder();
        for (int i = 0; i < key.size(); i++) {
            String col = PostgresDialect.quote(key.get(i));
            match.append(i == 0 ? "" : " AND ").append("t.").append(col).append(" = p.").append(col);
        }
        String find = "SELECT to_jsonb(t)::text, to_jsonb(t) = ?::jsonb FROM " + q + " t, jsonb_populate_record(NULL::"
                + q + ", ?::jsonb) p WHERE " + match;
        String cols = String.join(", ", shape.columns().keySet().stream().map(PostgresDialect::quote).toList());
        String insert = "INSERT INTO " + q + " (" + cols + ")" + (shape.alwaysIdentity().isEmpty() ? ""
                : " OVERRIDING SYSTEM VALUE") + " SELECT " + cols + " FROM jsonb_populate_record(NULL::" + q
                + ", ?::jsonb) ON CONFLICT DO NOTHING";
        return new PgRestorer(c.prepareStatement(find), c.prepareStatement(insert), c.createStatement());
    }

    private record PgRestorer(PreparedStatement findPs, PreparedStatement insertPs, Statement s) implements Restorer {

        @Override
        public Found find(String json) throws SQLException {
            findPs.setString(1, json);
            findPs.setString(2, json);
            try (ResultSet rs = findPs.executeQuery()) {
                return rs.next() ? new Found(rs.getString(1), rs.getBoolean(2)) : null;
            }
        }

        @Override
        public boolean insert(String json) throws SQLException {
            s.execute("SAVEPOINT restore_row");
            try {
                insertPs.setString(1, json);
                boolean wrote = insertPs.executeUpdate() == 1;
                s.execute("RELEASE SAVEPOINT restore_row");
                return wrote;
            } catch (SQLException e) {
                s.execute("ROLLBACK TO SAVEPOINT restore_row");
                throw e;
            }
        }

        @Override
        public void close() throws SQLException {
            try (findPs; insertPs; s) {
                // closes all three
            }
        }
    }
}
