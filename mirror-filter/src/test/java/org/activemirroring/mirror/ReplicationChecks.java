package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;

/**
 * The checks every replication test ends with: all mirrors applied all of each other's
 * ChangeSets, the databases are identical, each ChangeSet took effect once, nothing echoed.
 */
final class ReplicationChecks {
    private ReplicationChecks() {
    }

    static void awaitMembers(List<MirrorNode> nodes, int count, Duration timeout) {
        Await.until(timeout, () -> nodes.stream().allMatch(n -> n.status().members().size() == count),
                () -> "members: " + nodes.stream().map(n -> n.nodeId() + "=" + n.status().members()).toList());
    }

    /**
     * Waits until every node's own journal holds at least its writer's transactions and every node
     * applied every other node's whole journal.
     */
    static void awaitAllApplied(List<MirrorNode> nodes, List<Workload> writers, Duration timeout) {
        Await.until(timeout, () -> {
            for (int i = 0; i < nodes.size(); i++) {
                if (nodes.get(i).ownJournalHead() < writers.get(i).committed()) {
                    return false;
                }
            }
            for (MirrorNode n : nodes) {
                Map<String, Long> applied = n.appliedVector();
                for (MirrorNode origin : nodes) {
                    if (origin != n && applied.getOrDefault(origin.nodeId(), 0L) != origin.ownJournalHead()) {
                        return false;
                    }
                }
            }
            return true;
        }, () -> describe(nodes, writers));
    }

    /**
     * Writes a fence on every mirror and waits until all are applied everywhere. Capture reads the
     * log in commit order, so once a mirror's fence is published, any echo of what it applied
     * before would have been published too: the journal heads can then be compared exactly.
     */
    static void fenceAndAwait(List<MirrorNode> nodes, List<PgServer> servers, List<Workload> writers, int round,
                              Duration timeout) throws Exception {
        for (int i = 0; i < nodes.size(); i++) {
            writers.get(i).fence(servers.get(i), round);
        }
        awaitAllApplied(nodes, writers, timeout);
    }

    static void assertConvergedExactlyOnceNoEcho(List<MirrorNode> nodes, List<PgServer> servers,
                                                 List<Workload> writers) throws Exception {
        // No echo: each mirror originated exactly one envelope per local transaction.
        for (int i = 0; i < nodes.size(); i++) {
            assertEquals(writers.get(i).committed(), nodes.get(i).ownJournalHead(),
                    nodes.get(i).nodeId() + " originated a different number of ChangeSets than its local transactions");
        }
        // Exactly once: every other origin's ChangeSets applied, each one once.
        for (int i = 0; i < nodes.size(); i++) {
            Map<String, long[]> applied = SiteSchema.appliedTable(servers.get(i));
            assertFalse(applied.containsKey(nodes.get(i).nodeId()), "a mirror applied its own ChangeSets");
            for (MirrorNode origin : nodes) {
                if (origin == nodes.get(i)) {
                    continue;
                }
                long[] row = applied.get(origin.nodeId());
                String where = nodes.get(i).nodeId() + " from " + origin.nodeId();
                assertEquals(origin.ownJournalHead(), row[0], "applied seq " + where);
                assertEquals(row[0], row[1], "apply count " + where + " (a ChangeSet applied twice or skipped)");
            }
        }
        // Convergence: identical rows in every table.
        Map<String, String> first = SiteSchema.digest(servers.get(0));
        for (int i = 1; i < servers.size(); i++) {
            assertEquals(first, SiteSchema.digest(servers.get(i)), "table digests of " + nodes.get(0).nodeId()
                    + " and " + nodes.get(i).nodeId());
        }
    }

    /**
     * Writes a fence row on every mirror, then waits until every mirror holds all fences and every
     * mirror applied every other mirror's whole journal: nothing is in flight any more.
     */
    static void awaitQuiescent(List<MirrorNode> nodes, List<PgServer> servers, int round, Duration timeout)
            throws Exception {
        for (int i = 0; i < nodes.size(); i++) {
            RegisterWorkload.fence(servers.get(i), nodes.get(i).nodeId(), round);
        }
        Await.until(timeout, () -> {
            for (PgServer s : servers) {
                if (RegisterWorkload.fencesAtLeast(s, round) < nodes.size()) {
                    return false;
                }
            }
            for (MirrorNode n : nodes) {
                Map<String, Long> applied = n.appliedVector();
                for (MirrorNode origin : nodes) {
                    if (origin != n && applied.getOrDefault(origin.nodeId(), 0L) != origin.ownJournalHead()) {
                        return false;
                    }
                }
            }
            return true;
        }, () -> nodes.stream().map(n -> n.nodeId() + "{head=" + n.ownJournalHead() + ", members="
                + n.status().members() + ", origins=" + n.status().origins() + "}").toList().toString());
    }

    static String describe(List<MirrorNode> nodes, List<Workload> writers) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            MirrorNode n = nodes.get(i);
            String applied;
            try {
                applied = n.appliedVector().toString();
            } catch (Exception e) {
                applied = e.toString();
            }
            parts.add(n.nodeId() + "{local=" + writers.get(i).committed() + ", head=" + n.ownJournalHead()
                    + ", applied=" + applied + ", members=" + n.status().members() + "}");
        }
        return String.join(" ", parts);
    }
}
