package org.activemirroring.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.capture.CaptureException;

/**
 * Before a mirror touches its database: whether {@code mirror.db.user} may do everything the
 * mirror does there. A superuser may; any other role needs what {@link MirrorRoleSql} grants, and
 * this check names each missing piece with the statement that grants it, all in one message,
 * instead of a "permission denied" from deep inside a join, the applier or Debezium later.
 *
 * <p>Not checked here: the event triggers that record schema changes. Without them the mirror
 * runs and warns that schema changes are not mirrored ({@link DdlReplication#install}).
 */
public final class PrivilegeCheck {

    /**
     * One thing the role lacks.
     *
     * @param what      what is missing and what the mirror needs it for
     * @param statement the SQL a superuser runs to grant it
     */
    public record Missing(String what, String statement) {
    }

    private PrivilegeCheck() {
    }

    /**
     * Throws {@link CaptureException} naming every missing privilege with its statement; returns
     * quietly for a superuser or a role that has them all.
     */
    public static void check(CaptureConfig config) throws CaptureException {
        try (Connection c = config.connect()) {
            check(c, config);
        } catch (SQLException e) {
            throw new CaptureException("Cannot check the privileges of mirror.db.user " + config.dbUser() + " on "
                    + config.dbUrl() + ": " + e.getMessage() + "; check mirror.db.url, mirror.db.user and"
                    + " mirror.db.password", e);
        }
    }

    /** {@link #check(CaptureConfig)} on an open connection of mirror.db.user. */
    static void check(Connection c, CaptureConfig config) throws SQLException, CaptureException {
        List<Missing> missing = missing(c, config.schemas(), config.tablesExclude(), config.publication());
        if (!missing.isEmpty()) {
            throw new CaptureException(refusal(currentUser(c), config.dbUrl(), missing), null);
        }
    }

    /** The message for {@code missing}: what, then the statements to run as a superuser. */
    static String refusal(String role, String url, List<Missing> missing) {
        StringBuilder sb = new StringBuilder("The mirror refuses to start: its database role ").append(role)
                .append(" is not a superuser and lacks what the mirror needs in ").append(url).append(": ");
        for (int i = 0; i < missing.size(); i++) {
            sb.append(i == 0 ? "" : "; ").append(missing.get(i).what());
        }
        sb.append(". Run as a superuser in that database: ");
        for (Missing m : missing) {
            sb.append(m.statement()).append("; ");
        }
        return sb.append("or run the whole block that org.activemirroring.postgres.MirrorRoleSql prints"
                + " (README: Running as a role that is not a superuser).").toString();
    }

