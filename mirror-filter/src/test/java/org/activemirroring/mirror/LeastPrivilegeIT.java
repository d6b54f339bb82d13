package org.activemirroring.mirror;

import static org.activemirroring.testsupport.SiteSql.count;
import static org.activemirroring.testsupport.SiteSql.describe;
import static org.activemirroring.testsupport.SiteSql.digest;
import static org.activemirroring.testsupport.SiteSql.exec;
import static org.activemirroring.testsupport.SiteSql.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.activemirroring.postgres.MirrorRoleSql;
import org.activemirroring.postgres.PrivilegeCheck;
import org.activemirroring.testsupport.SiteSql;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgRoles;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * Mirrors run as a database role that is not a superuser, made with the SQL
 * {@link MirrorRoleSql} prints, while the site writes as its own role (also no superuser) that
 * owns the database and tables; and the start names each missing grant.
 */
class LeastPrivilegeIT {
    private static final Duration CONVERGE = Duration.ofSeconds(90);
    private static final String SITE = "site";
    private static final String MIRROR = "am_mirror";

    /** Site role owning database and schema, the site's tables created by it, and the mirror role. */
    private static PgServer[] prepare(PgServer admin) throws Exception {
        PgServer site = PgRoles.siteRole(admin, SITE);
        SiteSchema.create(site);
        PgServer mirror = PgRoles.mirrorRole(admin, MIRROR,
                MirrorRoleSql.statements(MIRROR, admin.database(), List.of("public"), "activemirroring"));
        assertEquals("f", scalar(mirror, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"));
        return new PgServer[] {site, mirror};
    }

    @Test
    void twoMirrorsReplicateBothWaysJoinAndReplaySchemaChangesAsRolesThatAreNotSuperusers() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("lp", 2)) {
            List<PgServer> sites = new ArrayList<>();
            List<PgServer> mirrors = new ArrayList<>();
            for (PgServer admin : pgs.servers()) {
                PgServer[] roles = prepare(admin);
                sites.add(roles[0]);
                mirrors.add(roles[1]);
            }
            // Rows the second mirror gets by joining (a copy under session_replication_role = replica).
            for (int i = 1; i <= 20; i++) {
                exec(sites.get(0), "INSERT INTO customers (id, owner, name, balance, created) VALUES (" + i
                        + ", 'seed', 'c" + i + "', " + i + ", now())");
            }
            List<MirrorNode> nodes = TestMirrors.startAll(MirrorSettings.forServers("lp", mirrors));
            try {
                ReplicationChecks.awaitMembers(nodes, 2, Duration.ofSeconds(30));
                awaitEqual(sites, () -> count(sites.get(1), "SELECT count(*) FROM customers") == 20);
                assertTrue(TestMirrors.joinHow(mirrors.get(1)).startsWith("joined the network: copied from lp-1"),
                        TestMirrors.joinHow(mirrors.get(1)));

                // Both ways, as the site's role: inserts, updates, deletes.
                exec(sites.get(0), "INSERT INTO customers (id, owner, name, balance, created) VALUES (101, 'a', 'from a', 1, now())");
                exec(sites.get(1), "INSERT INTO customers (id, owner, name, balance, created) VALUES (201, 'b', 'from b', 2, now())");
                Await.until(CONVERGE, () -> count(sites.get(1), "SELECT count(*) FROM customers WHERE id = 101") == 1
                                && count(sites.get(0), "SELECT count(*) FROM customers WHERE id = 201") == 1,
                        () -> "customers 101 and 201 have not crossed: " + describe(sites.get(0)) + " / "
                                + describe(sites.get(1)));
                exec(sites.get(1), "INSERT INTO orders (id, customer_id, amount, placed) VALUES (1, 101, 9.5, now())");
                exec(sites.get(0), "UPDATE customers SET balance = 42 WHERE id = 201");
                exec(sites.get(1), "UPDATE customers SET name = 'renamed' WHERE id = 5");
                exec(sites.get(0), "DELETE FROM customers WHERE id = 7");
                exec(sites.get(1), "DELETE FROM customers WHERE id = 8");
                awaitEqual(sites, () -> count(sites.get(0), "SELECT count(*) FROM orders") == 1
                        && count(sites.get(1), "SELECT count(*) FROM customers WHERE balance = 42") == 1
                        && count(sites.get(0), "SELECT count(*) FROM customers WHERE name = 'renamed'") == 1
                        && count(sites.get(1), "SELECT count(*) FROM customers") == 20);

                // Schema changes by the site's role travel too; what they create belongs to the site
                // on every mirror, so the site writes into it everywhere.
                exec(sites.get(0), "ALTER TABLE customers ADD COLUMN tier text NOT NULL DEFAULT 'basic'");
                // A serial key: the new sequence hands out each mirror's own keys (the mirror's role
                // sets its increment through its membership in the site's role).
                exec(sites.get(1), "CREATE TABLE notes (id bigserial PRIMARY KEY, body text NOT NULL)");
                exec(sites.get(1), "INSERT INTO notes (body) VALUES ('from b')");
                Await.until(CONVERGE, () -> count(sites.get(0), "SELECT count(*) FROM notes") == 1
                                && count(sites.get(1), "SELECT count(*) FROM information_schema.columns"
                                + " WHERE table_name = 'customers' AND column_name = 'tier'") == 1,
                        () -> "schema changes did not travel: " + describe(sites.get(0)) + " / " + describe(sites.get(1)));
                assertEquals(SITE, scalar(sites.get(0), "SELECT tableowner FROM pg_tables WHERE tablename = 'notes'"));
                exec(sites.get(0), "INSERT INTO notes (body) VALUES ('from a')");
                exec(sites.get(1), "UPDATE customers SET tier = 'gold' WHERE id = 101");
                for (PgServer s : sites) {
                    assertEquals("16", scalar(s, "SELECT increment_by FROM pg_sequences WHERE sequencename = 'notes_id_seq'"));
                }
                awaitEqual(sites, () -> count(sites.get(1), "SELECT count(*) FROM notes") == 2
                        && count(sites.get(0), "SELECT count(*) FROM customers WHERE tier = 'gold'") == 1);
                for (MirrorNode n : nodes) {
                    assertTrue(n.isReady(), n.nodeId() + " is not ready: " + n.status().problem());
                }
            } finally {
                TestMirrors.closeAll(nodes);
            }
        }
    }

