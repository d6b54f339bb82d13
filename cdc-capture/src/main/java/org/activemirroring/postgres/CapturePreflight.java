package org.activemirroring.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.capture.CaptureException;
import org.activemirroring.capture.ValueEncoder;
import org.activemirroring.schema.HeldOutTables;
import org.activemirroring.schema.MirroredTables;

/**
 * Checks the database before Debezium creates the publication, and prepares what capture needs.
 *
 * <p>Why before: once a table without a replica identity is in a publication, PostgreSQL refuses
 * every UPDATE and DELETE on it ("cannot update table because it does not have a replica identity
 * and publishes updates"), so the site itself would break. The applier cannot find such rows on a
 * peer either. Columns whose values capture cannot carry exactly would otherwise stop capture
 * at the first row that has one. Such tables are therefore held out of mirroring
 * ({@link HeldOutTables}) before the publication exists: they are never published, every other
 * table replicates, and status says which and why.
 *
 * <p>A table without a primary key but with a unique index over NOT NULL columns (many join
 * tables) is identified by that index ({@link PostgresDialect#identity}): the preflight makes it
 * the table's {@code REPLICA IDENTITY USING INDEX}, so that deletes and updates carry those
 * columns, and capture tells Debezium to key the table's events by them.
 */
public final class CapturePreflight {
    private static final Logger LOG = LoggerFactory.getLogger(CapturePreflight.class);

    /**
     * Built-in base types (pg_catalog) capture carries exactly: those Debezium delivers in a form
     * {@link ValueEncoder} turns into text the peer's input function reads back as the same value,
     * and those {@link PostgresTextConverter} takes from Debezium as PostgreSQL's own text (bit
     * strings, tsquery, the geometric types, pg_lsn, jsonpath). Enums, ranges, multiranges and
     * composites are allowed as well (their text), and arrays of all of these (the array's text).
     */
    static final Set<String> SCALAR_TYPES = Set.of("int2", "int4", "int8", "oid", "numeric", "float4", "float8",
            "money", "bool", "text", "varchar", "bpchar", "name", "bytea", "date", "time", "timestamp", "timestamptz",
            "interval", "uuid", "json", "jsonb", "xml", "inet", "cidr", "macaddr", "macaddr8", "tsvector", "tsquery",
            "bit", "varbit", "point", "line", "lseg", "box", "path", "polygon", "circle", "pg_lsn", "jsonpath");

    /** Base types of extensions capture carries exactly (as their text), by name. */
    static final Set<String> EXTENSION_TYPES = Set.of("citext", "hstore");

    /** Why some types are refused, where there is more to say than "not carried exactly yet". */
    private static final Map<String, String> REASONS = Map.of(
            "timetz", "Debezium converts time with time zone values to UTC before capture sees them, so the offset"
                    + " would be lost (and an offset with seconds stops capture); use timestamptz, or time and a"
                    + " separate offset column");

    private CapturePreflight() {
    }

