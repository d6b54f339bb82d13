package org.activemirroring.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

import io.debezium.connector.base.ChangeEventQueue;
import io.debezium.connector.base.DefaultQueueProvider;
import io.debezium.pipeline.DataChangeEvent;
import io.debezium.util.LoggingContext;

class QuietPollTest {
    /** Stands in for a Debezium task: the queue in a private field named like PostgresConnectorTask's. */
    static final class TaskWithQueue {
        @SuppressWarnings("unused")
        private volatile ChangeEventQueue<DataChangeEvent> queue;
    }

    static final class TaskWithoutQueue {
    }

    /** A queue whose own poll would hold for seconds, so a poll that returns at once did not use it. */
    private static ChangeEventQueue<DataChangeEvent> queue(int capacity) {
        return new ChangeEventQueue.Builder<DataChangeEvent>()
                .pollInterval(Duration.ofSeconds(30))
                .maxBatchSize(capacity)
                .maxQueueSize(capacity)
                .queueProvider(new DefaultQueueProvider<>(capacity))
                .loggingContextSupplier(() -> LoggingContext.forConnector("test", "test", "test"))
                .build();
    }

    private static DataChangeEvent event(int n) {
        return new DataChangeEvent(new SourceRecord(null, null, "t", Schema.INT32_SCHEMA, n));
    }

    private static QuietPoll quiet(ChangeEventQueue<DataChangeEvent> q) throws Exception {
        TaskWithQueue task = new TaskWithQueue();
        var f = TaskWithQueue.class.getDeclaredField("queue");
        f.setAccessible(true);
        f.set(task, q);
        return new QuietPoll(task, TaskWithQueue.class);
    }

    @Test
    void takesWhatTheQueueHoldsWithoutDebeziumsPoll() throws Exception {
        ChangeEventQueue<DataChangeEvent> q = queue(100);
        QuietPoll quiet = quiet(q);
        assertTrue(quiet.direct(), "this Debezium's ChangeEventQueue no longer has the lock, isNotFull and"
                + " drainRecords that QuietPoll drains through; update QuietPoll for it");
        for (int i = 1; i <= 3; i++) {
            q.enqueue(event(i));
        }
        List<SourceRecord> got = quiet.poll(() -> fail("Debezium's poll was used although the queue held changes"));
        assertEquals(List.of(1, 2, 3), got.stream().map(SourceRecord::value).toList());
        assertEquals(q.totalCapacity(), q.remainingCapacity(), "the queue was drained");
    }

    @Test
    void anIdleQueueHandsControlToDebeziumsPollAfterAWhile() throws Exception {
        QuietPoll quiet = quiet(queue(100));
        AtomicInteger debeziumPolls = new AtomicInteger();
        List<SourceRecord> got = quiet.poll(() -> {
            debeziumPolls.incrementAndGet();
            return List.of();
        });
        assertEquals(List.of(), got);
        assertEquals(1, debeziumPolls.get());
    }

    @Test
    void aChangeArrivingWhileWaitingIsTaken() throws Exception {
        ChangeEventQueue<DataChangeEvent> q = queue(100);
        QuietPoll quiet = quiet(q);
        CompletableFuture<List<SourceRecord>> polled = CompletableFuture.supplyAsync(() -> {
            try {
                return quiet.poll(() -> List.of());
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        q.enqueue(event(7));
        // Debezium's poll answers empty: a record here came from the direct path, whenever it ran.
        List<SourceRecord> got = polled.get(10, TimeUnit.SECONDS);
        if (got.isEmpty()) {
            got = quiet.poll(() -> fail("Debezium's poll was used although the queue held a change"));
        }
        assertEquals(List.of(7), got.stream().map(SourceRecord::value).toList());
    }

    @Test
    void aProducerWaitingForRoomIsWokenByTheDrain() throws Exception {
        ChangeEventQueue<DataChangeEvent> q = queue(2);
        QuietPoll quiet = quiet(q);
        q.enqueue(event(1));
        q.enqueue(event(2));
        CompletableFuture<Void> third = CompletableFuture.runAsync(() -> {
            try {
                q.enqueue(event(3)); // blocks while the queue is full, up to its 30 s poll interval per look
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(List.of(1, 2), quiet.poll(() -> fail("Debezium's poll used")).stream().map(SourceRecord::value).toList());
        third.get(10, TimeUnit.SECONDS); // without the not-full signal it would sleep 30 s
        assertEquals(List.of(3), quiet.poll(() -> fail("Debezium's poll used")).stream().map(SourceRecord::value).toList());
    }

    @Test
    void withoutTheQueueEveryPollIsDebeziums() throws Exception {
        QuietPoll quiet = new QuietPoll(new TaskWithoutQueue(), TaskWithoutQueue.class);
        assertFalse(quiet.direct());
        SourceRecord r = event(5).getRecord();
        assertEquals(List.of(r), quiet.poll(() -> List.of(r)));
    }
}
