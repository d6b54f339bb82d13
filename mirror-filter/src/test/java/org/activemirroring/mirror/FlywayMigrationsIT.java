package org.activemirroring.mirror;

import static org.activemirroring.testsupport.SiteSql.count;
import static org.activemirroring.testsupport.SiteSql.describe;
import static org.activemirroring.testsupport.SiteSql.digest;
import static org.activemirroring.testsupport.SiteSql.exec;
import static org.activemirroring.testsupport.SiteSql.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.time.Duration;
import java.util.List;

import org.activemirroring.testsupport.SiteSql;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * A site that runs its Flyway migrations at every start, on every mirror, as a release is rolled
 * out: one mirror migrates, the others start after its changes reached them, with rows written on
 * every mirror between. Each migration takes effect once per mirror, Flyway's history says so
 * (each version once, successful, validating on every mirror), and all tables end equal. (Two
 * mirrors running the same migration at the very same moment is covered statement by statement
 * in SchemaChangeIT; with Flyway, one of them can fail that run: see the README.)
 */
class FlywayMigrationsIT {
    private static final Duration CONVERGE = Duration.ofSeconds(90);

    @Test
    void eachMigrationTakesEffectOncePerMirrorWhenEveryMirrorRunsThem() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("flyway", 3)) {
            List<PgServer> servers = pgs.servers();
            migrate(servers.get(0), "1"); // the site as it was before mirroring
            List<MirrorNode> nodes = TestMirrors.startAll(MirrorSettings.forServers("flyway", servers));
            try {
                ReplicationChecks.awaitMembers(nodes, 3, Duration.ofSeconds(30));
                write(servers, "before release 2");

                // Release 2 rolled out: the first mirror migrates; each other one starts (and runs
                // Flyway) once the first mirror's changes reached it, and finds nothing left to do.
                migrate(servers.get(0), "2");
                for (PgServer s : servers.subList(1, 3)) {
                    Await.until(CONVERGE, () -> count(s, "SELECT count(*) FROM flyway_schema_history WHERE version = '2'")
                            == 1, () -> s.name() + " has not got release 2");
                    migrate(s, "2");
                }
                write(servers, "after release 2");
                for (int i = 0; i < 3; i++) {
                    exec(servers.get(i), "INSERT INTO tags (item_id, tag) SELECT min(id), 'tag from " + i + "' FROM items");
                }

                // Release 3 renames tags.tag, rolled out the same way from the last mirror this time, at
                // once: the tag rows the others just wrote under the old name may reach it after its
                // rename, and land under the new name (README "Schema changes").
                migrate(servers.get(2), "3");
                for (PgServer s : servers.subList(0, 2)) {
                    Await.until(CONVERGE, () -> count(s, "SELECT count(*) FROM flyway_schema_history WHERE version = '3'")
                            == 1, () -> s.name() + " has not got release 3");
                    migrate(s, "3");
                }
                for (int i = 0; i < 3; i++) {
                    exec(servers.get(i), "INSERT INTO audit (note) VALUES ('audited on " + i + "')");
                    exec(servers.get(i), "INSERT INTO tags (item_id, label) SELECT max(id), 'label from " + i + "' FROM items");
                }

                Await.until(CONVERGE, () -> digest(servers.get(0)).equals(digest(servers.get(1)))
                                && digest(servers.get(0)).equals(digest(servers.get(2)))
                                && count(servers.get(0), "SELECT count(*) FROM audit") == 3
                                && count(servers.get(0), "SELECT count(*) FROM tags") == 6,
                        () -> "mirrors differ: " + describe(servers.get(0)) + " / " + describe(servers.get(1))
                                + " / " + describe(servers.get(2)));
                for (PgServer s : servers) {
                    assertEquals(List.of("1:1:true", "2:1:true", "3:1:true"), rows(s, "SELECT version || ':' || count(*)"
                            + " || ':' || bool_and(success) FROM flyway_schema_history GROUP BY version ORDER BY version"),
                            "each migration once in " + s.name() + "'s history");
                    flyway(s, "3").validate(); // Flyway itself agrees on every mirror
                    assertEquals(7, count(s, "SELECT count(*) FROM items"));
                    assertEquals(1, count(s, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'tags'"
                            + " AND column_name = 'label'"));
                }
                for (MirrorNode n : nodes) {
                    assertTrue(n.isReady() && n.degraded() == null, n.nodeId() + ": " + n.status());
                }
            } finally {
                TestMirrors.closeAll(nodes);
            }
        }
    }

    private static Flyway flyway(PgServer s, String target) {
        return Flyway.configure().dataSource(s.jdbcUrl(), s.user(), s.password()).locations("classpath:db/site")
                .target(target).load();
    }

    private static Void migrate(PgServer s, String target) {
        flyway(s, target).migrate();
        return null;
    }

    private static void write(List<PgServer> servers, String what) throws SQLException {
        for (int i = 0; i < servers.size(); i++) {
            exec(servers.get(i), "INSERT INTO items (name) VALUES ('" + what + " on " + i + "')");
        }
    }

}
