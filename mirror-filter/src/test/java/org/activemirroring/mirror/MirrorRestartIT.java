package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * A mirror that is stopped while the others keep writing, and whose own database takes writes
 * while its node is down, catches up after restart: nothing lost, nothing applied twice.
 */
class MirrorRestartIT {
    private static final Duration CONVERGE = Duration.ofSeconds(90);

    @Test
    void stoppedMirrorCatchesUpFromPeersAndSendsWhatItsSiteWroteMeanwhile() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("restart", 3)) {
            List<PgServer> servers = pgs.servers();
            for (PgServer s : servers) {
                SiteSchema.create(s);
            }
            List<Map<String, String>> configs = MirrorSettings.forServers("restart", servers);
            List<MirrorNode> nodes = new ArrayList<>(TestMirrors.startAll(configs));
            try {
                ReplicationChecks.awaitMembers(nodes, 3, Duration.ofSeconds(30));
                List<Workload> writers = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    writers.add(new Workload(nodes.get(i).nodeId(), i + 1, 3, 7 + i));
                }
                for (int i = 0; i < 3; i++) {
                    writers.get(i).runTransactions(servers.get(i), 40);
                }
                ReplicationChecks.fenceAndAwait(nodes, servers, writers, 1, CONVERGE);

                // Mirror 3's node goes away; the others and mirror 3's own site keep writing.
                nodes.get(2).close();
                ReplicationChecks.awaitMembers(nodes.subList(0, 2), 2, Duration.ofSeconds(30));
                for (int i = 0; i < 3; i++) {
                    writers.get(i).runTransactions(servers.get(i), 60);
                }

                Map<String, Long> peersHeld = Map.of(nodes.get(0).nodeId(), nodes.get(0).ownJournalHead(),
                        nodes.get(1).nodeId(), nodes.get(1).ownJournalHead());
                nodes.set(2, MirrorNode.start(MirrorConfig.of(configs.get(2))));
                // It starts capturing and serving only once it applied what its peers held.
                Map<String, Long> applied = nodes.get(2).appliedVector();
                for (Map.Entry<String, Long> held : peersHeld.entrySet()) {
                    assertTrue(applied.getOrDefault(held.getKey(), 0L) >= held.getValue(),
                            "started with " + applied + " applied, before catching up to " + peersHeld);
                }
                ReplicationChecks.awaitMembers(nodes, 3, Duration.ofSeconds(30));
                for (int i = 0; i < 3; i++) {
                    writers.get(i).runTransactions(servers.get(i), 20);
                }
                ReplicationChecks.fenceAndAwait(nodes, servers, writers, 2, CONVERGE);
                ReplicationChecks.assertConvergedExactlyOnceNoEcho(nodes, servers, writers);
            } finally {
                TestMirrors.closeAll(nodes);
            }
        }
    }
}
