package org.activemirroring.schema;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

import org.activemirroring.capture.CaptureConfig;

/**
 * The one place that decides which tables are mirrored: every ordinary or partitioned table (not
 * a partition) of {@code mirror.db.schemas}, except those {@code mirror.tables.exclude} keeps
 * local. Capture's filters, its preflight, the join on both sides, the stash of a joiner's own
 * rows and key allocation all ask here, so they can never disagree. Immutable.
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

    /** The mirrored tables that exist, sorted by schema and name. */
    public List<Table> list(Connection c) throws SQLException {
        return tables(c).stream().filter(t -> !excluded.contains(t.qualified())).toList();
    }

    /** The mirrored tables that exist, as {@code schema.table}, sorted. */
    List<String> names(Connection c) throws SQLException {
        return list(c).stream().map(Table::qualified).toList();
    }

    /**
     * The tables of the mirrored schemas kept local, as {@code schema.table}, sorted: their rows
     * stay on each mirror, but every mirror needs the tables.
     */
    public List<String> keptLocal(Connection c) throws SQLException {
        return tables(c).stream().map(Table::qualified).filter(excluded::contains).toList();
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
