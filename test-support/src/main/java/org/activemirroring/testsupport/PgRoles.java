package org.activemirroring.testsupport;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * Roles that are not superusers on a test server, so tests run as a real site and a real mirror
 * would: a site role owning the database and its tables, and a mirror role made with the SQL the
 * plugin prints ({@code MirrorRoleSql}, passed in: this module does not see the plugin).
 * Each role's password is its name.
 */
public final class PgRoles {
    private PgRoles() {
    }

    /**
     * Creates login role {@code role} (not a superuser) owning the test database, so that on
     * PostgreSQL 15+ it owns schema public too, as a site's application role usually does.
     *
     * @param admin the server as its superuser
     * @return the server as that role
     */
    public static PgServer siteRole(PgServer admin, String role) throws SQLException {
        run(admin, List.of("CREATE ROLE \"" + role + "\" LOGIN PASSWORD '" + role + "'",
                "ALTER DATABASE \"" + admin.database() + "\" OWNER TO \"" + role + "\"",
                "GRANT USAGE, CREATE ON SCHEMA public TO \"" + role + "\""));
        return admin.as(role, role);
    }

    /**
     * Runs {@code roleSql} (the plugin's statements for a mirror role) as the superuser, then
     * gives the role its password.
     *
     * @return the server as that role
     */
    public static PgServer mirrorRole(PgServer admin, String role, List<String> roleSql) throws SQLException {
        run(admin, roleSql);
        run(admin, List.of("ALTER ROLE \"" + role + "\" PASSWORD '" + role + "'"));
        return admin.as(role, role);
    }

    /** Runs each statement in auto-commit mode on {@code server}'s test database. */
    public static void run(PgServer server, List<String> statements) throws SQLException {
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            for (String sql : statements) {
                try {
                    s.execute(sql);
                } catch (SQLException e) {
                    throw new SQLException(e.getMessage() + " in: " + sql, e.getSQLState(), e);
                }
            }
        }
    }
}