    /**
     * Columns of mirrored tables whose type capture cannot carry exactly, each as
     * {@code "schema.table.column has type T (why)"}. Domains count as their base type, arrays by
     * their element type.
     */
    public static List<String> unsupportedColumns(Connection c, List<String> schemas, List<String> excluded)
            throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT n.nspname || '.' || cl.relname, a.attname, format_type(a.atttypid, a.atttypmod),"
                        + " e.typtype, e.typname, e.typnamespace = 'pg_catalog'::regnamespace "
                        + "FROM pg_attribute a JOIN pg_class cl ON cl.oid = a.attrelid "
                        + "JOIN pg_namespace n ON n.oid = cl.relnamespace JOIN pg_type t0 ON t0.oid = a.atttypid "
                        + "JOIN pg_type t ON t.oid = CASE WHEN t0.typtype = 'd' THEN t0.typbasetype ELSE t0.oid END "
                        + "JOIN pg_type e0 ON e0.oid = CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.oid END "
                        + "JOIN pg_type e ON e.oid = CASE WHEN e0.typtype = 'd' THEN e0.typbasetype ELSE e0.oid END "
                        + "WHERE n.nspname = ANY (?) AND cl.relkind IN ('r', 'p') AND NOT cl.relispartition "
                        + "AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' "
                        + "ORDER BY 1, a.attnum")) {
            ps.setArray(1, c.createArrayOf("text", schemas.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (excluded.contains(rs.getString(1))) {
                        continue;
                    }
                    char kind = rs.getString(4).charAt(0);
                    String name = rs.getString(5);
                    boolean catalog = rs.getBoolean(6);
                    if (!supported(kind, name, catalog)) {
                        out.add(rs.getString(1) + "." + rs.getString(2) + " has type " + rs.getString(3) + " ("
                                + REASONS.getOrDefault(name, "not carried exactly yet") + ")");
                    }
                }
            }
        }
        return out;
    }

    /**
     * Whether capture carries a column of this type exactly. An array is carried as PostgreSQL's
     * array text, so it is whenever its element type is; a composite as its text, whatever its
     * fields are (a timetz field keeps its offset there).
     *
     * @param kind    {@code pg_type.typtype} of the (element, base) type: b base, e enum, r range,
     *                m multirange, c composite, ...
     * @param name    its {@code typname}
     * @param catalog whether it is a built-in (pg_catalog) type
     */
    static boolean supported(char kind, String name, boolean catalog) {
        return switch (kind) {
            case 'e', 'r', 'm', 'c' -> true;
            case 'b' -> catalog ? SCALAR_TYPES.contains(name) : EXTENSION_TYPES.contains(name);
            default -> false;
        };
    }

    /**
     * Mirrored tables with {@code REPLICA IDENTITY FULL}, as schema.table: only their change
     * events carry a real before-image. With the default identity Debezium fills the columns it did
     * not get with null, which must not pass for the old values.
     */
    static Set<String> tablesWithFullIdentity(Connection c, List<String> schemas) throws SQLException {
        Set<String> out = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT n.nspname || '.' || cl.relname FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace "
                        + "WHERE n.nspname = ANY (?) AND cl.relkind IN ('r', 'p') AND cl.relreplident = 'f'")) {
            ps.setArray(1, c.createArrayOf("text", schemas.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    /**
     * Runs every check (a server too old or a missing grant: {@link CaptureException} saying what
     * to do, before changing anything) and finds the tables held out of mirroring (no key, or a
     * column type capture cannot carry; they do not stop capture). Then makes each table identified by a unique index use it as
     * replica identity (logged once, when changed). Returns what capture needs: tables with a full
     * before-image ({@link #tablesWithFullIdentity}; a table whose replica identity changes later
     * is seen at the next start), the key columns of index-identified tables and the server version.
     */
    public static Result check(CaptureConfig config) throws CaptureException {
        try (Connection c = config.connect()) {
            int serverVersion;
            try (var st = c.createStatement(); var rs = st.executeQuery("SHOW server_version_num")) {
                rs.next();
                serverVersion = rs.getInt(1);
            }
            String tooOld = versionRefusal(serverVersion);
            if (tooOld != null) {
                throw new CaptureException(tooOld, null);
            }
            PrivilegeCheck.check(c, config);
            MirroredTables mirrored = MirroredTables.of(config, new PostgresCatalog());
            Map<String, String> heldOut = mirrored.heldOut(c);
            Map<MirroredTables.Table, PostgresDialect.Identity> byIndex = new LinkedHashMap<>();
            for (MirroredTables.Table t : mirrored.list(c)) {
                PostgresDialect.Identity id = PostgresDialect.identity(c, t.schema(), t.name());
                if (id != null && !id.primary()) {
                    byIndex.put(t, id);
                }
            }
            Map<String, List<String>> keyColumns = new LinkedHashMap<>();
            for (Map.Entry<MirroredTables.Table, PostgresDialect.Identity> e : byIndex.entrySet()) {
                useIndexAsReplicaIdentity(c, e.getKey(), e.getValue());
                keyColumns.put(e.getKey().qualified(), e.getValue().columns());
            }
            Set<String> fullIdentity = tablesWithFullIdentity(c, config.schemas());
            return new Result(fullIdentity, keyColumns, serverVersion, heldOut);
        } catch (SQLException e) {
            throw new CaptureException("Capture cannot check the database at " + config.dbUrl() + ": " + e.getMessage()
                    + "; check mirror.db.url, mirror.db.user and mirror.db.password", e);
        }
    }

    /** The oldest PostgreSQL mirrors run on: commit-timestamp origins and xid8 functions (14). */
    static final int MIN_SERVER_VERSION = 140_000;

    /** Why a server of {@code server_version_num} cannot be mirrored, or null if it can. */
    static String versionRefusal(int serverVersionNum) {
        if (serverVersionNum >= MIN_SERVER_VERSION) {
            return null;
        }
        return "Capture refuses to start: this database runs PostgreSQL " + serverVersionNum / 10_000 + "."
                + serverVersionNum % 10_000 + " (server_version_num " + serverVersionNum + "), and mirrors need"
                + " PostgreSQL 14 or later (they read commit timestamps with their replication origin,"
                + " pg_xact_commit_timestamp_origin). Upgrade the server, e.g. with pg_upgrade, then start again.";
    }

    /**
     * Makes {@code id} the table's replica identity unless it already is (or the table has
     * REPLICA IDENTITY FULL, whose before-images hold every column anyway): without it PostgreSQL
     * refuses updates and deletes on a published table that has no primary key, and deletes would
     * not carry the key columns.
     */
    private static void useIndexAsReplicaIdentity(Connection c, MirroredTables.Table t, PostgresDialect.Identity id)
            throws SQLException, CaptureException {
        if (t.replicaIdentity() == 'f') {
            return;
        }
        if (t.replicaIdentity() == 'i') {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT 1 FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid "
                            + "WHERE i.indrelid = (quote_ident(?) || '.' || quote_ident(?))::regclass "
                            + "AND i.indisreplident AND ci.relname = ?")) {
                ps.setString(1, t.schema());
                ps.setString(2, t.name());
                ps.setString(3, id.index());
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return;
                    }
                }
            }
        }
        try (Statement st = c.createStatement()) {
            DdlReplication.markInternal(st); // every mirror does this itself
            st.execute("ALTER TABLE " + PostgresDialect.quote(t.schema()) + "." + PostgresDialect.quote(t.name())
                    + " REPLICA IDENTITY USING INDEX " + PostgresDialect.quote(id.index()));
        } catch (SQLException e) {
            throw new CaptureException("Capture cannot make index " + id.index() + " the replica identity of "
                    + t.qualified() + ", which has no primary key: " + e.getMessage() + "; run ALTER TABLE "
                    + t.qualified() + " REPLICA IDENTITY USING INDEX " + id.index() + " as the table's owner, give it"
                    + " a primary key, or exclude it with mirror.tables.exclude=" + t.qualified(), e);
        }
        LOG.info("Table {} has no primary key: made its unique index {} on ({}) its replica identity, so that"
                + " updates and deletes are published with those columns", t.qualified(), id.index(),
                String.join(", ", id.columns()));
    }

    /**
     * What capture needs to know about the database before it starts.
     *
     * @param fullIdentity  tables with a full before-image
     * @param keyColumns    per table identified by a unique index instead of a primary key
     *                      (schema.table), that index's columns in index order
     * @param serverVersion {@code server_version_num}, e.g. 160015
     * @param heldOut       tables that cannot be mirrored, with why ({@link MirroredTables#heldOut})
     */
    public record Result(Set<String> fullIdentity, Map<String, List<String>> keyColumns, int serverVersion,
                  Map<String, String> heldOut) {
        /** pgoutput understands {@code origin=none} from PostgreSQL 16 on. */
        public boolean serverCanFilterOrigins() {
            return serverVersion >= 160_000;
        }
    }
}
