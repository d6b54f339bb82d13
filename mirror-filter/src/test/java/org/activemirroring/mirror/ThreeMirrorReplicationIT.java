package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * Three mirrors, each with its own PostgreSQL and its own transport member, writing at the same
 * time: in the end the databases are identical, every ChangeSet took effect once on each peer and
 * no mirror sent back what it applied.
 */
class ThreeMirrorReplicationIT {
    /** Threads of the JDK or the test itself that may outlive the nodes. */
    private static final Pattern NOT_OURS = Pattern.compile("process reaper|Attach Listener|Common-Cleaner|"
            + "ForkJoinPool.*|surefire.*|PostgreSQL-JDBC-Cleaner");
    private static final Duration CONVERGE = Duration.ofSeconds(90);

    static List<String> threadsStartedSince(Set<Thread> before) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && !before.contains(t) && !NOT_OURS.matcher(t.getName()).matches())
                .map(Thread::getName).sorted().toList();
    }

    @Test
    void concurrentWritersOnThreeMirrorsConvergeExactlyOnceWithoutEcho() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("three", 3)) {
            List<PgServer> servers = pgs.servers();
            for (PgServer s : servers) {
                SiteSchema.create(s);
            }
            Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
            List<MirrorNode> nodes = TestMirrors.startAll(MirrorSettings.forServers("three", servers));
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                ReplicationChecks.awaitMembers(nodes, 3, Duration.ofSeconds(30));
                List<Workload> writers = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    writers.add(new Workload(nodes.get(i).nodeId(), i + 1, 3, 42 + i));
                }
                List<Future<?>> running = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    Workload w = writers.get(i);
                    PgServer s = servers.get(i);
                    running.add(pool.submit(() -> {
                        w.runTransactions(s, 150);
                        return null;
                    }));
                }
                for (Future<?> f : running) {
                    f.get();
                }
                ReplicationChecks.fenceAndAwait(nodes, servers, writers, 1, CONVERGE);
                ReplicationChecks.assertConvergedExactlyOnceNoEcho(nodes, servers, writers);

                // The data really flowed: each mirror holds rows of all three writers.
                for (PgServer s : servers) {
                    assertEquals(3, SiteSchema.count(s, "fences"));
                    assertTrue(SiteSchema.count(s, "customers") > 0);
                }
                for (MirrorNode n : nodes) {
                    NodeStatus st = n.status();
                    assertTrue(st.ready(), n.nodeId() + " ready");
                    assertEquals(2, st.origins().size(), n.nodeId() + " origins " + st.origins());
                    for (Map.Entry<String, NodeStatus.OriginStatus> o : st.origins().entrySet()) {
                        assertEquals(0, o.getValue().lag(), n.nodeId() + " lag from " + o.getKey());
                    }
                }
            } finally {
                pool.shutdownNow();
                TestMirrors.closeAll(nodes);
            }
            // A clean stop leaves no thread of the nodes behind (transport, capture engine, applier).
            Await.until(Duration.ofSeconds(30), () -> threadsStartedSince(before).isEmpty(),
                    () -> "threads left after all mirrors stopped: " + threadsStartedSince(before));
        }
    }
}
