package org.activemirroring.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

import org.activemirroring.schema.MirroredTables;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every name each mirrored table has had on this mirror, so that a row written elsewhere under a
 * table's old name still finds the table after a rename (or a move to another mirrored schema)
 * made here, as {@link ColumnHistory} does for columns. A table keeps its oid across renames;
 * {@value #TABLE} holds (table oid, {@code schema.table} as row changes name it); the name it has
 * now is the catalog's.
 *
 * <ul>
 *   <li>Noted at each start for every table of the mirrored schemas, and by the schema-change
 *       trigger ({@link DdlReplication}) at every schema change of a table, whoever makes it:
 *       the site's own migrations and the applier's replay of another mirror's change alike.
 *       Entries of dropped tables go at the next start.</li>
 *   <li>A name that more than one table has had (one renamed away, another created or renamed
 *       into its place) means the one that got it last; a name a table has now is that table's.</li>
 *   <li>When a table's name changes, its rows' versions ({@code mirror.row_version}) move to the
 *       new name in the same transaction, so a change written elsewhere before the rename is
 *       still judged against the version the row has here. A rename made while the mirror was
 *       stopped is found and moved at the next start.</li>
 * </ul>
 */
public final class TableHistory {
    private static final Logger LOG = LoggerFactory.getLogger(TableHistory.class);

    /** The history table, in the plugin's own schema; never mirrored. */
    public static final String TABLE = PostgresDialect.BOOKKEEPING_SCHEMA + ".table_names";

    /** Creates the table; {@code noted} orders the names, the newest last. */
    static final String CREATE = "CREATE TABLE IF NOT EXISTS " + TABLE + " (relid oid NOT NULL, name text NOT NULL,"
            + " noted bigserial NOT NULL, PRIMARY KEY (relid, name))";

    /**
     * Notes the name of the table {@code r.objid} in the trigger function's loop over
     * {@code pg_event_trigger_ddl_commands()}, moving its row versions when the name changed. In
     * a block of its own: a failure costs the history one entry and never the recording of the
     * schema change. The function declares {@code tname} and {@code tprev}.
     */
    static final String TRIGGER_STEP = """
            IF r.classid = 'pg_catalog.pg_class'::pg_catalog.regclass THEN
                    BEGIN
                      SELECT n.nspname OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) k.relname INTO tname
                        FROM pg_catalog.pg_class k JOIN pg_catalog.pg_namespace n ON n.oid = k.relnamespace
                       WHERE k.oid = r.objid AND k.relkind IN ('r', 'p');
                      IF tname IS NOT NULL THEN
                        SELECT h.name INTO tprev FROM mirror.table_names h WHERE h.relid = r.objid
                         ORDER BY h.noted DESC LIMIT 1;
                        INSERT INTO mirror.table_names AS h (relid, name) VALUES (r.objid, tname)
                        ON CONFLICT (relid, name) DO UPDATE
                          SET noted = pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('mirror.table_names', 'noted'))
                          WHERE tprev IS DISTINCT FROM tname;
                        IF tprev IS NOT NULL AND tprev <> tname
                           AND pg_catalog.to_regclass('mirror.row_version') IS NOT NULL THEN
                          %s
                        END IF;
                      END IF;
                    EXCEPTION WHEN OTHERS THEN
                      RAISE WARNING 'ActiveMirroring could not note the name of %% (%%)', r.object_identity, SQLERRM;
                    END;
                  END IF;""".formatted(moveVersions("tprev", "tname"));

    private static final String LOOKUP = "SELECT n.nspname || '.' || k.relname FROM " + TABLE + " h"
            + " JOIN pg_catalog.pg_class k ON k.oid = h.relid JOIN pg_catalog.pg_namespace n ON n.oid = k.relnamespace"
            + " WHERE h.name = ? ORDER BY h.noted DESC LIMIT 1";

    private TableHistory() {
    }

    /**
     * PL/pgSQL that moves the row versions kept under the table name {@code before} to
     * {@code now} (two expressions); where a row has versions under both, the one under the old
     * name, which the table's rows carried until the rename, is kept.
     */
    private static String moveVersions(String before, String now) {
        return "DELETE FROM mirror.row_version v WHERE v.tbl = " + now + " AND EXISTS (SELECT 1 FROM mirror.row_version o"
                + " WHERE o.tbl = " + before + " AND o.pk = v.pk); UPDATE mirror.row_version SET tbl = " + now
                + " WHERE tbl = " + before + ";";
    }

    /**
     * The statements that create the table, drop the entries of tables gone, move the row
     * versions of tables renamed while no trigger noted it, and note the current name of every
     * table of the mirrored schemas; each can run again.
     */
    static List<String> statements(MirroredTables mirrored) {
        String schemas = DdlReplication.array(mirrored.schemas());
        String current = "SELECT k.oid AS relid, n.nspname || '.' || k.relname AS name FROM pg_catalog.pg_class k"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = k.relnamespace"
                + " WHERE n.nspname = ANY (" + schemas + ") AND k.relkind IN ('r', 'p')";
        String renamed = "SELECT c.name AS now, l.name AS before FROM (" + current + ") c"
                + " JOIN (SELECT DISTINCT ON (relid) relid, name FROM " + TABLE + " ORDER BY relid, noted DESC) l"
                + " ON l.relid = c.relid WHERE l.name <> c.name";
        String move = """
                DO $am$ DECLARE m record; BEGIN
                  IF pg_catalog.to_regclass('mirror.row_version') IS NULL THEN RETURN; END IF;
                  FOR m IN %s LOOP
                    %s
                  END LOOP;
                END $am$""".formatted(renamed, moveVersions("m.before", "m.now"));
        return List.of(CREATE,
                "DELETE FROM " + TABLE + " h WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class k WHERE k.oid = h.relid)",
                move,
                "INSERT INTO " + TABLE + " AS h (relid, name) SELECT relid, name FROM (" + current + ") c"
                        + " ORDER BY relid ON CONFLICT (relid, name) DO UPDATE"
                        + " SET noted = nextval(pg_get_serial_sequence('" + TABLE + "', 'noted'))"
                        + " WHERE h.noted < (SELECT max(x.noted) FROM " + TABLE + " x WHERE x.relid = h.relid)");
    }

    /**
     * The name the table that last had the name {@code former} ({@code schema.table}) has now, or
     * null when no table here ever had it. Runs in the caller's transaction, under a savepoint:
     * without the history table (a database the plugin has not prepared) it knows nothing, and the
     * transaction goes on.
     */
    static String current(Connection c, String former) throws SQLException {
        return PostgresDialect.underSavepoint(c, () -> {
            try (PreparedStatement ps = c.prepareStatement(LOOKUP)) {
                ps.setString(1, former);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        }, e -> {
            LOG.warn("Cannot read {} for {} ({}): rows naming a table this mirror lacks wait for a schema change",
                    TABLE, former, e.getMessage());
            return null;
        });
    }
}
