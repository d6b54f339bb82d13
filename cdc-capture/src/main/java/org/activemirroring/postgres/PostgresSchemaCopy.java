package org.activemirroring.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;

import org.activemirroring.db.SchemaCopy;

/**
 * PostgreSQL's schema copy for a join: {@link PostgresSchemaScript} read from the catalogs and
 * run, statements told apart by the text that script writes, autovacuum as the background
 * maintenance paused on freshly loaded tables.
 */
public final class PostgresSchemaCopy implements SchemaCopy {

    /** Reads under a savepoint, so a failure leaves the snapshot's transaction usable. */
    @Override
    public Script read(Connection donor, List<String> tables) throws SQLException {
        try (Statement st = donor.createStatement()) {
            st.execute("SAVEPOINT ddl");
        }
        try {
            PostgresSchemaScript ddl = PostgresSchemaScript.read(donor, tables);
            try (Statement st = donor.createStatement()) {
                st.execute("RELEASE SAVEPOINT ddl");
            }
            return new Script(ddl.beforeData(), ddl.afterData());
        } catch (SQLException e) {
            try (Statement st = donor.createStatement()) {
                st.execute("ROLLBACK TO SAVEPOINT ddl");
            }
            throw e;
        }
    }

    @Override
    public void run(Connection target, List<String> statements) throws SQLException {
        PostgresSchemaScript.run(target, statements);
    }

    /** The script writes names as {@code quote_ident} does. */
    @Override
    public String scriptName(Connection c, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT quote_ident(?) || '.' || quote_ident(?)")) {
            int dot = table.indexOf('.');
            ps.setString(1, table.substring(0, dot));
            ps.setString(2, table.substring(dot + 1));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** A key, unique, check or exclusion constraint or an index of the table, as the script writes them. */
    @Override
    public boolean buildsFromItsTable(String statement, String scriptName) {
        if (!runsBeside(statement)) {
            return false;
        }
        return statement.startsWith("ALTER TABLE " + scriptName + " ADD CONSTRAINT ")
                || statement.contains(" ON " + scriptName + " USING ")
                || statement.contains(" ON ONLY " + scriptName + " USING ");
    }

    @Override
    public boolean runsBeside(String statement) {
        String u = statement.toUpperCase(Locale.ROOT);
        return u.startsWith("CREATE INDEX") || u.startsWith("CREATE UNIQUE INDEX")
                || (u.startsWith("ALTER TABLE") && u.contains(" ADD CONSTRAINT ") && !u.contains(" FOREIGN KEY "));
    }

    /** The script adds each foreign key NOT VALID, then validates it in a statement of its own. */
    @Override
    public boolean isValidation(String statement) {
        return statement.toUpperCase(Locale.ROOT).contains(" VALIDATE CONSTRAINT ");
    }

    /** undefined_object or undefined_table: gone; foreign_key_violation: violated. */
    @Override
    public ValidationFailure validationFailure(SQLException e) {
        String state = e.getSQLState();
        if ("42704".equals(state) || "42P01".equals(state)) {
            return ValidationFailure.GONE;
        }
        return "23503".equals(state) ? ValidationFailure.VIOLATED : ValidationFailure.OTHER;
    }

    @Override
    public boolean exists(Connection c, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NULL")) {
            ps.setString(1, PostgresDialect.quoteQualified(table));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return !rs.getBoolean(1);
            }
        }
    }

    /**
     * Freshly loaded tables are what autovacuum picks first, and each key, index or foreign key
     * statement that needed a lock autovacuum held waited for deadlock_timeout (1 s by default)
     * before PostgreSQL cancelled autovacuum (benchmark: three such waits in one join). A
     * partitioned table has no storage of its own; a table whose {@code autovacuum_enabled} the
     * site set keeps it.
     */
    @Override
    public boolean pauseMaintenance(Connection c, String table) throws SQLException {
        String quoted = PostgresDialect.quoteQualified(table);
        try (PreparedStatement explicit = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM unnest(reloptions) o"
                + " WHERE o LIKE 'autovacuum_enabled=%') FROM pg_class WHERE oid = ?::regclass AND relkind = 'r'")) {
            explicit.setString(1, quoted);
            try (ResultSet rs = explicit.executeQuery()) {
                if (!rs.next() || rs.getBoolean(1)) {
                    return false;
                }
            }
        }
        try (Statement s = c.createStatement()) {
            s.execute("ALTER TABLE " + quoted + " SET (autovacuum_enabled = off)");
        }
        return true;
    }

    @Override
    public void resumeMaintenance(Connection c, String table) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("ALTER TABLE " + PostgresDialect.quoteQualified(table) + " RESET (autovacuum_enabled)");
        }
    }

    @Override
    public void prepareBuildSession(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SET maintenance_work_mem = '128MB'");
            s.execute("SET synchronous_commit = off");
        }
    }

    @Override
    public void keepSchemaChangesLocal(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            DdlReplication.markInternal(s);
        }
    }
}
