package org.activemirroring.mirror;

import static org.activemirroring.testsupport.SiteSql.count;
import static org.activemirroring.testsupport.SiteSql.exec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;

import org.activemirroring.testsupport.SiteSql;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * Capture that stops on an error starts again by itself. The fault injected: an operator puts a
 * table without a key into the publication by hand, so capture meets a change it cannot mirror and
 * stops. It starts again within seconds, holds that table out (and takes it out of the
 * publication), and the rest of the very transaction that stopped it reaches the other mirror:
 * nothing lost, the mirror ready again, status saying what happened.
 */
class CaptureRestartIT {
    private static final Duration CONVERGE = Duration.ofSeconds(60);

    @Test
    void captureStoppedByAChangeItCannotTakeStartsAgainAndLosesNothing() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("caprestart", 2)) {
            List<PgServer> servers = pgs.servers();
            for (PgServer s : servers) {
                SiteSchema.create(s);
            }
            List<MirrorNode> nodes = TestMirrors.startAll(MirrorSettings.forServers("caprestart", servers));
            try {
                ReplicationChecks.awaitMembers(nodes, 2, Duration.ofSeconds(30));
                MirrorNode first = nodes.get(0);
                PgServer site = servers.get(0);
                exec(site, "SET activemirroring.internal = on; CREATE TABLE audit_log (line text);"
                        + " ALTER TABLE audit_log REPLICA IDENTITY FULL");
                exec(site, "ALTER PUBLICATION activemirroring ADD TABLE audit_log");
                exec(site, "BEGIN; INSERT INTO audit_log VALUES ('by hand');"
                        + " INSERT INTO customers (id, owner, name, balance, created) VALUES (501, 'r', 'kept', 1, now());"
                        + " COMMIT");
                Await.until(CONVERGE, () -> first.captureRestarts() >= 1, () -> "capture never restarted: "
                        + first.status().problem());
                Await.until(CONVERGE, first::isReady, () -> "not ready again: " + first.status().problem());
                Await.until(CONVERGE, () -> count(servers.get(1), "SELECT count(*) FROM customers WHERE id = 501") == 1,
                        () -> "the rest of the transaction never reached the other mirror");
                assertTrue(first.status().heldOut().containsKey("public.audit_log"), first.status().heldOut().toString());
                assertEquals(0, count(site, "SELECT count(*) FROM pg_publication_tables WHERE tablename = 'audit_log'"),
                        "taken out of the publication");
                // Capture goes on as before.
                exec(site, "INSERT INTO customers (id, owner, name, balance, created) VALUES (502, 'r', 'after', 1, now())");
                Await.until(CONVERGE, () -> count(servers.get(1), "SELECT count(*) FROM customers WHERE id = 502") == 1,
                        () -> "capture did not go on after its restart");
                assertEquals(1, count(servers.get(1), "SELECT count(*) FROM customers WHERE id = 501"), "sent once");
            } finally {
                TestMirrors.closeAll(nodes);
            }
        }
    }
}