    /** What the session's role lacks; empty for a superuser. */
    public static List<Missing> missing(Connection c, List<String> schemas, List<String> excluded, String publication)
            throws SQLException {
        List<Missing> out = new ArrayList<>();
        String role;
        boolean superuser;
        boolean replication;
        int version;
        try (PreparedStatement ps = c.prepareStatement("SELECT rolname, rolsuper, rolreplication,"
                + " current_setting('server_version_num')::int FROM pg_roles WHERE rolname = current_user");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            role = rs.getString(1);
            superuser = rs.getBoolean(2);
            replication = rs.getBoolean(3);
            version = rs.getInt(4);
        }
        if (superuser) {
            return out;
        }
        String r = PostgresDialect.quote(role);
        if (!replication) {
            out.add(new Missing("the REPLICATION attribute (capture reads changes through a replication slot)",
                    "ALTER ROLE " + r + " REPLICATION"));
        }
        if (version < 150_000) {
            out.add(new Missing("the right to set session_replication_role, which PostgreSQL "
                    + version / 10_000 + " gives only to superusers",
                    "upgrade to PostgreSQL 15 or later, or run the mirror as a superuser"));
        } else if (!bool(c, "SELECT has_parameter_privilege('session_replication_role', 'SET')")) {
            out.add(new Missing("SET on parameter session_replication_role (apply sessions run as a replica)",
                    "GRANT SET ON PARAMETER session_replication_role TO " + r));
        }
        originFunctions(c, r, out);
        boolean mirrorSchema = bool(c, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '"
                + PostgresDialect.BOOKKEEPING_SCHEMA + "')");
        boolean hasPublication;
        try (PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = ?)")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                hasPublication = rs.getBoolean(1);
            }
        }
        if ((!mirrorSchema || !hasPublication)
                && !bool(c, "SELECT has_database_privilege(current_database(), 'CREATE')")) {
            out.add(new Missing("CREATE on the database (for the schema \"mirror\" and the publication)",
                    "GRANT CREATE ON DATABASE " + PostgresDialect.quote(string(c, "SELECT current_database()")) + " TO " + r));
        }
        for (String schema : schemas) {
            try (PreparedStatement ps = c.prepareStatement("SELECT has_schema_privilege(?, 'USAGE')"
                    + " AND has_schema_privilege(?, 'CREATE') FROM pg_namespace WHERE nspname = ?")) {
                ps.setString(1, schema);
                ps.setString(2, schema);
                ps.setString(3, schema);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && !rs.getBoolean(1)) {
                        out.add(new Missing("USAGE and CREATE on schema " + schema + " (the mirror replays the site's"
                                + " schema changes there)", "GRANT USAGE, CREATE ON SCHEMA " + PostgresDialect.quote(schema)
                                + " TO " + r));
                    }
                }
            }
        }
        owners(c, schemas, excluded, publication, r, out);
        return out;
    }

    /** EXECUTE on each replication-origin function the mirror calls (any of its signatures). */
    private static void originFunctions(Connection c, String role, List<Missing> out) throws SQLException {
        for (String function : MirrorRoleSql.ORIGIN_FUNCTIONS) {
            try (PreparedStatement ps = c.prepareStatement("SELECT p.oid::regprocedure::text,"
                    + " has_function_privilege(p.oid, 'EXECUTE') FROM pg_proc p"
                    + " WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proname = ? ORDER BY p.pronargs")) {
                ps.setString(1, function);
                String signature = null;
                boolean granted = false;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        signature = signature == null ? rs.getString(1) : signature;
                        granted |= rs.getBoolean(2);
                    }
                }
                if (signature != null && !granted) {
                    out.add(new Missing("EXECUTE on " + function + " (applied changes carry a replication origin,"
                            + " so capture does not send them back)",
                            "GRANT EXECUTE ON FUNCTION pg_catalog." + signature + " TO " + role));
                }
            }
        }
    }

    /**
     * The owner's rights on the mirrored tables and sequences (grouped by owning role) and on the
     * schema "mirror", what is in it, and the publication.
     */
    private static void owners(Connection c, List<String> schemas, List<String> excluded, String publication,
                               String role, List<Missing> out) throws SQLException {
        Map<String, List<String>> byOwner = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT n.nspname, n.nspname || '.' || cl.relname, cl.oid::regclass::text, cl.relkind, a.rolname,"
                        + " a.rolsuper FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace"
                        + " JOIN pg_roles a ON a.oid = cl.relowner"
                        + " WHERE (n.nspname = ANY (?) OR n.nspname = '" + PostgresDialect.BOOKKEEPING_SCHEMA + "')"
                        + " AND cl.relkind IN ('r', 'p', 'S') AND NOT pg_has_role(cl.relowner, 'USAGE')"
                        + " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
                        + " AND d.objid = cl.oid AND d.deptype IN ('a', 'i')) ORDER BY 1, 2")) {
            ps.setArray(1, c.createArrayOf("text", schemas.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (excluded.contains(rs.getString(2))) {
                        continue;
                    }
                    String kind = rs.getString(4).equals("S") ? "SEQUENCE" : "TABLE";
                    String owner = rs.getString(5);
                    if (rs.getBoolean(6) || rs.getString(1).equals(PostgresDialect.BOOKKEEPING_SCHEMA)) {
                        out.add(new Missing("ownership of " + rs.getString(2) + " (owned by " + owner + ")",
                                "ALTER " + kind + " " + rs.getString(3) + " OWNER TO " + role));
                    } else {
                        byOwner.computeIfAbsent(owner, k -> new ArrayList<>()).add(rs.getString(2));
                    }
                }
            }
        }
        byOwner.forEach((owner, tables) -> out.add(new Missing("the owner's rights on " + String.join(", ", tables)
                + " (owned by " + owner + "; the mirror writes every row, sets replica identities and replays"
                + " schema changes)", "GRANT " + PostgresDialect.quote(owner) + " TO " + role)));
        try (PreparedStatement ps = c.prepareStatement("SELECT a.rolname FROM pg_namespace n JOIN pg_roles a"
                + " ON a.oid = n.nspowner WHERE n.nspname = '" + PostgresDialect.BOOKKEEPING_SCHEMA
                + "' AND NOT pg_has_role(n.nspowner, 'USAGE')");
             ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
                out.add(new Missing("ownership of schema " + PostgresDialect.BOOKKEEPING_SCHEMA + " (owned by "
                        + rs.getString(1) + ")", "ALTER SCHEMA " + PostgresDialect.BOOKKEEPING_SCHEMA + " OWNER TO " + role));
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT p.oid::regprocedure::text FROM pg_proc p"
                + " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '"
                + PostgresDialect.BOOKKEEPING_SCHEMA + "' AND NOT pg_has_role(p.proowner, 'USAGE') ORDER BY 1");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Missing("ownership of function " + rs.getString(1) + " (the mirror replaces it with its"
                        + " settings at start)", "ALTER FUNCTION " + rs.getString(1) + " OWNER TO " + role));
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT a.rolname FROM pg_publication p JOIN pg_roles a"
                + " ON a.oid = p.pubowner WHERE p.pubname = ? AND NOT pg_has_role(p.pubowner, 'USAGE')")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    out.add(new Missing("ownership of publication " + publication + " (owned by " + rs.getString(1)
                            + ")", "ALTER PUBLICATION " + PostgresDialect.quote(publication) + " OWNER TO " + role));
                }
            }
        }
    }

    private static String currentUser(Connection c) throws SQLException {
        return string(c, "SELECT current_user");
    }

    private static boolean bool(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    private static String string(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getString(1);
        }
    }
}
