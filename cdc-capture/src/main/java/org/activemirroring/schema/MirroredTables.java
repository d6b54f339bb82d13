package org.activemirroring.schema;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.postgres.CapturePreflight;

/**
 * The one place that decides which tables are mirrored: every ordinary or partitioned table (not
 * a partition) of {@code mirror.db.schemas}, except those {@code mirror.tables.exclude} keeps
 * local and those that cannot be mirrored ({@link #heldOut}: no key, or a column type capture
 * cannot carry). Capture's filters, its preflight, the join on both sides, the stash of a
 * joiner's own rows and key allocation all ask here, so they can never disagree. Immutable.
 */
public final class MirroredTables {

    /** A table as the catalog has it; {@code replicaIdentity} is {@code pg_class.relreplident}. */
    public record Table(String schema, String name, char replicaIdentity) {
        public String qualified() {
            return schema + "." + name;
        }
    }

    private final List<String> schemas;
    private final List<String> excluded;

    private MirroredTables(List<String> schemas, List<String> excluded) {
        this.schemas = List.copyOf(schemas);
        this.excluded = List.copyOf(excluded);
    }

    public static MirroredTables of(CaptureConfig config) {
        return new MirroredTables(config.schemas(), config.tablesExclude());
    }

    public static MirroredTables of(List<String> schemas, List<String> excluded) {
        return new MirroredTables(schemas, excluded);
    }

    /** The schemas whose tables are mirrored. */
    public List<String> schemas() {
        return schemas;
    }

    /** The tables kept local, as {@code schema.table}. */
    public List<String> excluded() {
        return excluded;
    }

    /** Whether the table {@code schema.table} is mirrored (whether or not it exists). */
    public boolean isMirrored(String qualified) {
        int dot = qualified.indexOf('.');
        return dot > 0 && schemas.contains(qualified.substring(0, dot)) && !excluded.contains(qualified);
    }

    /**
     * The tables of the mirrored schemas not kept local by configuration, sorted by schema and
     * name, held out or not: what a joiner must have (during its load, before their keys are
     * built, every table would look held out).
     */
    public List<Table> list(Connection c) throws SQLException {
        return tables(c).stream().filter(t -> !excluded.contains(t.qualified())).toList();
    }

    /**
     * The tables whose rows are mirrored: {@link #list} without those {@link #heldOut}. What a
     * donor copies, a rejoin empties and a joiner's stash sets aside.
     */
    public List<Table> mirrorable(Connection c) throws SQLException {
        Map<String, String> heldOut = heldOut(c);
        return list(c).stream().filter(t -> !heldOut.containsKey(t.qualified())).toList();
    }

    /**
     * The tables that would be mirrored but cannot be, with why and what to do: those without a
     * key to find their rows by (no primary key, no unique index over NOT NULL columns: publishing
     * them would also make PostgreSQL refuse the site's updates and deletes), and those with a
     * column whose values capture cannot carry exactly. Two catalog queries.
     */
    public Map<String, String> heldOut(Connection c) throws SQLException {
        Map<String, String> out = new TreeMap<>();
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
                    if (!excluded.contains(rs.getString(1))) {
                        out.put(rs.getString(1), "it has no primary key and no unique index over NOT NULL columns,"
                                + " so its rows cannot be found on other mirrors: add a primary key");
                    }
                }
            }
        }
        for (String col : CapturePreflight.unsupportedColumns(c, schemas, excluded)) {
            String qualifiedColumn = col.substring(0, col.indexOf(" has type "));
            String table = qualifiedColumn.substring(0, qualifiedColumn.lastIndexOf('.'));
            out.merge(table, "column " + col + ": change the column's type", (a, b) -> a + "; " + b);
        }
        return out;
    }

    /** The mirrored tables that exist, as {@code schema.table}, sorted. */
    List<String> names(Connection c) throws SQLException {
        return list(c).stream().map(Table::qualified).toList();
    }

    /**
     * The tables of the mirrored schemas kept local (by configuration, or held out), as
     * {@code schema.table}, sorted: their rows stay on each mirror, but every mirror needs the tables.
     */
    public List<String> keptLocal(Connection c) throws SQLException {
        Map<String, String> heldOut = heldOut(c);
        return tables(c).stream().map(Table::qualified).filter(t -> excluded.contains(t) || heldOut.containsKey(t))
                .toList();
    }

    private List<Table> tables(Connection c) throws SQLException {
        List<Table> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT n.nspname, cl.relname, cl.relreplident FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace "
                        + "WHERE n.nspname = ANY (?) AND cl.relkind IN ('r', 'p') AND NOT cl.relispartition "
                        + "ORDER BY 1, 2")) {
            ps.setArray(1, c.createArrayOf("text", schemas.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Table(rs.getString(1), rs.getString(2), rs.getString(3).charAt(0)));
                }
            }
        }
        return out;
    }
}
