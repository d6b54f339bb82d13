package org.activemirroring.bench;

import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;

import org.apache.kafka.connect.source.SourceRecord;

import org.activemirroring.testsupport.PgServer;

/**
 * The ceiling of our pipeline: the Debezium embedded engine alone on one server, with a consumer
 * that only counts row events. Same connector settings and record format (Connect) as mirror
 * capture.
 */
final class RawCapture implements AutoCloseable {
    private final AtomicLong rowEvents = new AtomicLong();
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "bench-raw-capture"));
    private final DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private final CountDownLatch started = new CountDownLatch(1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    RawCapture(PgServer server, String table) {
        Properties p = new Properties();
        p.setProperty("name", "bench-raw");
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.MemoryOffsetBackingStore");
        p.setProperty("offset.flush.interval.ms", "1000");
        p.setProperty("database.hostname", server.host());
        p.setProperty("database.port", Integer.toString(server.port()));
        p.setProperty("database.user", server.user());
        p.setProperty("database.password", server.password());
        p.setProperty("database.dbname", server.database());
        p.setProperty("topic.prefix", "bench");
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", "bench_raw");
        p.setProperty("publication.name", "bench_raw_pub");
        p.setProperty("publication.autocreate.mode", "filtered");
        p.setProperty("table.include.list", "public." + table);
        p.setProperty("snapshot.mode", "no_data");
        p.setProperty("poll.interval.ms", "10");
        p.setProperty("provide.transaction.metadata", "true");
        p.setProperty("tombstones.on.delete", "false");
        p.setProperty("decimal.handling.mode", "string");
        p.setProperty("slot.drop.on.stop", "true");
        this.engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(p)
                .using(new DebeziumEngine.ConnectorCallback() {
                    @Override
                    public void taskStarted() {
                        started.countDown();
                    }
                })
                .using((success, message, error) -> {
                    if (!success) {
                        failure.set(error != null ? error : new IllegalStateException(message));
                    }
                    started.countDown();
                })
                .notifying(this::consume)
                .build();
    }

    private void consume(List<RecordChangeEvent<SourceRecord>> records,
                         DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        long rows = 0;
        for (RecordChangeEvent<SourceRecord> r : records) {
            if (r.record().value() != null && !r.record().topic().endsWith(".transaction")) {
                rows++;
            }
            committer.markProcessed(r);
        }
        rowEvents.addAndGet(rows);
        committer.markBatchFinished();
    }

    void start() throws InterruptedException {
        executor.execute(engine);
        if (!started.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("raw Debezium capture did not start within 60 s");
        }
        if (failure.get() != null) {
            throw new IllegalStateException("raw Debezium capture failed: " + failure.get(), failure.get());
        }
    }

    long rowEvents() {
        return rowEvents.get();
    }

    @Override
    public void close() throws Exception {
        engine.close();
        executor.shutdown();
        executor.awaitTermination(30, TimeUnit.SECONDS);
    }
}