    /**
     * Each grant of the role block, taken away alone, is named at start with the statement that
     * gives it back; a superuser and the full block pass.
     */
    @Test
    void theStartNamesEachMissingGrantWithTheStatementToRun() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("lpcheck", 1)) {
            PgServer admin = pgs.get(0);
            PgServer mirror = prepare(admin)[1];
            assertEquals(List.of(), missing(admin), "a superuser needs no grant");
            assertEquals(List.of(), missing(mirror), "the block grants everything");
            String db = "\"" + admin.database() + "\"";
            String[][] cases = {
                    {"ALTER ROLE am_mirror NOREPLICATION", "ALTER ROLE \"am_mirror\" REPLICATION"},
                    {"REVOKE SET ON PARAMETER session_replication_role FROM am_mirror",
                            "GRANT SET ON PARAMETER session_replication_role TO \"am_mirror\""},
                    {"REVOKE EXECUTE ON FUNCTION pg_replication_origin_create(text) FROM am_mirror",
                            "GRANT EXECUTE ON FUNCTION pg_catalog.pg_replication_origin_create(text) TO \"am_mirror\""},
                    {"REVOKE EXECUTE ON FUNCTION pg_replication_origin_session_setup(text) FROM am_mirror",
                            "GRANT EXECUTE ON FUNCTION pg_catalog.pg_replication_origin_session_setup"},
                    // The site owns the database, so the mirror has CREATE through its membership too.
                    {"ALTER DATABASE " + db + " OWNER TO postgres; REVOKE CREATE ON DATABASE " + db + " FROM am_mirror",
                            "GRANT CREATE ON DATABASE " + db + " TO \"am_mirror\""},
                    {"ALTER DATABASE " + db + " OWNER TO postgres; REVOKE CREATE ON SCHEMA public FROM am_mirror;"
                            + " REVOKE CREATE ON SCHEMA public FROM site",
                            "GRANT USAGE, CREATE ON SCHEMA \"public\" TO \"am_mirror\""},
                    {"REVOKE site FROM am_mirror", "GRANT \"site\" TO \"am_mirror\""},
                    {"ALTER SCHEMA mirror OWNER TO postgres", "ALTER SCHEMA mirror OWNER TO \"am_mirror\""},
                    {"ALTER TABLE mirror.ddl OWNER TO postgres", "ALTER TABLE mirror.ddl OWNER TO \"am_mirror\""},
                    {"ALTER FUNCTION mirror.capture_ddl() OWNER TO postgres",
                            "ALTER FUNCTION mirror.capture_ddl() OWNER TO \"am_mirror\""},
            };
            List<String> block = MirrorRoleSql.statements(MIRROR, admin.database(), List.of("public"), "activemirroring");
            for (String[] c : cases) {
                PgRoles.run(admin, List.of(c[0].split("; ")));
                List<PrivilegeCheck.Missing> missing = missing(mirror);
                assertEquals(1, missing.size(), c[0] + " should leave one thing missing: " + missing);
                assertTrue(missing.get(0).statement().startsWith(c[1]), c[0] + " gave " + missing);
                PgRoles.run(admin, block); // the block, run again, puts everything back
                PgRoles.run(admin, List.of("GRANT CREATE ON SCHEMA public TO site", "ALTER DATABASE " + db + " OWNER TO site"));
                assertEquals(List.of(), missing(mirror), "after the block again, following " + c[0]);
            }
            // The whole start refuses with that statement in its message.
            PgRoles.run(admin, List.of("REVOKE SET ON PARAMETER session_replication_role FROM am_mirror"));
            Map<String, String> settings = MirrorSettings.forServers("lpcheck", List.of(mirror)).get(0);
            MirrorStartException e = assertThrows(MirrorStartException.class,
                    () -> MirrorNode.start(MirrorConfig.of(settings)));
            assertTrue(e.getMessage().contains("GRANT SET ON PARAMETER session_replication_role TO \"am_mirror\""),
                    e.getMessage());
        }
    }

    private static List<PrivilegeCheck.Missing> missing(PgServer s) throws Exception {
        try (Connection c = s.connect()) {
            return PrivilegeCheck.missing(c, List.of("public"), List.of(), "activemirroring");
        }
    }

    private static void awaitEqual(List<PgServer> sites, java.util.concurrent.Callable<Boolean> also) {
        Await.until(CONVERGE, () -> also.call() && digest(sites.get(0)).equals(digest(sites.get(1))),
                () -> "mirrors differ: " + describe(sites.get(0)) + " / " + describe(sites.get(1)));
    }
}
