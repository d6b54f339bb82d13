package org.activemirroring.postgres;

import static org.activemirroring.capture.Fixtures.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

import org.activemirroring.change.RowChange;
import org.activemirroring.schema.MirroredTables;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * The event triggers on a real PostgreSQL: a schema change of a mirrored schema is recorded once
 * per transaction with its search path, a new table with a key joins the publication and its
 * sequence hands out this mirror's keys at once; the applier's replay (replica role) is not
 * recorded again, but its tables and sequences are handled alike; temporary tables, the plugin's
 * own schema and sequence settings are never recorded.
 */
class DdlReplicationIT {

    @Test
    void recordsSchemaChangesAndPreparesNewTables() throws Exception {
        try (PostgresServers servers = PostgresServers.start("ddlrep", 1)) {
            PgServer pg = servers.get(0);
            try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                new PostgresDialect().createBookkeeping(c);
                s.execute("CREATE PUBLICATION am_test FOR TABLE mirror.heartbeat");
                assertNull(DdlReplication.install(c, MirroredTables.configured(List.of("public"), List.of("public.kept")),
                        "am_test", 3, 16));
                s.execute("CREATE TABLE t (id bigserial PRIMARY KEY, v text); CREATE INDEX t_v ON t (v)");
                assertNull(s.getWarnings(), "the triggers raise no warning");
                s.execute("CREATE TABLE kept (id serial PRIMARY KEY)");
                s.execute("CREATE TEMP TABLE scratch (id int PRIMARY KEY)");
                s.execute("CREATE TABLE mirror.own (id int PRIMARY KEY)");
                s.execute("INSERT INTO t (v) VALUES ('a'), ('b')");
                s.execute("ALTER TABLE t ADD COLUMN w int DEFAULT 0");
                s.execute("DROP TABLE kept");
            }
            // pgjdbc sends the two statements of one string apart: each is its own query
            assertEquals(List.of("CREATE TABLE|CREATE TABLE t (id bigserial PRIMARY KEY, v text)",
                            "CREATE INDEX| CREATE INDEX t_v ON t (v)",
                            "CREATE TABLE|CREATE TABLE kept (id serial PRIMARY KEY)",
                            "ALTER TABLE|ALTER TABLE t ADD COLUMN w int DEFAULT 0", "DROP TABLE|DROP TABLE kept"),
                    rows(pg, "SELECT tag || '|' || statement FROM mirror.ddl ORDER BY id"));
            assertEquals(List.of("3", "19"), rows(pg, "SELECT id FROM t ORDER BY id"));
            assertEquals(List.of("heartbeat", "t"), rows(pg, "SELECT tablename FROM pg_publication_tables WHERE"
                    + " pubname = 'am_test' ORDER BY 1"));

            // The applier replaying a peer's change: not recorded, but the table is published and
            // its sequence interleaved like any new one.
            try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                new PostgresDialect().prepareApplySession(c);
                c.setAutoCommit(false);
                RowChange replay = new RowChange(DdlReplication.TABLE, RowChange.Op.INSERT, Map.of("id", "1"),
                        Map.of("tag", "CREATE TABLE", "search_path", "\"$user\", public", "statement",
                                "BEGIN; CREATE TABLE u (id serial PRIMARY KEY); INSERT INTO u DEFAULT VALUES; COMMIT"),
                        null, List.of());
                assertEquals(true, DdlReplication.apply(c, replay, "me"));
                // the same again (a migration every mirror ran): skipped, not failed
                assertEquals(false, DdlReplication.apply(c, replay, "me"));
                c.commit();
            }
            assertEquals("5", rows(pg, "SELECT count(*) FROM mirror.ddl").get(0), "the replay is not recorded again");
            assertEquals("0", rows(pg, "SELECT count(*) FROM u").get(0), "only the schema change is replayed");
            try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                s.execute("INSERT INTO u DEFAULT VALUES");
            }
            assertEquals(List.of("3"), rows(pg, "SELECT id FROM u"));
            assertEquals(List.of("heartbeat", "t", "u"), rows(pg, "SELECT tablename FROM pg_publication_tables WHERE"
                    + " pubname = 'am_test' ORDER BY 1"));
        }
    }
}
