package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * A network partition: mirror C is cut off from A and B, the view splits, both sides write to
 * the same keys, the network heals, the views merge, and all mirrors converge with every write
 * final, overwritten in sequence or in a conflict log ({@link HistoryChecker}).
 *
 * <p>{@code -Dconvergence.seed=N} replays a seed (printed at start).
 */
class PartitionIT {
    private static final int KEYS = 10;
    private static final Duration VIEW = Duration.ofSeconds(30);
    private static final Duration CONVERGE = Duration.ofSeconds(60);
    private static final Duration WRITE_WHILE_SPLIT = Duration.ofSeconds(8);

    @Test
    void bothSidesOfAPartitionWriteTheSameKeysAndConvergeAfterTheMerge() throws Exception {
        long seed = Long.getLong("convergence.seed", 20_261_123L);
        System.out.println("PartitionIT seed=" + seed + " (replay with -Dconvergence.seed=" + seed + ")");
        long started = System.nanoTime();
        try (PostgresServers pgs = PostgresServers.start("part", 3)) {
            List<PgServer> servers = pgs.servers();
            for (PgServer s : servers) {
                RegisterWorkload.createSchema(s);
            }
            List<Map<String, String>> settings = new ArrayList<>();
            for (Map<String, String> m : MirrorSettings.forServers("part", servers)) {
                // Short failure detection and merge intervals: the split and the merge take seconds.
                m = TestMirrors.with(m, "mirror.jgroups.fd.timeout", "3s");
                m = TestMirrors.with(m, "mirror.jgroups.fd.interval", "1s");
                m = TestMirrors.with(m, "mirror.jgroups.merge.min_interval", "1s");
                m = TestMirrors.with(m, "mirror.jgroups.merge.max_interval", "3s");
                settings.add(m);
            }
            List<MirrorNode> nodes = TestMirrors.startAll(settings);
            ExecutorService pool = Executors.newFixedThreadPool(3);
            HistoryChecker history = new HistoryChecker();
            try {
                MirrorNode a = nodes.get(0);
                MirrorNode b = nodes.get(1);
                MirrorNode c = nodes.get(2);
                ReplicationChecks.awaitMembers(nodes, 3, VIEW);
                RegisterWorkload.seed(servers.get(0), KEYS);
                ReplicationChecks.awaitQuiescent(nodes, servers, 1, CONVERGE);

                long cutAt = System.nanoTime();
                a.transport().isolateFrom(Set.of(c.nodeId()));
                b.transport().isolateFrom(Set.of(c.nodeId()));
                c.transport().isolateFrom(Set.of(a.nodeId(), b.nodeId()));
                List<String> ab = List.of(a.nodeId(), b.nodeId());
                Await.until(VIEW, () -> c.status().members().equals(List.of(c.nodeId()))
                                && a.status().members().equals(ab) && b.status().members().equals(ab),
                        () -> "views did not split: " + members(nodes));
                long splitAt = System.nanoTime();

                // Both sides write, to the same small key space.
                Random random = new Random(seed);
                long stopAt = System.nanoTime() + WRITE_WHILE_SPLIT.toNanos();
                List<Future<?>> clients = new ArrayList<>();
                for (int m = 0; m < nodes.size(); m++) {
                    RegisterWorkload.Client client = new RegisterWorkload.Client(servers.get(m), nodes.get(m).nodeId(),
                            0, KEYS, random.nextLong(), history);
                    clients.add(pool.submit(() -> {
                        client.run(() -> System.nanoTime() < stopAt);
                        return null;
                    }));
                }
                for (Future<?> f : clients) {
                    f.get();
                }
                // The partition held for data too: C applied none of A's writes made while split.
                long aHead = a.ownJournalHead();
                long cAppliedFromA = c.appliedVector().getOrDefault(a.nodeId(), 0L);
                assertTrue(cAppliedFromA < aHead, "C applied A's ChangeSets through the partition: applied "
                        + cAppliedFromA + " of " + aHead);
                assertEquals(List.of(c.nodeId()), c.status().members(), "C's view while split");

                long healAt = System.nanoTime();
                for (MirrorNode n : nodes) {
                    n.transport().heal();
                }
                ReplicationChecks.awaitMembers(nodes, 3, VIEW);
                long mergedAt = System.nanoTime();
                ReplicationChecks.awaitQuiescent(nodes, servers, 2, CONVERGE);
                long quiescentAt = System.nanoTime();

                RegisterWorkload.assertSameRows(nodes, servers);
                Map<Integer, String> finals = RegisterWorkload.finalValues(servers.get(0));
                Set<String> losers = new HashSet<>();
                List<String> conflictSummary = new ArrayList<>();
                long conflicts = 0;
                for (int i = 0; i < servers.size(); i++) {
                    losers.addAll(HistoryChecker.loserTokens(servers.get(i)));
                    Map<String, Long> kinds = HistoryChecker.conflictKinds(servers.get(i));
                    conflicts += kinds.values().stream().mapToLong(Long::longValue).sum();
                    conflictSummary.add(nodes.get(i).nodeId() + "=" + kinds);
                }
                System.out.println("PartitionIT: " + history.summary(finals) + "; keys " + KEYS + "; conflicts logged "
                        + conflicts + " " + conflictSummary + "; split " + ms(splitAt - cutAt) + " ms after the cut,"
                        + " merged " + ms(mergedAt - healAt) + " ms after healing, quiescent " + ms(quiescentAt - mergedAt)
                        + " ms after the merge; total " + Duration.ofNanos(System.nanoTime() - started).toSeconds() + " s");
                List<String> problems = history.check(finals, KEYS, losers);
                if (!problems.isEmpty()) {
                    java.nio.file.Path file = java.nio.file.Path.of("target", "partition-" + seed + "-history.txt");
                    history.dump(file, nodes.stream().map(MirrorNode::nodeId).toList(), servers);
                    System.out.println("History, conflict logs and row versions written to " + file.toAbsolutePath());
                }
                assertTrue(problems.isEmpty(), problems.size() + " violations (seed " + seed + "):\n"
                        + String.join("\n", problems.subList(0, Math.min(20, problems.size()))));
                assertTrue(conflicts > 0, "no conflict was logged: the two sides did not collide");
            } finally {
                for (MirrorNode n : nodes) {
                    try {
                        n.transport().heal();
                    } catch (RuntimeException e) {
                        // closing anyway
                    }
                }
                pool.shutdownNow();
                TestMirrors.closeAll(nodes);
            }
        }
    }

    private static long ms(long nanos) {
        return Duration.ofNanos(nanos).toMillis();
    }

    private static List<String> members(List<MirrorNode> nodes) {
        return nodes.stream().map(n -> n.nodeId() + "=" + n.status().members()).toList();
    }
}
