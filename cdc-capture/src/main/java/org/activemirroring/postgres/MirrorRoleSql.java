package org.activemirroring.postgres;

import java.util.ArrayList;
import java.util.List;

import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.config.ConfigOption;
import org.activemirroring.schema.MirroredTables;

/**
 * Prints the SQL that makes a PostgreSQL role able to run a mirror without being a superuser.
 * A superuser runs it once per site database, connected to that database, after the site's
 * schema exists (run it again after adding a schema, or when the role is new):
 *
 * <pre>
 * java -cp 'WEB-INF/lib/*' org.activemirroring.postgres.MirrorRoleSql am_mirror site public &gt; mirror-role.sql
 * psql -d site -f mirror-role.sql
 * </pre>
 *
 * <p>What the role gets, and why ({@link PrivilegeCheck} names whatever is missing at start):
 * <ul>
 *   <li>{@code LOGIN REPLICATION}: capture reads the write-ahead log through a replication slot.</li>
 *   <li>{@code CREATE} on the database: for the publication and the {@code mirror} schema.</li>
 *   <li>{@code SET} on {@code session_replication_role} (PostgreSQL 15 and later): apply and join
 *       sessions run as a replica, as PostgreSQL's own apply workers do, so the site's triggers do
 *       not fire twice.</li>
 *   <li>{@code EXECUTE} on the replication-origin functions the mirror calls
 *       ({@link #ORIGIN_FUNCTIONS}): applied changes carry an origin, so capture does not send
 *       them back.</li>
 *   <li>The owner's rights on the mirrored schemas' tables and sequences: the mirror writes
 *       every row, sets replica identities and sequence increments, empties tables for a join and
 *       replays the site's schema changes. It becomes a member of each role that owns them; what
 *       a superuser owns is handed to it.</li>
 *   <li>The {@code mirror} schema and what is in it, the publication, and the functions of
 *       {@link DdlReplication}; the event triggers calling those functions belong to the superuser
 *       (only a superuser can create them).</li>
 * </ul>
 * Every statement can run again: the block brings an existing setup (also one a superuser mirror
 * made) to this state.
 */
public final class MirrorRoleSql {
    /** The replication-origin functions the mirror calls ({@link PostgresDialect#prepareSession}). */
    static final List<String> ORIGIN_FUNCTIONS = List.of("pg_replication_origin_create",
            "pg_replication_origin_session_setup");

    private MirrorRoleSql() {
    }

    /**
     * Prints the script for {@code <role> <database> [schema,schema...]} (schemas default to
     * {@code public}) on standard output.
     */
    public static void main(String[] args) {
        if (args.length < 2 || args.length > 4) {
            System.err.println("Usage: MirrorRoleSql <role> <database> [schemas, comma-separated, default public]"
                    + " [publication, default " + CaptureConfig.PUBLICATION.defaultValue() + "]"
                    + "\nPrints the SQL a superuser runs in <database> so that <role> can run a mirror there"
                    + " (use the mirror's mirror.db.schemas and mirror.capture.publication).");
            System.exit(2);
        }
        List<String> schemas = args.length >= 3 ? ConfigOption.splitCommaList(args[2]) : List.of("public");
        String publication = args.length == 4 ? args[3] : CaptureConfig.PUBLICATION.defaultValue();
        try {
            System.out.print(script(args[0], args[1], schemas, publication));
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
        }
    }

    /** The statements of {@link #statements} as a psql script that stops at the first error. */
    public static String script(String role, String database, List<String> schemas, String publication) {
        StringBuilder sb = new StringBuilder();
        sb.append("-- ActiveMirroring: lets role ").append(role).append(" run a mirror of database ").append(database)
                .append(" without being a superuser.\n-- Run as a superuser: psql -d ").append(database)
                .append(" -f this-file. Then set the role's password: \\password ").append(role)
                .append("\n\\set ON_ERROR_STOP on\nBEGIN;\n");
        for (String statement : statements(role, database, schemas, publication)) {
            sb.append(statement).append(";\n");
        }
        return sb.append("COMMIT;\n").toString();
    }

