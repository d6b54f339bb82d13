package org.activemirroring.capture;

import java.sql.Array;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks the database before Debezium creates the publication.
 *
 * <p>Why before: once a table without a primary key (and default replica identity) is in a
 * publication, PostgreSQL refuses every UPDATE and DELETE on it ("cannot update table because it
 * does not have a replica identity and publishes updates"), so the site itself would break. The
 * applier cannot find such rows on a peer either. Capture therefore refuses to start and names
 * the tables.
 */
final class CapturePreflight {
    private CapturePreflight() {
    }

    /** Mirrored tables (in {@code schemas}, not in {@code excluded}) without a primary key, as schema.table. */
    static List<String> tablesWithoutPrimaryKey(Connection c, List<String> schemas, List<String> excluded)
            throws SQLException {
        List<String> out = new ArrayList<>();
        Array schemaArray = c.createArrayOf("text", schemas.toArray());
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT n.nspname || '.' || cl.relname FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace "
                        + "WHERE n.nspname = ANY (?) AND cl.relkind IN ('r', 'p') AND NOT cl.relispartition "
                        + "AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = cl.oid AND i.indisprimary) "
                        + "ORDER BY 1")) {
            ps.setArray(1, schemaArray);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (!excluded.contains(rs.getString(1))) {
                        out.add(rs.getString(1));
                    }
                }
            }
        }
        return out;
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
     * Runs every check; throws {@link CaptureException} listing what to change. Returns the
     * tables with a full before-image ({@link #tablesWithFullIdentity}; a table whose replica
     * identity changes later is seen at the next start) and the server version.
     */
    static Result check(CaptureConfig config) throws CaptureException {
        List<String> noKey;
        Set<String> fullIdentity;
        int serverVersion;
        try (Connection c = DriverManager.getConnection(config.dbUrl(), config.dbUser(), config.dbPassword())) {
            noKey = tablesWithoutPrimaryKey(c, config.schemas(), config.tablesExclude());
            fullIdentity = tablesWithFullIdentity(c, config.schemas());
            try (var st = c.createStatement(); var rs = st.executeQuery("SHOW server_version_num")) {
                rs.next();
                serverVersion = rs.getInt(1);
            }
        } catch (SQLException e) {
            throw new CaptureException("Capture cannot check the database at " + config.dbUrl() + ": " + e.getMessage()
                    + "; check mirror.db.url, mirror.db.user and mirror.db.password", e);
        }
        if (!noKey.isEmpty()) {
            throw new CaptureException("Capture refuses to start: table(s) " + String.join(", ", noKey)
                    + " have no primary key, so their rows cannot be mirrored, and publishing them would make"
                    + " PostgreSQL refuse the site's updates and deletes on them. Add a primary key, or exclude them"
                    + " with mirror.tables.exclude=" + String.join(",", noKey), null);
        }
        return new Result(fullIdentity, serverVersion);
    }

    /**
     * What capture needs to know about the database before it starts.
     *
     * @param fullIdentity  tables with a full before-image
     * @param serverVersion {@code server_version_num}, e.g. 160015
     */
    record Result(Set<String> fullIdentity, int serverVersion) {
        /** pgoutput understands {@code origin=none} from PostgreSQL 16 on. */
        boolean serverCanFilterOrigins() {
            return serverVersion >= 160_000;
        }
    }
}
