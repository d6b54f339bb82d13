package org.activemirroring.postgres;

import java.io.IOException;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.db.BulkCopy;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * PostgreSQL's bulk copy for a join: the snapshot is a {@code REPEATABLE READ} transaction that
 * exports its snapshot, units are heap pages (a {@code ctid} range is stable within one snapshot
 * while the table is locked against rewrites), and data is COPY's text or binary format.
 */
public final class PostgresBulkCopy implements BulkCopy {

    /** PostgreSQL's default block size; only sizes buffers. */
    private static final long PAGE_BYTES = 8192;

    @Override
    public void beginSnapshot(Connection c) throws SQLException {
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            // A migration holding a table exclusively makes begin fail after this, not hang a
            // transport thread; the joiner asks again.
            st.execute("SET LOCAL lock_timeout = '30s'");
            // The first query fixes the transaction's snapshot.
            try (ResultSet rs = st.executeQuery("SELECT pg_export_snapshot()")) {
                rs.next();
            }
        }
    }

    @Override
    public void holdTable(Connection c, String table) throws SQLException {
        // No DROP, TRUNCATE or table rewrite while the copy runs: they would change what the page
        // ranges point at.
        try (Statement st = c.createStatement()) {
            st.execute("LOCK TABLE " + PostgresDialect.quoteQualified(table) + " IN ACCESS SHARE MODE");
        }
    }

    /** Pages of the table now; tuples this snapshot sees cannot be beyond them. -1 for a partitioned table. */
    @Override
    public long units(Connection c, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT CASE WHEN relkind = 'p' THEN -1 ELSE "
                + "pg_relation_size(oid) / current_setting('block_size')::bigint END FROM pg_class WHERE oid = ?::regclass")) {
            ps.setString(1, PostgresDialect.quoteQualified(table));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @Override
    public long bytesPerUnit() {
        return PAGE_BYTES;
    }

    /** Type names as {@code format_type} writes them. */
    @Override
    public ColumnTypes columnTypes(Connection c, String table, List<String> columns) throws SQLException {
        Map<String, String> names = new HashMap<>();
        boolean binary = true;
        // 16384 is FirstNormalObjectId: below it, the types initdb made, the same in every
        // database of a major version. reg* values are object ids of the database they come from.
        // tsquery: its binary input refuses the empty query its binary output writes ("malformed
        // tsquery: operand not found", PostgreSQL 16), so those rows go as text.
        try (PreparedStatement ps = c.prepareStatement("SELECT a.attname, format_type(a.atttypid, a.atttypmod),"
                + " t.oid < 16384 AND t.typsend::oid <> 0 AND t.typreceive::oid <> 0 AND t.typname NOT LIKE 'reg%'"
                + " AND t.oid <> 'tsquery'::regtype"
                + " AND (e.oid IS NULL OR (e.oid < 16384 AND e.typsend::oid <> 0 AND e.typreceive::oid <> 0"
                + " AND e.typname NOT LIKE 'reg%' AND e.oid <> 'tsquery'::regtype))"
                + " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
                + " LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typcategory = 'A'"
                + " WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped")) {
            ps.setString(1, PostgresDialect.quoteQualified(table));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    names.put(rs.getString(1), rs.getString(2));
                    if (columns.contains(rs.getString(1))) {
                        binary &= rs.getBoolean(3);
                    }
                }
            }
        }
        List<String> out = new ArrayList<>(columns.size());
        for (String col : columns) {
            String type = names.get(col);
            if (type == null) {
                throw new IllegalStateException("column " + col + " of " + table + " has no type in pg_attribute");
            }
            out.add(type);
        }
        return new ColumnTypes(List.copyOf(out), binary);
    }

    /** {@code server_version_num}. */
    @Override
    public int serverVersion(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW server_version_num")) {
            rs.next();
            return Integer.parseInt(rs.getString(1));
        }
    }

    /** COPY's binary format is stable within a major version. */
    @Override
    public boolean sameBinaryFormat(int donor, int own) {
        return donor / 10_000 == own / 10_000;
    }

    @Override
    public long rowsOut(Connection c, String table, List<String> columns, long from, long to, boolean binary,
                        OutputStream out) throws SQLException {
        StringBuilder sql = new StringBuilder("COPY (SELECT ");
        appendColumns(sql, columns);
        sql.append(" FROM ").append(PostgresDialect.quoteQualified(table));
        if (from >= 0) {
            sql.append(" WHERE ctid >= '(").append(from).append(",0)'::tid AND ctid < '(")
                    .append(to).append(",0)'::tid");
        }
        sql.append(binary ? ") TO STDOUT WITH (FORMAT binary)" : ") TO STDOUT");
        return copyOut(c, sql.toString(), out);
    }

    @Override
    public long versionsOut(Connection c, String table, String after, int limit, OutputStream out) throws SQLException {
        // The key goes first so the last key of the chunk is easy to find; writer xid and LSN are
        // this database's own and mean nothing on the joiner.
        StringBuilder sql = new StringBuilder("COPY (SELECT pk, tbl, clock, origin, deleted, prev_clock, prev_origin, "
                + "source_tx, origin_seq, 0::bigint, 0::bigint FROM mirror.row_version WHERE tbl = ")
                .append(PostgresDialect.literal(table));
        if (after != null) {
            sql.append(" AND pk > ").append(PostgresDialect.literal(after));
        }
        sql.append(" ORDER BY pk LIMIT ").append(limit).append(") TO STDOUT");
        return copyOut(c, sql.toString(), out);
    }

    @Override
    public String lastVersionKey(byte[] data, int from, int to) {
        return CopyText.firstFieldOfLastLine(data, from, to);
    }

    @Override
    public void rowsIn(Connection c, String table, List<String> columns, boolean binary, byte[] data, int offset,
                       int length) throws SQLException {
        StringBuilder sql = new StringBuilder("COPY ").append(PostgresDialect.quoteQualified(table)).append(" (");
        appendColumns(sql, columns);
        sql.append(") FROM STDIN");
        copyIn(c, binary ? sql + " WITH (FORMAT binary)" : sql.toString(), data, offset, length);
    }

    @Override
    public void versionsIn(Connection c, byte[] data, int offset, int length) throws SQLException {
        copyIn(c, "COPY mirror.row_version (pk, tbl, clock, origin, deleted, prev_clock, prev_origin, source_tx, "
                + "origin_seq, writer_xid, writer_lsn) FROM STDIN", data, offset, length);
    }

    @Override
    public void prepareLoadSession(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET synchronous_commit = off");
        }
    }

    /** unique_violation. */
    @Override
    public boolean isDuplicateKey(SQLException e) {
        return "23505".equals(e.getSQLState());
    }

    private static long copyOut(Connection c, String sql, OutputStream out) throws SQLException {
        try {
            return c.unwrap(PGConnection.class).getCopyAPI().copyOut(sql, out);
        } catch (IOException e) {
            throw new SQLException("COPY TO failed writing its output: " + e.getMessage(), "58030", e);
        }
    }

    private static void copyIn(Connection c, String sql, byte[] data, int offset, int length) throws SQLException {
        if (length == 0) {
            return;
        }
        // Straight from the caller's bytes: no stream and no intermediate buffer.
        CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn(sql);
        try {
            in.writeToCopy(data, offset, length);
            in.endCopy();
        } catch (SQLException | RuntimeException e) {
            if (in.isActive()) {
                try {
                    in.cancelCopy();
                } catch (SQLException cancel) {
                    e.addSuppressed(cancel);
                }
            }
            throw e;
        }
    }

    private static void appendColumns(StringBuilder sql, List<String> columns) {
        for (int i = 0; i < columns.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append(PostgresDialect.quote(columns.get(i)));
        }
    }
}
