package org.activemirroring.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import org.activemirroring.db.Catalog;
import org.activemirroring.schema.MirroredTables;

/**
 * PostgreSQL's {@link Catalog}: {@code pg_class}, {@code pg_index} and {@code pg_attribute}
 * queries. Tables are ordinary ({@code r}) or partitioned ({@code p}) relations that are not
 * partitions: a partition's rows are captured and applied through its parent. Stateless.
 */
public final class PostgresCatalog implements Catalog {

    @Override
    public List<MirroredTables.Table> tables(Connection c, List<String> schemas) throws SQLException {
        List<MirroredTables.Table> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT n.nspname, cl.relname, cl.relreplident FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace "
                        + "WHERE n.nspname = ANY (?) AND cl.relkind IN ('r', 'p') AND NOT cl.relispartition "
                        + "ORDER BY 1, 2")) {
            ps.setArray(1, c.createArrayOf("text", schemas.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new MirroredTables.Table(rs.getString(1), rs.getString(2), rs.getString(3).charAt(0)));
                }
            }
        }
        return out;
    }

    /**
     * Publishing such a table would also make PostgreSQL refuse the site's updates and deletes of
     * it. A unique index counts when it is immediate, valid, not partial, not on expressions and
     * its key columns are all NOT NULL.
     */
    @Override
    public List<String> tablesWithoutKey(Connection c, List<String> schemas) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT n.nspname || '.' || cl.relname FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace"
                        + " WHERE n.nspname = ANY (?) AND cl.relkind IN ('r', 'p') AND NOT cl.relispartition"
                        + " AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = cl.oid AND (i.indisprimary"
                        + "  OR (i.indisunique AND i.indimmediate AND i.indisvalid AND i.indpred IS NULL"
                        + "  AND i.indexprs IS NULL AND NOT EXISTS (SELECT 1 FROM unnest(i.indkey::int2[])"
                        + "   WITH ORDINALITY k(attnum, ord) LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid"
                        + "   AND a.attnum = k.attnum WHERE k.ord <= i.indnkeyatts"
                        + "   AND (a.attnum IS NULL OR a.attnum <= 0 OR NOT a.attnotnull)))))")) {
            ps.setArray(1, c.createArrayOf("text", schemas.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /** See {@link CapturePreflight#unsupportedColumns}, which knows the types capture carries. */
    @Override
    public List<String> unsupportedColumns(Connection c, List<String> schemas, List<String> excluded)
            throws SQLException {
        return CapturePreflight.unsupportedColumns(c, schemas, excluded);
    }
}
