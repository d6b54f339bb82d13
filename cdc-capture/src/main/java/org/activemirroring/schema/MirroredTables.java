package org.activemirroring.schema;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.db.Catalog;

/**
 * The one place that decides which tables are mirrored: every ordinary or partitioned table (not
 * a partition) of {@code mirror.db.schemas}, except those {@code mirror.tables.exclude} keeps
 * local and those that cannot be mirrored ({@link #heldOut}: no key, or a column type capture
 * cannot carry). Capture's filters, its preflight, the join on both sides, the stash of a
 * joiner's own rows and key allocation all ask here, so they can never disagree. Immutable.
 *
 * <p>The decisions are made here; the facts (which tables exist, which have no key, which column
 * types capture cannot carry) come from the database's {@link Catalog}. An instance made without
 * a catalog ({@link #configured(CaptureConfig)}) answers only from the configuration: {@link #schemas},
 * {@link #excluded}, {@link #isMirrored}.
 */
public final class MirroredTables {

    /**
     * A table as the catalog has it; {@code replicaIdentity} is how the database logs a changed
     * row's old image (on PostgreSQL {@code pg_class.relreplident}: d default, i index, f full, n nothing).
     */
    public record Table(String schema, String name, char replicaIdentity) {
        public String qualified() {
            return schema + "." + name;
        }
    }

    private final List<String> schemas;
    private final List<String> excluded;
    /** Null when made from the configuration alone: then nothing is read from the database. */
    private final Catalog catalog;

    private MirroredTables(List<String> schemas, List<String> excluded, Catalog catalog) {
        this.schemas = List.copyOf(schemas);
        this.excluded = List.copyOf(excluded);
        this.catalog = catalog;
    }

    /** The configured decisions, reading the database's tables through {@code catalog}. */
    public static MirroredTables of(CaptureConfig config, Catalog catalog) {
        return new MirroredTables(config.schemas(), config.tablesExclude(), java.util.Objects.requireNonNull(catalog));
    }

    public static MirroredTables of(List<String> schemas, List<String> excluded, Catalog catalog) {
        return new MirroredTables(schemas, excluded, java.util.Objects.requireNonNull(catalog));
    }

    /**
     * The configured decisions alone, for code that needs only {@link #schemas}, {@link #excluded}
     * and {@link #isMirrored}; the methods that read the database refuse to run on it. A name of
     * its own, so that code reading tables cannot take it for {@link #of(CaptureConfig, Catalog)}.
     */
    public static MirroredTables configured(CaptureConfig config) {
        return new MirroredTables(config.schemas(), config.tablesExclude(), null);
    }

    /** Like {@link #configured(CaptureConfig)}, from the lists themselves. */
    public static MirroredTables configured(List<String> schemas, List<String> excluded) {
        return new MirroredTables(schemas, excluded, null);
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
     * column whose values capture cannot carry exactly. Two questions to the {@link Catalog}.
     */
    public Map<String, String> heldOut(Connection c) throws SQLException {
        Map<String, String> out = new TreeMap<>();
        for (String table : catalog().tablesWithoutKey(c, schemas)) {
            if (!excluded.contains(table)) {
                out.put(table, "it has no primary key and no unique index over NOT NULL columns,"
                        + " so its rows cannot be found on other mirrors: add a primary key");
            }
        }
        for (String col : catalog().unsupportedColumns(c, schemas, excluded)) {
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
        return catalog().tables(c, schemas);
    }

    private Catalog catalog() {
        if (catalog == null) {
            throw new IllegalStateException("This MirroredTables was made from the configuration alone and cannot read"
                    + " the database: make it with MirroredTables.of(config, dialect.catalog())");
        }
        return catalog;
    }
}
