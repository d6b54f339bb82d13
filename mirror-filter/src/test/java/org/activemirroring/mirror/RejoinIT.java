package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * A mirror away longer than its peers' journals reach back cannot catch up from them: it notices,
 * stops serving, has itself restarted, empties its mirrored tables and copies a peer's database
 * again, and ends identical to the others, its own earlier writes included.
 */
class RejoinIT {
    private static final Duration CONVERGE = Duration.ofSeconds(120);

    @Test
    void mirrorAwayLongerThanTheJournalsKeepCopiesItsDataAgain() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("rejoin-full", 3)) {
            List<PgServer> servers = pgs.servers();
            for (PgServer s : servers) {
                SiteSchema.create(s);
            }
            List<Map<String, String>> configs = new ArrayList<>(MirrorSettings.forServers("rejoin-full", servers));
            for (int i = 0; i < 2; i++) {
                // The two that stay keep almost no history: one small segment per origin.
                configs.set(i, TestMirrors.with(TestMirrors.with(configs.get(i), "mirror.journal.retention.bytes", "1"),
                        "mirror.journal.segment.bytes", "4096"));
            }
            List<MirrorNode> nodes = new ArrayList<>(TestMirrors.startAll(configs.subList(0, 2)));
            NodeLauncher third = new NodeLauncher(MirrorConfig.of(configs.get(2)), MirrorNode::start);
            NodeLauncher again = new NodeLauncher(MirrorConfig.of(configs.get(2)), MirrorNode::start);
            try {
                List<Workload> writers = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    writers.add(new Workload(configs.get(i).get("mirror.node.id"), i + 1, 3, 90 + i));
                }
                third.launch();
                Await.until(CONVERGE, () -> third.node() != null && third.node().isReady(), third::phase);
                nodes.add(third.node());
                for (int i = 0; i < 3; i++) {
                    writers.get(i).runTransactions(servers.get(i), 20);
                }
                ReplicationChecks.fenceAndAwait(nodes, servers, writers, 1, CONVERGE);

                // The third mirror goes away; the others write on and their journals forget.
                third.close();
                for (int i = 0; i < 2; i++) {
                    writers.get(i).runTransactions(servers.get(i), 200);
                }
                Await.until(CONVERGE, () -> {
                    for (int i = 0; i < 2; i++) {
                        nodes.get(i).transport().applyRetention();
                    }
                    return firstHeld(nodes.get(0)) > 21;
                }, () -> "journal of " + nodes.get(0).nodeId() + " still starts at " + firstHeld(nodes.get(0)));

                again.launch();
                Await.until(CONVERGE, () -> again.node() != null && again.node().isReady()
                                && TestMirrors.joinHow(servers.get(2)).startsWith("rejoin"),
                        () -> again.phase() + " / " + again.lastFailure());
                nodes.set(2, again.node());
                assertTrue(TestMirrors.joinHow(servers.get(2)).contains("gone from every reachable mirror's journal"),
                        TestMirrors.joinHow(servers.get(2)));

                writers.get(2).runTransactions(servers.get(2), 20);
                ReplicationChecks.fenceAndAwait(nodes, servers, writers, 2, CONVERGE);
                ReplicationChecks.assertConvergedExactlyOnceNoEcho(nodes, servers, writers);
            } finally {
                again.close();
                third.close();
                TestMirrors.closeAll(nodes.subList(0, 2));
            }
        }
    }

    /** The lowest seq of its own changes the node's journal still holds. */
    private static long firstHeld(MirrorNode node) {
        return node.transport().firstHeld(node.nodeId());
    }
}
