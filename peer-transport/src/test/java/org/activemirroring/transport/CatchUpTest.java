package org.activemirroring.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Catch-up's bookkeeping without a network: peers are a small in-memory stand-in. */
class CatchUpTest {

    @TempDir
    Path dir;

    @Test
    void aHoleReportedWhileAFetchRunsIsFetchedWhenThatFetchEnds() throws Exception {
        List<Envelope> a = JournalTest.chain("a", 3);
        CountDownLatch firstFetchStarted = new CountDownLatch(1);
        CountDownLatch releaseFirstFetch = new CountDownLatch(1);
        CatchUp.Peers peers = new CatchUp.Peers() {
            private boolean first = true;

            @Override
            public List<String> others() {
                return List.of("p");
            }

            @Override
            public Map<String, Long> heads(String node) {
                return Map.of("a", 3L);
            }

            @Override
            public synchronized List<Envelope> fetch(String node, String origin, long fromSeq, int maxCount)
                    throws TransportException {
                if (first) {
                    // The first fetch stands for one that began before seq 3 existed on the peer.
                    first = false;
                    firstFetchStarted.countDown();
                    try {
                        releaseFirstFetch.await(5, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return List.of(a.get(0));
                }
                int from = (int) fromSeq - 1;
                return a.subList(from, Math.min(a.size(), from + maxCount));
            }

            @Override
            public Map<String, Long> firsts(String node) {
                return Map.of("a", 1L);
            }
        };
        RecordingHandler h = new RecordingHandler("me");
        ScheduledExecutorService exec = Executors.newScheduledThreadPool(2);
        try (Journal journal = Journal.open(dir)) {
            CatchUp[] holder = new CatchUp[1];
            DeliveryPipeline pipeline = new DeliveryPipeline("me", journal, h, Map.of(),
                    (o, from, to, node) -> holder[0].missing(o, from, to, node), new TransportCounters());
            holder[0] = new CatchUp("me", peers, pipeline, exec, 600_000, (o, from, firsts) -> {
                throw new AssertionError("nothing is lost here");
            });
            pipeline.start();
            try {
                holder[0].missing("a", 1, 1, "p");
                firstFetchStarted.await(5, TimeUnit.SECONDS);
                // While that fetch runs, seq 3 arrives from the network: hole 2..2 is reported.
                pipeline.offer(a.get(2), "p");
                releaseFirstFetch.countDown();
                Await.until(Duration.ofSeconds(5), () -> h.last("a") == 3, () -> "got " + h.seqs("a"));
                assertEquals(List.of(1L, 2L, 3L), h.seqs("a"));
            } finally {
                holder[0].close();
                pipeline.close();
            }
        } finally {
            exec.shutdownNow();
        }
    }

    @Test
    void theFirstRoundTellsWhatThePeersHeldAndTheBacklogIsDeliveredUpToIt() throws Exception {
        Map<String, List<Envelope>> chains = Map.of("a", JournalTest.chain("a", 7), "b", JournalTest.chain("b", 2));
        CatchUp.Peers peers = new CatchUp.Peers() {
            @Override
            public List<String> others() {
                return List.of("p", "q");
            }

            @Override
            public Map<String, Long> heads(String node) {
                // p is behind q on "a"; both hold some of this node's own history, which is not waited for
                return node.equals("p") ? Map.of("a", 4L, "me", 9L) : Map.of("a", 7L, "b", 2L, "me", 3L);
            }

            @Override
            public List<Envelope> fetch(String node, String origin, long fromSeq, int maxCount) {
                List<Envelope> c = chains.get(origin);
                int from = (int) fromSeq - 1;
                return c.subList(from, Math.min(c.size(), from + maxCount));
            }

            @Override
            public Map<String, Long> firsts(String node) {
                return Map.of("a", 1L, "b", 1L);
            }
        };
        RecordingHandler h = new RecordingHandler("me");
        ScheduledExecutorService exec = Executors.newScheduledThreadPool(1);
        try (Journal journal = Journal.open(dir)) {
            CatchUp[] holder = new CatchUp[1];
            DeliveryPipeline pipeline = new DeliveryPipeline("me", journal, h, Map.of("a", 2L),
                    (o, from, to, node) -> holder[0].missing(o, from, to, node), new TransportCounters());
            holder[0] = new CatchUp("me", peers, pipeline, exec, 600_000, (o, from, firsts) -> {
                throw new AssertionError("nothing is lost here");
            });
            assertFalse(holder[0].firstHeads().isDone(), "no round ran yet");
            pipeline.start();
            holder[0].start();
            try {
                assertEquals(Map.of("a", 7L, "b", 2L), holder[0].firstHeads().get(5, TimeUnit.SECONDS));
                Await.until(Duration.ofSeconds(5), () -> pipeline.delivered().getOrDefault("a", 0L) == 7
                        && pipeline.delivered().getOrDefault("b", 0L) == 2, () -> "delivered " + pipeline.delivered());
                assertEquals(List.of(3L, 4L, 5L, 6L, 7L), h.seqs("a"));
            } finally {
                holder[0].close();
                pipeline.close();
            }
        } finally {
            exec.shutdownNow();
        }
    }

    /** Peers ahead on origin "a" whose journals start at seq 6, while this node needs seq 1. */
    private static CatchUp.Peers prunedPeers(boolean secondAnswersFirsts) {
        return new CatchUp.Peers() {
            @Override
            public List<String> others() {
                return List.of("p", "q");
            }

            @Override
            public Map<String, Long> heads(String node) {
                return Map.of("a", 10L);
            }

            @Override
            public List<Envelope> fetch(String node, String origin, long fromSeq, int maxCount) {
                return List.of(); // seq 1..5 are gone
            }

            @Override
            public Map<String, Long> firsts(String node) throws TransportException {
                if (node.equals("q") && !secondAnswersFirsts) {
                    throw new TransportException("q does not answer", true);
                }
                return Map.of("a", 6L);
            }
        };
    }

    private List<String> lossesReported(CatchUp.Peers peers) throws Exception {
        List<String> reported = new java.util.concurrent.CopyOnWriteArrayList<>();
        ScheduledExecutorService exec = Executors.newScheduledThreadPool(1);
        try (Journal journal = Journal.open(dir.resolve(peers.toString().hashCode() + ""))) {
            CatchUp[] holder = new CatchUp[1];
            DeliveryPipeline pipeline = new DeliveryPipeline("me", journal, new RecordingHandler("me"), Map.of(),
                    (o, from, to, node) -> holder[0].missing(o, from, to, node), new TransportCounters());
            holder[0] = new CatchUp("me", peers, pipeline, exec, 50,
                    (o, from, firsts) -> reported.add(o + "#" + from + " " + firsts));
            pipeline.start();
            holder[0].start();
            try {
                // Several rounds: enough to report (two rounds without progress), and to report twice if it would.
                CountDownLatch rounds = new CountDownLatch(1);
                exec.schedule(rounds::countDown, 600, TimeUnit.MILLISECONDS);
                rounds.await(5, TimeUnit.SECONDS);
            } finally {
                holder[0].close();
                pipeline.close();
            }
        } finally {
            exec.shutdownNow();
        }
        return reported;
    }

    @Test
    void historyNoReachablePeerHoldsAnyMoreIsReportedOnce() throws Exception {
        assertEquals(List.of("a#1 {p=6, q=6}"), lossesReported(prunedPeers(true)));
    }

    @Test
    void historyIsNotCalledLostWhileSomePeerDoesNotAnswer() throws Exception {
        assertEquals(List.of(), lossesReported(prunedPeers(false)));
    }
}
