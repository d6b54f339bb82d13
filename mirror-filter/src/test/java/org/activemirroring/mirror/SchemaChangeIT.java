package org.activemirroring.mirror;

import static org.activemirroring.testsupport.SiteSql.count;
import static org.activemirroring.testsupport.SiteSql.describe;
import static org.activemirroring.testsupport.SiteSql.digest;
import static org.activemirroring.testsupport.SiteSql.exec;
import static org.activemirroring.testsupport.SiteSql.scalar;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.activemirroring.testsupport.SiteSql;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * Schema changes travel with the data: DDL made with plain SQL on one mirror (as psql or a
 * migration tool does) reaches the others in order with the rows around it, a table created at
 * runtime is mirrored from its first row, a TRUNCATE empties the table everywhere, and a migration
 * every mirror runs itself takes effect once on each, without stalling anyone.
 */
class SchemaChangeIT {
    private static final Duration CONVERGE = Duration.ofSeconds(90);

    @Test
    void ddlOnOneMirrorReachesEveryMirrorInOrderWithItsRows() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("ddl", 3)) {
            List<PgServer> servers = pgs.servers();
            for (PgServer s : servers) {
                SiteSchema.create(s);
            }
            List<MirrorNode> nodes = TestMirrors.startAll(MirrorSettings.forServers("ddl", servers));
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                ReplicationChecks.awaitMembers(nodes, 3, Duration.ofSeconds(30));
                // An operator's psql on the first mirror: a new table with rows in the same
                // transaction, a column with a default, an index, then rows using both.
                exec(servers.get(0), "BEGIN; CREATE TABLE odd (id bigserial PRIMARY KEY, note text NOT NULL);"
                        + " INSERT INTO odd (note) VALUES ('first'), ('second'); COMMIT");
                exec(servers.get(0), "ALTER TABLE customers ADD COLUMN tier text NOT NULL DEFAULT 'basic'");
                exec(servers.get(0), "CREATE INDEX odd_note ON odd (note)");
                exec(servers.get(0), "INSERT INTO customers (id, owner, name, balance, created, tier) VALUES"
                        + " (1001, 'ddl-1', 'Ada', 10, now(), 'gold')");
                for (PgServer s : servers) {
                    Await.until(CONVERGE, () -> count(s, "SELECT count(*) FROM odd") == 2
                                    && count(s, "SELECT count(*) FROM customers WHERE tier = 'gold'") == 1,
                            () -> s.name() + " has not got the new table, column and rows");
                }
                // The others write into the new table and column at once.
                exec(servers.get(1), "INSERT INTO odd (note) VALUES ('from two')");
                exec(servers.get(2), "UPDATE customers SET tier = 'platinum' WHERE id = 1001");

                // A migration every mirror runs itself at about the same time, some statements
                // without IF NOT EXISTS: each takes effect once per mirror, nobody stalls.
                List<Future<List<String>>> migrations = new ArrayList<>();
                for (PgServer s : servers) {
                    migrations.add(pool.submit(() -> migrate(s)));
                }
                for (Future<List<String>> m : migrations) {
                    m.get();
                }
                for (int i = 0; i < 3; i++) {
                    exec(servers.get(i), "INSERT INTO mig (id, v) VALUES (" + (i + 1) + ", 'from " + i + "')"
                            + " ON CONFLICT DO NOTHING");
                    exec(servers.get(i), "UPDATE documents SET flag = true WHERE false");
                }
                // psql's TRUNCATE on one mirror empties the table on every mirror; rows after it stay.
                Await.until(CONVERGE, () -> count(servers.get(1), "SELECT count(*) FROM odd") == 3,
                        () -> "the second mirror has not got every row of odd");
                exec(servers.get(1), "TRUNCATE odd");
                exec(servers.get(1), "INSERT INTO odd (note) VALUES ('after truncate')");
                // A table dropped on one mirror goes everywhere.
                exec(servers.get(2), "CREATE TABLE scratch (id int PRIMARY KEY)");
                exec(servers.get(2), "DROP TABLE scratch");

                Await.until(CONVERGE, () -> {
                    Map<String, String> first = digest(servers.get(0));
                    return first.containsKey("public.mig") && count(servers.get(0), "SELECT count(*) FROM mig") == 3
                            && digest(servers.get(1)).equals(first) && digest(servers.get(2)).equals(first);
                }, () -> "mirrors differ: " + describe(servers.get(0)) + " / " + describe(servers.get(1)) + " / "
                        + describe(servers.get(2)));
                Map<String, String> columns = columns(servers.get(0));
                for (PgServer s : servers) {
                    assertEquals(columns, columns(s), "schema of " + s.name());
                    assertEquals(1, count(s, "SELECT count(*) FROM pg_indexes WHERE indexname = 'odd_note'"));
                    assertEquals(0, count(s, "SELECT count(*) FROM pg_tables WHERE tablename = 'scratch'"));
                    assertEquals("platinum", scalar(s, "SELECT tier FROM customers WHERE id = 1001"));
                    assertEquals("after truncate", scalar(s, "SELECT string_agg(note, ',') FROM odd"));
                }
                for (MirrorNode n : nodes) {
                    assertTrue(n.isReady(), n.nodeId() + " is not ready: " + n.status().problem());
                }
            } finally {
                pool.shutdownNow();
                TestMirrors.closeAll(nodes);
            }
        }
    }

    /**
     * A schema change that cannot be applied on a mirror (it needs a function only its origin has)
     * is held there, not dropped: status and health say so while the mirror serves, the rows
     * behind it wait, and once the operator adds what is missing it goes through with them.
     */
    @Test
    void aSchemaChangeThatFailsOnAMirrorIsHeldVisiblyUntilItCanBeApplied() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("held", 2)) {
            List<PgServer> servers = pgs.servers();
            for (PgServer s : servers) {
                SiteSchema.create(s);
            }
            List<MirrorNode> nodes = TestMirrors.startAll(MirrorSettings.forServers("held", servers));
            try {
                ReplicationChecks.awaitMembers(nodes, 2, Duration.ofSeconds(30));
                // A helper only the first mirror has (its schema is not mirrored).
                exec(servers.get(0), "CREATE SCHEMA tools; CREATE FUNCTION tools.rating() RETURNS int LANGUAGE sql"
                        + " AS 'SELECT 3'");
                exec(servers.get(0), "ALTER TABLE documents ADD COLUMN rating int DEFAULT tools.rating()");
                exec(servers.get(0), "INSERT INTO documents (id, owner, title, version) VALUES (7, 'held', 'x', 1)");
                MirrorNode second = nodes.get(1);
                Await.until(CONVERGE, () -> second.degraded() != null, () -> "never held: " + second.status());
                assertTrue(second.degraded().contains("tools"), second.degraded());
                assertTrue(second.isReady(), "it still serves the site");
                assertEquals(0, count(servers.get(1), "SELECT count(*) FROM documents WHERE id = 7"),
                        "the row written after the schema change waits behind it");
                // The operator gives the second mirror what the change needs: it goes through.
                exec(servers.get(1), "CREATE SCHEMA tools; CREATE FUNCTION tools.rating() RETURNS int LANGUAGE sql"
                        + " AS 'SELECT 3'");
                Await.until(CONVERGE, () -> count(servers.get(1), "SELECT count(*) FROM documents WHERE id = 7"
                        + " AND rating = 3") == 1 && second.degraded() == null, () -> "still held: " + second.degraded());
            } finally {
                TestMirrors.closeAll(nodes);
            }
        }
    }

    /**
     * A table created while mirrors run with a column type capture cannot carry is held out, on
     * every mirror, loudly (status, health), and everything else keeps replicating; the site
     * keeps writing into it on each mirror.
     */
    @Test
    void aTableThatCannotBeMirroredIsHeldOutVisiblyAndTheRestReplicates() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("heldout", 2)) {
            List<PgServer> servers = pgs.servers();
            for (PgServer s : servers) {
                SiteSchema.create(s);
            }
            List<MirrorNode> nodes = TestMirrors.startAll(MirrorSettings.forServers("heldout", servers));
            try {
                ReplicationChecks.awaitMembers(nodes, 2, Duration.ofSeconds(30));
                exec(servers.get(0), "CREATE TABLE meeting (id int PRIMARY KEY, starts timetz NOT NULL)");
                Await.until(CONVERGE, () -> count(servers.get(1), "SELECT count(*) FROM pg_tables"
                        + " WHERE tablename = 'meeting'") == 1, () -> "the table did not reach the second mirror");
                exec(servers.get(0), "INSERT INTO meeting VALUES (1, '10:00+02')");
                exec(servers.get(1), "INSERT INTO meeting VALUES (2, '11:00-05')");
                exec(servers.get(0), "INSERT INTO customers (id, owner, name, balance, created) VALUES"
                        + " (77, 'held', 'after', 1, now())");
                Await.until(CONVERGE, () -> count(servers.get(1), "SELECT count(*) FROM customers WHERE id = 77") == 1,
                        () -> "the rest stopped replicating");
                for (MirrorNode n : nodes) {
                    Await.until(CONVERGE, () -> n.status().heldOut().containsKey("public.meeting"),
                            () -> n.nodeId() + " never held public.meeting out: " + n.status().heldOut());
                    assertTrue(n.status().heldOut().get("public.meeting").contains("time with time zone"),
                            n.status().heldOut().toString());
                    assertTrue(n.degraded() != null && n.degraded().contains("public.meeting"), n.degraded());
                    assertTrue(n.isReady(), n.nodeId() + " still serves the site");
                }
                assertEquals(1, count(servers.get(1), "SELECT count(*) FROM meeting"), "each mirror keeps its own rows");
                assertEquals(1, count(servers.get(0), "SELECT count(*) FROM meeting"));
            } finally {
                TestMirrors.closeAll(nodes);
            }
        }
    }

    /** A site's migration as each mirror runs it at its start; local failures are the site's, returned. */
    private static List<String> migrate(PgServer s) {
        List<String> failed = new ArrayList<>();
        for (String step : List.of("CREATE TABLE IF NOT EXISTS mig (id int PRIMARY KEY, v text)",
                "ALTER TABLE documents ADD COLUMN flag boolean NOT NULL DEFAULT false",
                "CREATE INDEX IF NOT EXISTS documents_owner ON documents (owner)")) {
            try {
                exec(s, step);
            } catch (SQLException e) {
                failed.add(step + ": " + e.getMessage()); // another mirror's copy arrived first
            }
        }
        return failed;
    }

    /** Every column of the public schema with its type and default. */
    private static Map<String, String> columns(PgServer s) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        try (Connection c = s.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT table_name || '.' || column_name, data_type || ' '"
                     + " || coalesce(column_default, '') FROM information_schema.columns WHERE table_schema = 'public'"
                     + " ORDER BY 1")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getString(2).replaceAll("nextval\\('.*'::regclass\\)", "nextval"));
            }
        }
        return out;
    }
}
