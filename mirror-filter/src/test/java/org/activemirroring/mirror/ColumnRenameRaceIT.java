package org.activemirroring.mirror;

import static org.activemirroring.testsupport.SiteSql.count;
import static org.activemirroring.testsupport.SiteSql.describe;
import static org.activemirroring.testsupport.SiteSql.digest;
import static org.activemirroring.testsupport.SiteSql.exec;
import static org.activemirroring.testsupport.SiteSql.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * A row written on one mirror under a column's or a table's old name, arriving on another mirror
 * after that mirror renamed (or dropped) it, is applied there (under the new names, or without the
 * dropped column), never parked; once the first mirror has the schema change too, both hold the same rows.
 * The first mirror's applying is held meanwhile, so it writes with the old name for sure.
 */
class ColumnRenameRaceIT {
    private static final Duration CONVERGE = Duration.ofSeconds(90);

    @Test
    void rowsWrittenUnderAnOldColumnNameArriveUnderTheNewOne() throws Exception {
        // A chain: the first name maps to the last.
        race("rename", List.of("ALTER TABLE notes RENAME COLUMN body TO text1",
                "ALTER TABLE notes RENAME COLUMN text1 TO content"), "notes", "content");
    }

    @Test
    void rowsWrittenUnderAnOldTableNameArriveInTheRenamedTable() throws Exception {
        // The table and then its column: the column's history follows the table.
        race("table", List.of("ALTER TABLE notes RENAME TO memo", "ALTER TABLE memo RENAME COLUMN body TO content"),
                "memo", "content");
    }

    @Test
    void rowsWrittenWithADroppedColumnArriveWithoutIt() throws Exception {
        race("drop", List.of("ALTER TABLE notes DROP COLUMN body"), "notes", null);
    }

    /**
     * The first mirror writes into notes(body) while the second mirror has run {@code ddl};
     * rows are inserted, updated (body only, and body with another column) and one deleted.
     *
     * @param table  the table's name after {@code ddl}
     * @param column body's name after {@code ddl}, null when dropped
     */
    private static void race(String name, List<String> ddl, String table, String column) throws Exception {
        try (PostgresServers pgs = PostgresServers.start(name, 2)) {
            List<PgServer> servers = pgs.servers();
            for (PgServer s : servers) {
                exec(s, "CREATE TABLE notes (id int PRIMARY KEY, title text NOT NULL, body text)");
            }
            List<MirrorNode> nodes = TestMirrors.startAll(MirrorSettings.forServers(name, servers));
            try {
                ReplicationChecks.awaitMembers(nodes, 2, Duration.ofSeconds(30));
                MirrorNode a = nodes.get(0);
                MirrorNode b = nodes.get(1);
                PgServer sa = servers.get(0);
                PgServer sb = servers.get(1);
                exec(sa, "INSERT INTO notes VALUES (1, 'one', 'before')");
                Await.until(CONVERGE, () -> count(sb, "SELECT count(*) FROM notes") == 1,
                        () -> "the first row has not reached the second mirror");

                a.holdApply(true); // the first mirror does not get the schema change yet
                for (String statement : ddl) {
                    exec(sb, statement); // done before any of the rows below reaches the second mirror
                }
                exec(sa, "INSERT INTO notes VALUES (2, 'two', 'written under the old name')");
                exec(sa, "INSERT INTO notes (id, title, body) SELECT g, 'many', 'body ' || g FROM generate_series(10, 59) g");
                exec(sa, "UPDATE notes SET body = 'changed' WHERE id = 1");
                exec(sa, "UPDATE notes SET body = 'both', title = 'ten' WHERE id = 10");
                exec(sa, "DELETE FROM notes WHERE id = 11");

                Await.until(CONVERGE, () -> count(sb, "SELECT count(*) FROM " + table) == 51
                                && count(sb, "SELECT count(*) FROM " + table + " WHERE title = 'ten'") == 1,
                        () -> "the rows written under the old name have not arrived on the second mirror: "
                                + b.parkedNow() + " " + describe(sb));
                assertEquals(0, b.parkedNow().count(), "parked: " + b.parkedNow());
                assertTrue(b.parkedChanges(10).isEmpty(), "parked: " + b.parkedChanges(10));
                if (column != null) {
                    assertEquals(List.of("1|changed", "2|written under the old name", "10|both", "12|body 12"),
                            rows(sb, "SELECT id || '|' || " + column + " FROM " + table
                                    + " WHERE id IN (1, 2, 10, 12) ORDER BY id"));
                } else {
                    assertEquals(0, count(sb, "SELECT count(*) FROM information_schema.columns"
                            + " WHERE table_name = 'notes' AND column_name = 'body'"));
                    assertEquals(List.of("1|one", "2|two", "10|ten"), rows(sb, "SELECT id || '|' || title FROM notes"
                            + " WHERE id IN (1, 2, 10) ORDER BY id"));
                }

                a.holdApply(false);
                Await.until(CONVERGE, () -> count(sa, "SELECT count(*) FROM pg_tables WHERE tablename = '" + table
                                + "'") == 1 && digest(sa).equals(digest(sb)),
                        () -> "mirrors differ: " + describe(sa) + " / " + describe(sb));
                for (MirrorNode n : nodes) {
                    assertEquals(0, n.parkedNow().count(), n.nodeId() + " parked: " + n.parkedNow());
                }
            } finally {
                TestMirrors.closeAll(nodes);
            }
        }
    }
}
