package org.activemirroring.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.activemirroring.change.RowChange;
import org.activemirroring.schema.MirroredTables;
import org.activemirroring.schema.SqlStatements;
import org.activemirroring.sequences.SequenceKeeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Schema changes travel with the data (PostgreSQL). Logical decoding carries no DDL, so an event
 * trigger records each schema change of the mirrored schemas, as its statement text, into
 * {@code mirror.ddl} in the transaction that makes it. That table is published like the heartbeat:
 * the row reaches the other mirrors inside the same ChangeSet as the row changes around it, and
 * the applier runs the statement there ({@link #apply}) in that order.
 *
 * <ul>
 *   <li>Not recorded: changes to this plugin's own schema and to temporary objects, publications,
 *       subscriptions and sequence settings (each mirror keeps its sequences interleaved itself),
 *       whatever a session with {@code session_replication_role = replica} runs (the applier
 *       replaying a peer's statement, a join creating the schema): no echo; and the plugin's own
 *       work on each mirror ({@link #markInternal}).</li>
 *   <li>A table created in a mirrored schema with a primary key joins the publication in the
 *       same transaction, on every mirror (the trigger fires for the applier's replay too), so
 *       its rows are captured from the first one, without a restart; a sequence created there
 *       (serial, identity) hands out this mirror's keys at once, as {@link SequenceKeeper} keeps
 *       them.</li>
 *   <li>Each schema change of a table also notes the names its columns have now
 *       ({@link ColumnHistory}), in the applier's replay too: a row written elsewhere under a
 *       column's old name finds the column after a rename or drop made here.</li>
 *   <li>Sites run the same migrations on every mirror: a replayed statement whose effect is there
 *       already (a table, column, index or object that exists, or one to drop that is gone) is
 *       skipped and logged, so each migration takes effect once per mirror.</li>
 *   <li>The statement text is the query string the client sent ({@code current_query()}); a
 *       replay runs only its schema-changing statements ({@link SqlStatements}): its rows travel
 *       as row changes, and transaction control is the applier's. Schema changes made inside a
 *       {@code DO} block or a function are not replayed (the replaying mirror says so).</li>
 * </ul>
 *
 * <p>Creating an event trigger needs a superuser; without one the mirror runs on and says that
 * schema changes are not mirrored. A mirror running as a role that is not a superuser gets them
 * from the block {@link MirrorRoleSql} prints: the functions belong to that role (which replaces
 * them with its settings at each start, and as whom they run: SECURITY DEFINER, so a site role
 * making a schema change can record it), the triggers are a superuser's.
 */
public final class DdlReplication {
    private static final Logger LOG = LoggerFactory.getLogger(DdlReplication.class);

    /** The table the trigger records statements into; published and captured. */
    public static final String TABLE = PostgresDialect.BOOKKEEPING_SCHEMA + ".ddl";

    /**
     * SQLStates meaning the statement's effect is there already: a migration every mirror ran
     * itself. Duplicate table/column/object/schema/function.
     */
    static final Set<String> ALREADY_THERE = Set.of("42P07", "42701", "42710", "42P06", "42723");

    /**
     * SQLStates meaning an object is missing: "already done" only for a statement that drops or
     * renames (every mirror ran it); for anything else the schema differs, and the change is held.
     */
    static final Set<String> ALREADY_GONE = Set.of("42P01", "42703", "42704", "42883", "3F000");

    private static final Pattern CONCURRENTLY = Pattern.compile("(?i)\\bCONCURRENTLY\\b");

    private DdlReplication() {
    }

    /**
     * Marks the session as the plugin's own work: its schema changes (validating a joined mirror's
     * foreign keys, making an index the replica identity) are every mirror's own and not recorded.
     */
    public static void markInternal(Statement s) throws SQLException {
        s.execute("SET activemirroring.internal = on");
    }

    /** Whether a captured row change is a recorded schema change. */
    public static boolean isDdl(RowChange row) {
        return TABLE.equals(row.table());
    }

    /**
     * Creates the table and (re)creates the trigger functions for this configuration, on a
     * connection in auto-commit mode. Returns a warning when the event triggers cannot be created
     * (not a superuser), else null.
     */
    public static String install(Connection c, MirroredTables mirrored, String publication, int slot, int modulus)
            throws SQLException {
        List<String> objects = objectStatements(mirrored, publication, slot, modulus);
        try (Statement s = c.createStatement()) {
            for (String sql : objects) {
                s.execute(sql);
            }
            try {
                s.execute(TRIGGERS);
            } catch (SQLException e) {
                return "schema changes are not mirrored: creating the event triggers failed (" + e.getMessage()
                        + "); have a superuser run the block that org.activemirroring.postgres.MirrorRoleSql prints"
                        + " (README: Running as a role that is not a superuser), or this: " + TRIGGERS;
            }
        }
        return null;
    }

    /**
     * Creates the event triggers unless they exist and makes them fire in every session (also
     * the applier's replica sessions, where the functions only add new tables to the
     * publication). Needs a superuser unless both are there already; the functions they call may
     * belong to the mirror's role.
     */
    static final String TRIGGERS = """
            DO $am$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtname = 'am_capture_ddl') THEN
                CREATE EVENT TRIGGER am_capture_ddl ON ddl_command_end EXECUTE FUNCTION mirror.capture_ddl();
              END IF;
              IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtname = 'am_capture_drop') THEN
                CREATE EVENT TRIGGER am_capture_drop ON sql_drop EXECUTE FUNCTION mirror.capture_drop();
              END IF;
              IF EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtname = 'am_capture_ddl' AND evtenabled <> 'A')
              THEN ALTER EVENT TRIGGER am_capture_ddl ENABLE ALWAYS; END IF;
              IF EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtname = 'am_capture_drop' AND evtenabled <> 'A')
              THEN ALTER EVENT TRIGGER am_capture_drop ENABLE ALWAYS; END IF;
            END $am$""";

    /**
     * The statements that create the table and (re)create the trigger functions for this
     * configuration; whoever runs them owns the functions, which run as their owner.
     */
    static List<String> objectStatements(MirroredTables mirrored, String publication, int slot, int modulus) {
        String table = "CREATE TABLE IF NOT EXISTS " + TABLE + " (id bigserial PRIMARY KEY, txid bigint NOT NULL"
                + " DEFAULT txid_current(), tag text NOT NULL, search_path text NOT NULL, statement text NOT NULL,"
                + " recorded_at timestamptz NOT NULL DEFAULT now())";
        // Who made the change (the SET ROLE role, else the login role; current_user is the
        // function's owner here): a replay runs as that role, so what it creates belongs to the site.
        String roleColumn = "ALTER TABLE " + TABLE + " ADD COLUMN IF NOT EXISTS made_by text";
        String schemas = array(mirrored.schemas());
        String excluded = array(mirrored.excluded());
        String pub = PostgresDialect.literal(publication);
        // Everything qualified with pg_catalog: SECURITY DEFINER, and no SET search_path, since the
        // caller's search path is what a replay needs.
        String record = """
                IF pg_catalog.current_setting('session_replication_role') = 'replica'
                   OR pg_catalog.current_setting('activemirroring.internal', true) = 'on' THEN RETURN; END IF;
                q := pg_catalog.current_query();
                IF EXISTS (SELECT 1 FROM mirror.ddl d WHERE d.txid = pg_catalog.txid_current() AND d.statement = q)
                THEN RETURN; END IF;
                INSERT INTO mirror.ddl (tag, search_path, statement, made_by)
                VALUES (tg_tag, pg_catalog.current_setting('search_path'), q,
                        CASE pg_catalog.current_setting('role') WHEN 'none' THEN session_user::text
                             ELSE pg_catalog.current_setting('role') END);
                """;
        String commandEnd = """
                CREATE OR REPLACE FUNCTION mirror.capture_ddl() RETURNS event_trigger LANGUAGE plpgsql
                SECURITY DEFINER AS $am$
                DECLARE r record; q text; mirrored boolean := false; base bigint; tname text; tprev text;
                BEGIN
                  IF tg_tag LIKE 'DROP %%' OR tg_tag LIKE '%% PUBLICATION' OR tg_tag LIKE '%% SUBSCRIPTION'
                     OR tg_tag = 'ALTER SEQUENCE' THEN RETURN; END IF;
                  FOR r IN SELECT * FROM pg_catalog.pg_event_trigger_ddl_commands() LOOP
                    IF r.schema_name = ANY (%1$s) THEN
                      mirrored := true;
                      -- Every name a column gets, for rows written elsewhere under an old one (ColumnHistory).
                      %7$s
                      -- Every name a table gets, its row versions following it (TableHistory).
                      %8$s
                      IF %6$s >= 0 AND r.object_type = 'sequence' AND r.command_tag <> 'ALTER SEQUENCE' THEN
                        -- A new sequence hands out this mirror's keys from its first value on.
                        BEGIN
                          SELECT GREATEST(q.seqstart, q.seqmin) INTO base FROM pg_catalog.pg_sequence q
                           WHERE q.seqrelid = r.objid;
                          EXECUTE pg_catalog.format('ALTER SEQUENCE %%s INCREMENT BY %5$s', r.object_identity);
                          PERFORM pg_catalog.setval(r.objid::regclass,
                                  base + ((%6$s - base) %% %5$s + %5$s) %% %5$s, false);
                        EXCEPTION WHEN OTHERS THEN
                          RAISE WARNING 'ActiveMirroring: sequence %% is interleaved within a second (%%)', r.object_identity, SQLERRM;
                        END;
                      END IF;
                      IF r.object_type = 'table' AND NOT (pg_catalog.replace(r.object_identity, '"', '') = ANY (%2$s))
                         AND EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = r.objid AND i.indisprimary)
                         AND EXISTS (SELECT 1 FROM pg_catalog.pg_publication p WHERE p.pubname = %3$s)
                         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_publication p
                                         ON p.oid = pr.prpubid WHERE p.pubname = %3$s AND pr.prrelid = r.objid) THEN
                        BEGIN
                          EXECUTE pg_catalog.format('ALTER PUBLICATION %%I ADD TABLE %%s', %3$s, r.object_identity);
                        EXCEPTION WHEN OTHERS THEN
                          RAISE WARNING 'ActiveMirroring: %% is not mirrored yet (%%); restart the mirror', r.object_identity, SQLERRM;
                        END;
                      END IF;
                    END IF;
                  END LOOP;
                  IF NOT mirrored THEN RETURN; END IF;
                  %4$s
                EXCEPTION WHEN OTHERS THEN
                  RAISE WARNING 'ActiveMirroring could not record a schema change (%%): other mirrors will miss it', SQLERRM;
                END $am$
                """.formatted(schemas, excluded, pub, record, modulus, slot, ColumnHistory.TRIGGER_STEP,
                        TableHistory.TRIGGER_STEP);
        String drop = """
                CREATE OR REPLACE FUNCTION mirror.capture_drop() RETURNS event_trigger LANGUAGE plpgsql
                SECURITY DEFINER AS $am$
                DECLARE q text;
                BEGIN
                  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger_dropped_objects() o
                                 WHERE o.schema_name = ANY (%1$s) AND NOT o.is_temporary) THEN RETURN; END IF;
                  %2$s
                EXCEPTION WHEN OTHERS THEN
                  RAISE WARNING 'ActiveMirroring could not record a schema change (%%): other mirrors will miss it', SQLERRM;
                END $am$
                """.formatted(schemas, record);
        List<String> out = new java.util.ArrayList<>(List.of(table, roleColumn));
        out.addAll(ColumnHistory.statements(mirrored)); // before the function that writes it
        out.addAll(TableHistory.statements(mirrored));
        out.add(commandEnd);
        out.add(drop);
        return out;
    }

    /**
     * Runs a recorded schema change in the applier's open transaction, under the search path it
     * was made with. A statement whose effect is there already is skipped (see the class comment).
     *
     * @return whether the statement changed this database
     * @throws SQLException when it fails otherwise: the ChangeSet is not applied and is tried again
     */
    public static boolean apply(Connection c, RowChange row, String node) throws SQLException {
        String statement = row.after().get("statement");
        String searchPath = row.after().get("search_path");
        String tag = row.after().get("tag");
        if (statement == null || searchPath == null) {
            throw new SQLException("Recorded schema change " + row.key() + " has no statement or search path");
        }
        List<String> changes = SqlStatements.split(statement).stream().filter(SqlStatements::isSchemaChange).toList();
        if (changes.isEmpty()) {
            if (tag != null && (tag.contains("SEQUENCE") || tag.equals("ALTER TABLE"))) {
                LOG.info("{} from another mirror only sets sequences, which each mirror keeps itself: {}",
                        tag, abbreviate(statement));
            } else {
                LOG.warn("A schema change {} from another mirror was made inside {} and is not replayed"
                        + " here; make schema changes with plain statements, or run them on every mirror", tag,
                        abbreviate(statement));
            }
            return false;
        }
        boolean changed = false;
        String saved = PostgresSchemaScript.setSearchPath(c, searchPath, true);
        boolean asMaker = becomeMaker(c, row.after().get("made_by"));
        try {
            for (String one : changes) {
                changed |= applyOne(c, one, tag, node);
            }
        } finally {
            if (asMaker) {
                try (Statement s = c.createStatement()) {
                    s.execute("SET LOCAL ROLE NONE");
                }
            }
            PostgresSchemaScript.setSearchPath(c, saved, true);
        }
        return changed;
    }

    /**
     * Runs the replay as the role that made the change where this session may (a mirror role
     * that is not a superuser is a member of the site's roles, see {@link MirrorRoleSql}), so
     * that a table it creates belongs to the site here as on its origin, not to the mirror.
     * Otherwise (the role does not exist here, a superuser made the change, or the applier is that
     * role) the applier's own role runs it.
     */
    private static boolean becomeMaker(Connection c, String maker) throws SQLException {
        if (maker == null || maker.isEmpty()) {
            return false;
        }
        try (java.sql.PreparedStatement ps = c.prepareStatement("SELECT a.rolname <> current_user AND NOT a.rolsuper"
                + " AND pg_has_role(a.oid, 'MEMBER') FROM pg_roles a WHERE a.rolname = ?")) {
            ps.setString(1, maker);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                if (!rs.next() || !rs.getBoolean(1)) {
                    return false;
                }
            }
        }
        try (Statement s = c.createStatement()) {
            s.execute("SET LOCAL ROLE " + PostgresDialect.quote(maker));
        }
        return true;
    }

    /** Runs one statement under a savepoint; false when its effect was there already. */
    private static boolean applyOne(Connection c, String statement, String tag, String node) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SAVEPOINT am_ddl");
            try {
                // Inside a transaction, as everything the applier does: no CONCURRENTLY.
                s.execute(CONCURRENTLY.matcher(statement).replaceAll(""));
                s.execute("RELEASE SAVEPOINT am_ddl");
                LOG.info("Applied schema change {}: {}", tag, abbreviate(statement));
                return true;
            } catch (SQLException e) {
                s.execute("ROLLBACK TO SAVEPOINT am_ddl"); // the transaction goes on, and this error is the one reported
                if (!alreadyDone(statement, e.getSQLState())) {
                    throw new SQLException("Schema change " + tag + " from another mirror failed here: " + e.getMessage()
                            + "; statement: " + abbreviate(statement), e.getSQLState(), e);
                }
                LOG.info("Schema change {} is here already ({}), skipped: {}", tag, e.getMessage(),
                        abbreviate(statement));
                return false;
            }
        }
    }

    /** Whether failing with {@code sqlState} means this mirror has the statement's effect already. */
    private static boolean alreadyDone(String statement, String sqlState) {
        String upper = statement.toUpperCase(java.util.Locale.ROOT);
        boolean dropsOrRenames = upper.stripLeading().startsWith("DROP ") || upper.contains(" DROP ")
                || upper.contains(" RENAME ");
        return ALREADY_THERE.contains(sqlState) || dropsOrRenames && ALREADY_GONE.contains(sqlState);
    }

    private static String abbreviate(String sql) {
        String oneLine = sql.replaceAll("\\s+", " ").trim();
        return oneLine.length() <= 200 ? oneLine : oneLine.substring(0, 200) + "...";
    }

    /** {@code values} as an SQL text array literal (names of mirrored schemas, excluded tables). */
    static String array(List<String> values) {
        return values.isEmpty() ? "ARRAY[]::text[]"
                : values.stream().map(PostgresDialect::literal).collect(Collectors.joining(", ", "ARRAY[", "]::text[]"));
    }

}