    /**
     * The statements a superuser runs, connected to {@code database}, each with a comment saying
     * why; in this order, each one on its own (they can run in one transaction).
     *
     * @throws IllegalArgumentException for an empty or over-long name, or the schema "mirror"
     */
    public static List<String> statements(String role, String database, List<String> schemas, String publication) {
        check("role", role);
        check("database", database);
        check("publication", publication);
        if (schemas.isEmpty() || schemas.stream().anyMatch(s -> s.equalsIgnoreCase(PostgresDialect.BOOKKEEPING_SCHEMA))) {
            throw new IllegalArgumentException("Invalid schemas " + schemas + ": list the schemas the mirror mirrors"
                    + " (mirror.db.schemas), not 'mirror', which holds its own bookkeeping");
        }
        schemas.forEach(s -> check("schema", s));
        String r = PostgresDialect.quote(role);
        String rl = PostgresDialect.literal(role);
        String schemaArray = schemas.stream().map(PostgresDialect::literal)
                .collect(java.util.stream.Collectors.joining(", ", "ARRAY[", "]::text[]"));
        String pub = PostgresDialect.literal(publication);
        List<String> out = new ArrayList<>();
        out.add("-- Stop unless connected to the site's database: grants on schemas and tables are per database\n"
                + "DO $am$ BEGIN IF pg_catalog.current_database() <> " + PostgresDialect.literal(database) + " THEN"
                + " RAISE EXCEPTION 'connect to database %, not %', " + PostgresDialect.literal(database)
                + ", pg_catalog.current_database(); END IF; END $am$");
        out.add("DO $am$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = " + rl + ") THEN"
                + " CREATE ROLE " + r + "; END IF; END $am$");
        out.add("-- Capture reads the write-ahead log through a replication slot\nALTER ROLE " + r
                + " LOGIN REPLICATION");
        out.add("-- Capture creates its publication, the mirror its schema \"mirror\"\nGRANT CONNECT, CREATE ON DATABASE "
                + PostgresDialect.quote(database) + " TO " + r);
        out.add("-- Apply sessions run as a replica (no site triggers twice); PostgreSQL 15 and later\n"
                + "GRANT SET ON PARAMETER session_replication_role TO " + r);
        out.add("-- Applied changes carry a replication origin, so capture does not send them back\n"
                + "DO $am$ DECLARE f regprocedure; BEGIN\n"
                + "  FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'pg_catalog'::regnamespace\n"
                + "           AND p.proname IN (" + String.join(", ", ORIGIN_FUNCTIONS.stream().map(PostgresDialect::literal).toList())
                + ") LOOP\n"
                + "    EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %I', f, " + rl + ");\n"
                + "  END LOOP;\nEND $am$");
        for (String schema : schemas) {
            out.add("GRANT USAGE, CREATE ON SCHEMA " + PostgresDialect.quote(schema) + " TO " + r);
        }
        out.add("-- The owner's rights on the mirrored tables and sequences: membership in each owning role,\n"
                + "-- and what a superuser owns goes to the mirror's role\n"
                + siteOwnership(rl, schemaArray));
        out.add("CREATE SCHEMA IF NOT EXISTS " + PostgresDialect.BOOKKEEPING_SCHEMA + " AUTHORIZATION " + r);
        out.add("ALTER SCHEMA " + PostgresDialect.BOOKKEEPING_SCHEMA + " OWNER TO " + r);
        out.add("-- What a mirror that ran as a superuser made in schema \"mirror\", and its publication\n"
                + bookkeepingOwnership(rl, pub));
        out.add("-- Schema changes: the trigger functions belong to the role (it replaces them with its settings at\n"
                + "-- each start); the event triggers need a superuser\nSET ROLE " + r);
        MirroredTables mirrored = MirroredTables.configured(schemas, List.of());
        out.addAll(DdlReplication.objectStatements(mirrored, publication, -1, 2));
        out.add("RESET ROLE");
        out.add(DdlReplication.TRIGGERS);
        return out;
    }

    /**
     * A DO block giving {@code role} the owner's rights on the tables and sequences of the
     * mirrored schemas: membership in each owning role, or the object itself where a superuser
     * owns it (membership in a superuser role would not give those rights). Sequences owned by a
     * table follow the table.
     */
    private static String siteOwnership(String role, String schemaArray) {
        return """
                DO $am$ DECLARE o record; me oid := (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = %1$s);
                BEGIN
                  FOR o IN %2$s LOOP
                    IF o.rolsuper THEN
                      EXECUTE pg_catalog.format('ALTER %%s %%s OWNER TO %%I',
                              CASE o.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, o.obj, %1$s);
                    ELSIF NOT pg_catalog.pg_has_role(me, o.relowner, 'USAGE') THEN
                      EXECUTE pg_catalog.format('GRANT %%s TO %%I', o.relowner::regrole, %1$s);
                    END IF;
                  END LOOP;
                END $am$""".formatted(role, relations("n.nspname = ANY (" + schemaArray + ")"));
    }

    /**
     * A DO block handing {@code role} what a mirror that ran as another role made: the tables,
     * sequences and functions of schema "mirror", and the publication.
     */
    private static String bookkeepingOwnership(String role, String publication) {
        return """
                DO $am$ DECLARE o record; me oid := (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = %1$s);
                BEGIN
                  FOR o IN %2$s LOOP
                    EXECUTE pg_catalog.format('ALTER %%s %%s OWNER TO %%I',
                            CASE o.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, o.obj, %1$s);
                  END LOOP;
                  FOR o IN SELECT p.oid::regprocedure AS obj FROM pg_catalog.pg_proc p
                           WHERE p.pronamespace = %3$s::regnamespace AND p.proowner <> me LOOP
                    EXECUTE pg_catalog.format('ALTER FUNCTION %%s OWNER TO %%I', o.obj, %1$s);
                  END LOOP;
                  FOR o IN SELECT pubname FROM pg_catalog.pg_publication WHERE pubname = %4$s AND pubowner <> me LOOP
                    EXECUTE pg_catalog.format('ALTER PUBLICATION %%I OWNER TO %%I', o.pubname, %1$s);
                  END LOOP;
                END $am$""".formatted(role, relations("n.nspname = " + BOOKKEEPING), BOOKKEEPING, publication);
    }

    private static final String BOOKKEEPING = PostgresDialect.literal(PostgresDialect.BOOKKEEPING_SCHEMA);

    /** Tables and sequences (not owned by a table) in the schemas {@code where} selects, not the role's. */
    private static String relations(String where) {
        return "SELECT c.oid::regclass AS obj, c.relkind, c.relowner, a.rolsuper"
                + "\n           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                + "\n           JOIN pg_catalog.pg_roles a ON a.oid = c.relowner"
                + "\n           WHERE " + where + " AND c.relkind IN ('r', 'p', 'S') AND c.relowner <> me"
                + "\n             AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_class'::regclass"
                + "\n                             AND d.objid = c.oid AND d.deptype IN ('a', 'i'))";
    }

    private static void check(String what, String name) {
        if (name == null || name.isBlank() || name.length() > 63 || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("Invalid " + what + " name '" + name + "': give 1-63 characters,"
                    + " as PostgreSQL names it");
        }
    }
}
