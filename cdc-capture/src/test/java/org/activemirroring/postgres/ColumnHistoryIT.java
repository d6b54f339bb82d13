package org.activemirroring.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.activemirroring.change.RowChange;
import org.activemirroring.db.FormerColumns;
import org.activemirroring.schema.MirroredTables;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * The column history on a real PostgreSQL: columns of tables that predate the plugin are noted at
 * start, new ones at birth by the schema-change trigger, renames under their new names whoever
 * makes them (the site, or the applier replaying another mirror's change); old names map to the
 * name the column has now, through chains, renames back and a renamed table; dropped columns are
 * known as dropped, and names never seen stay unknown.
 */
class ColumnHistoryIT {
    private static final MirroredTables PUBLIC = MirroredTables.configured(List.of("public"), List.of());

    @Test
    void oldColumnNamesMapToWhatTheColumnsAreNow() throws Exception {
        try (PostgresServers servers = PostgresServers.start("colhist", 1)) {
            PgServer pg = servers.get(0);
            try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                // A site table from before the plugin (an upgrade finds it so too).
                s.execute("CREATE TABLE t (id int PRIMARY KEY, a text, b text, c text, d text, e text)");
                new PostgresDialect().createBookkeeping(c);
                s.execute("CREATE PUBLICATION am_test FOR TABLE mirror.heartbeat");
                assertNull(DdlReplication.install(c, PUBLIC, "am_test", 1, 4));
                s.execute("ALTER TABLE t RENAME COLUMN a TO a1");
                s.execute("ALTER TABLE t RENAME COLUMN a1 TO a2");
                s.execute("ALTER TABLE t DROP COLUMN b");
                s.execute("ALTER TABLE t RENAME COLUMN c TO c1");
                s.execute("ALTER TABLE t RENAME COLUMN c1 TO c");
                s.execute("ALTER TABLE t RENAME TO t2");
                s.execute("CREATE TABLE n (id int PRIMARY KEY, x text)");
                s.execute("ALTER TABLE n RENAME COLUMN x TO y");
                // Restarting installs again: what is noted stays.
                assertNull(DdlReplication.install(c, PUBLIC, "am_test", 1, 4));
            }
            // Another mirror's rename, replayed by the applier.
            try (Connection c = pg.connect()) {
                new PostgresDialect().prepareApplySession(c);
                c.setAutoCommit(false);
                RowChange replay = new RowChange(DdlReplication.TABLE, RowChange.Op.INSERT, Map.of("id", "1"),
                        Map.of("tag", "ALTER TABLE", "search_path", "public", "statement",
                                "ALTER TABLE t2 RENAME COLUMN d TO d1"), null, List.of());
                assertEquals(true, DdlReplication.apply(c, replay, "me"));
                c.commit();
            }
            try (Connection c = pg.connect()) {
                c.setAutoCommit(false);
                PostgresDialect dialect = new PostgresDialect();
                FormerColumns t2 = dialect.formerColumns(c, dialect.describe(c, "public.t2"),
                        Set.of("a", "a1", "b", "c1", "d", "never"));
                assertEquals(Map.of("a", "a2", "a1", "a2", "c1", "c", "d", "d1"), t2.renamed());
                assertEquals(Set.of("b"), t2.dropped());
                FormerColumns n = dialect.formerColumns(c, dialect.describe(c, "public.n"), Set.of("x"));
                assertEquals(Map.of("x", "y"), n.renamed());
                // A row written elsewhere before all this lands under today's names.
                RowChange old = new RowChange("public.t2", RowChange.Op.INSERT, Map.of("id", "1"),
                        new java.util.LinkedHashMap<>(Map.of("id", "1", "a", "A", "b", "B", "d", "D")), null, null);
                RowChange fitted = t2.fit(dialect.describe(c, "public.t2"), old);
                assertEquals(Map.of("id", "1", "a2", "A", "d1", "D"), fitted.after());
                c.commit();
            }
        }
    }

    @Test
    void withoutTheHistoryTableNothingIsKnownAndTheTransactionGoesOn() throws Exception {
        try (PostgresServers servers = PostgresServers.start("colnone", 1)) {
            PgServer pg = servers.get(0);
            try (Connection c = pg.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
                c.setAutoCommit(false);
                PostgresDialect dialect = new PostgresDialect();
                assertEquals(FormerColumns.NONE, dialect.formerColumns(c, dialect.describe(c, "public.t"),
                        Set.of("w")));
                s.execute("INSERT INTO t VALUES (1, 'still usable')");
                c.commit();
            }
        }
    }
}
