package org.activemirroring.postgres;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.activemirroring.db.FormerColumns;
import org.activemirroring.db.TableShape;
import org.activemirroring.schema.MirroredTables;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every name each column of the mirrored tables has had on this mirror, so that a row written
 * elsewhere under a column's old name still finds it after a rename or drop made here
 * ({@link FormerColumns}). No statement text is parsed: PostgreSQL keeps a column's number
 * ({@code attnum}) across renames and keeps a dropped column's number, marked
 * {@code attisdropped}. {@value #TABLE} holds (table oid, column number, name); the name the
 * column has now, or that it is gone, is the catalog's.
 *
 * <ul>
 *   <li>Noted at each start for every table of the mirrored schemas (also when upgrading a mirror
 *       that ran without it: names given before then are not known), and by the schema-change
 *       trigger ({@link DdlReplication}) at every schema change of a table, whoever makes it:
 *       the site's own migrations and the applier's replay of another mirror's change alike (the
 *       trigger fires in replica sessions too). A new table or column is thus noted at birth, and
 *       a renamed column under its new name as well.</li>
 *   <li>By table oid: a renamed table keeps its columns' history. Entries of dropped tables go at
 *       the next start.</li>
 *   <li>A name that more than one column has had (a column dropped and another added under its
 *       name) means the one that got it last.</li>
 * </ul>
 */
public final class ColumnHistory {
    private static final Logger LOG = LoggerFactory.getLogger(ColumnHistory.class);

    /** The history table, in the plugin's own schema; never mirrored. */
    public static final String TABLE = PostgresDialect.BOOKKEEPING_SCHEMA + ".column_names";

    /** Creates the table; the order of noting ({@code noted}) tells which column got a name last. */
    static final String CREATE = "CREATE TABLE IF NOT EXISTS " + TABLE + " (relid oid NOT NULL, attnum int2 NOT NULL,"
            + " name text NOT NULL, noted bigserial NOT NULL, PRIMARY KEY (relid, attnum, name))";

    /**
     * Notes the columns of the relation {@code r.objid} in the trigger function's loop over
     * {@code pg_event_trigger_ddl_commands()}. In a block of its own: a failure here costs the
     * history one entry and never the recording of the schema change.
     */
    static final String TRIGGER_STEP = """
            IF r.classid = 'pg_catalog.pg_class'::pg_catalog.regclass THEN
                    BEGIN
                      INSERT INTO mirror.column_names (relid, attnum, name)
                      SELECT a.attrelid, a.attnum, a.attname FROM pg_catalog.pg_attribute a
                        JOIN pg_catalog.pg_class k ON k.oid = a.attrelid
                       WHERE a.attrelid = r.objid AND k.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
                      ON CONFLICT DO NOTHING;
                    EXCEPTION WHEN OTHERS THEN
                      RAISE WARNING 'ActiveMirroring could not note the columns of % (%)', r.object_identity, SQLERRM;
                    END;
                  END IF;""";

    private static final String LOOKUP = "SELECT DISTINCT ON (h.name) h.name, a.attname, a.attisdropped FROM " + TABLE
            + " h JOIN pg_catalog.pg_attribute a ON a.attrelid = h.relid AND a.attnum = h.attnum"
            + " WHERE h.relid = pg_catalog.to_regclass(?) AND h.name = ANY (?) ORDER BY h.name, h.noted DESC";

    private ColumnHistory() {
    }

    /**
     * The statements that create the table, drop the entries of tables gone and note the current
     * columns of every table of the mirrored schemas; each can run again.
     */
    static List<String> statements(MirroredTables mirrored) {
        String schemas = DdlReplication.array(mirrored.schemas());
        return List.of(CREATE,
                "DELETE FROM " + TABLE + " h WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class k WHERE k.oid = h.relid)",
                "INSERT INTO " + TABLE + " (relid, attnum, name) SELECT a.attrelid, a.attnum, a.attname"
                        + " FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class k ON k.oid = a.attrelid"
                        + " JOIN pg_catalog.pg_namespace n ON n.oid = k.relnamespace"
                        + " WHERE n.nspname = ANY (" + schemas + ") AND k.relkind IN ('r', 'p') AND a.attnum > 0"
                        + " AND NOT a.attisdropped ORDER BY a.attrelid, a.attnum ON CONFLICT DO NOTHING");
    }

    /**
     * What became of {@code names}, columns {@code table} lacks: renamed (to the name that
     * column has now) or dropped, as far as the history tells. Runs in the caller's transaction,
     * under a savepoint: without the history table (a database the plugin has not prepared) it
     * knows nothing, and the transaction goes on.
     */
    static FormerColumns lookup(Connection c, TableShape table, Set<String> names) throws SQLException {
        return PostgresDialect.underSavepoint(c, () -> {
            Map<String, String> renamed = new HashMap<>();
            Set<String> dropped = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement(LOOKUP)) {
                ps.setString(1, PostgresDialect.quote(table.schema()) + "." + PostgresDialect.quote(table.table()));
                Array array = c.createArrayOf("text", names.toArray());
                ps.setArray(2, array);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String former = rs.getString(1);
                        String now = rs.getString(2);
                        if (rs.getBoolean(3)) {
                            dropped.add(former);
                        } else if (!now.equals(former)) {
                            renamed.put(former, now);
                        }
                    }
                }
            }
            return new FormerColumns(renamed, dropped);
        }, e -> {
            LOG.warn("Cannot read {} for {} ({}): rows naming columns it lacks wait for a schema change",
                    TABLE, table.qualifiedName(), e.getMessage());
            return FormerColumns.NONE;
        });
    }
}
