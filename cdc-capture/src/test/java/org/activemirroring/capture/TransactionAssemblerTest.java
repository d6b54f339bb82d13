package org.activemirroring.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.RowChange;
import org.activemirroring.postgres.PostgresCaptureSource;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.schema.HeldOutTables;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

/** Grouping, marking and dropping, with hand-made records shaped like Debezium's PostgreSQL events. */
class TransactionAssemblerTest {

    private static final String TX_TOPIC = "am-n.transaction";
    private static final Schema SOURCE = SchemaBuilder.struct()
            .field("schema", Schema.STRING_SCHEMA).field("table", Schema.STRING_SCHEMA)
            .field("txId", Schema.OPTIONAL_INT64_SCHEMA).field("ts_ms", Schema.INT64_SCHEMA)
            .field("origin", Schema.OPTIONAL_STRING_SCHEMA).build();
    private static final Schema ROW = SchemaBuilder.struct().optional()
            .field("id", Schema.INT64_SCHEMA).field("name", Schema.OPTIONAL_STRING_SCHEMA).build();
    private static final Schema KEY = SchemaBuilder.struct().field("id", Schema.INT64_SCHEMA).build();
    private static final Schema VALUE = SchemaBuilder.struct()
            .field("before", ROW).field("after", ROW).field("source", SOURCE).field("op", Schema.STRING_SCHEMA).build();
    private static final Schema TX = SchemaBuilder.struct()
            .field("status", Schema.STRING_SCHEMA).field("id", Schema.STRING_SCHEMA).build();

    private final List<ChangeSet> sunk = new ArrayList<>();
    private final List<SourceRecord> marked = new ArrayList<>();
    private final List<Integer> markedAtPublish = new ArrayList<>();
    private int batchesFinished;

    private final DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer = new DebeziumEngine.RecordCommitter<>() {
        @Override
        public void markProcessed(RecordChangeEvent<SourceRecord> record) {
            marked.add(record.record());
        }

        @Override
        public void markBatchFinished() {
            batchesFinished++;
        }

        @Override
        public void markProcessed(RecordChangeEvent<SourceRecord> record, DebeziumEngine.Offsets offsets) {
            marked.add(record.record());
        }

        @Override
        public DebeziumEngine.Offsets buildOffsets() {
            throw new UnsupportedOperationException();
        }
    };

    private TransactionAssembler assembler(List<Long> known) {
        return new TransactionAssembler("node-n", TX_TOPIC, new EchoPolicy("activemirroring_apply"),
                new RowChangeConverter(new ValueEncoder(), java.util.Set.of()), (list, lsns) -> {
                    markedAtPublish.add(marked.size());
                    sunk.addAll(list);
                }, known, Clock.fixed(Instant.ofEpochMilli(1_800_000_000_000L), ZoneOffset.UTC), HeldOutTables.none(),
                PostgresDialect.HEARTBEAT_TABLE, new PostgresCaptureSource().eventFields());
    }

    private static RecordChangeEvent<SourceRecord> tx(String status, long txId) {
        Struct v = new Struct(TX).put("status", status).put("id", txId + ":" + (1000 + txId));
        SourceRecord r = new SourceRecord(Map.of(), Map.of(), TX_TOPIC, TX, v);
        return () -> r;
    }

    private static RecordChangeEvent<SourceRecord> data(long txId, long id, String origin) {
        Struct source = new Struct(SOURCE).put("schema", "public").put("table", "item").put("txId", txId)
                .put("ts_ms", 1_700_000_000_000L + txId).put("origin", origin);
        Struct value = new Struct(VALUE).put("after", new Struct(ROW).put("id", id).put("name", "n" + id))
                .put("source", source).put("op", "c");
        SourceRecord r = new SourceRecord(Map.of(), Map.of(), "am-n.public.item", KEY, new Struct(KEY).put("id", id),
                VALUE, value);
        return () -> r;
    }

    private static final Schema SOURCE_LSN = SchemaBuilder.struct()
            .field("schema", Schema.STRING_SCHEMA).field("table", Schema.STRING_SCHEMA)
            .field("txId", Schema.OPTIONAL_INT64_SCHEMA).field("lsn", Schema.OPTIONAL_INT64_SCHEMA)
            .field("ts_ms", Schema.INT64_SCHEMA).field("origin", Schema.OPTIONAL_STRING_SCHEMA).build();
    private static final Schema VALUE_LSN = SchemaBuilder.struct()
            .field("before", ROW).field("after", ROW).field("source", SOURCE_LSN).field("op", Schema.STRING_SCHEMA)
            .build();

    private static RecordChangeEvent<SourceRecord> dataAt(long txId, long id, long lsn, String schema, String table) {
        Struct source = new Struct(SOURCE_LSN).put("schema", schema).put("table", table).put("txId", txId)
                .put("lsn", lsn).put("ts_ms", 1_700_000_000_000L + txId);
        Struct value = new Struct(VALUE_LSN).put("after", new Struct(ROW).put("id", id).put("name", "n" + id))
                .put("source", source).put("op", "u");
        SourceRecord r = new SourceRecord(Map.of(), Map.of(), "am-n." + schema + "." + table, KEY,
                new Struct(KEY).put("id", id), VALUE_LSN, value);
        return () -> r;
    }

    @Test
    void thePositionPassesAHeartbeatOnlyOnceEverythingBeforeItIsPublished() throws Exception {
        List<Long> passedAtPublish = new ArrayList<>();
        CapturePosition[] position = new CapturePosition[1];
        TransactionAssembler a = new TransactionAssembler("node-n", TX_TOPIC, new EchoPolicy("activemirroring_apply"),
                new RowChangeConverter(new ValueEncoder(), java.util.Set.of()), (list, lsns) -> {
                    passedAtPublish.add(position[0].passed());
                    sunk.addAll(list);
                }, List.of(), Clock.systemUTC(), HeldOutTables.none(), PostgresDialect.HEARTBEAT_TABLE,
                new PostgresCaptureSource().eventFields());
        position[0] = a.position();
        a.handleBatch(List.of(tx("BEGIN", 5), dataAt(5, 1, 100, "public", "item")), committer);
        assertEquals(0, a.position().passed(), "an open transaction moves nothing");
        a.handleBatch(List.of(tx("END", 5), tx("BEGIN", 6), dataAt(6, 1, 200, "mirror", "heartbeat"), tx("END", 6)),
                committer);
        assertEquals(1, sunk.size(), "the heartbeat is not published");
        assertEquals(List.of(0L), passedAtPublish, "the position moves only after the site's transaction is published");
        assertEquals(200, a.position().passed());
        assertTrue(a.position().awaitPassed(150, 1, java.util.concurrent.TimeUnit.MILLISECONDS));
        assertFalse(a.position().awaitPassed(201, 1, java.util.concurrent.TimeUnit.MILLISECONDS));
    }

    @Test
    void commitTimeTakesTheMicrosecondFieldWhenTheConnectorSendsIt() {
        Schema withMicros = SchemaBuilder.struct().field("ts_ms", Schema.INT64_SCHEMA)
                .field("ts_us", Schema.OPTIONAL_INT64_SCHEMA).build();
        assertEquals(1_700_000_000_005_123L, TransactionAssembler.commitMicros(
                new Struct(withMicros).put("ts_ms", 1_700_000_000_005L).put("ts_us", 1_700_000_000_005_123L)));
        assertEquals(1_700_000_000_005_000L, TransactionAssembler.commitMicros(
                new Struct(withMicros).put("ts_ms", 1_700_000_000_005L)));
    }

    @Test
    void aTransactionSpanningBatchesIsPublishedOnceCompleteAndOnlyThenMarked() throws Exception {
        TransactionAssembler a = assembler(List.of());
        var begin = tx("BEGIN", 5);
        var d1 = data(5, 1, null);
        var d2 = data(5, 2, null);
        var end = tx("END", 5);
        a.handleBatch(List.of(begin, d1), committer);
        assertEquals(List.of(), sunk);
        assertEquals(List.of(), marked, "nothing of an open transaction is marked");
        assertEquals(1, batchesFinished);

        a.handleBatch(List.of(d2, end), committer);
        assertEquals(1, sunk.size());
        ChangeSet cs = sunk.get(0);
        assertEquals(5, cs.sourceTxId());
        // The test source has only ts_ms: commit time in microseconds is derived from it.
        assertEquals(1_700_000_000_005_000L, cs.commitTimeMicros());
        assertEquals(1_800_000_000_000_000L, cs.captureTimeMicros());
        assertEquals(List.of(Map.of("id", "1"), Map.of("id", "2")), cs.rows().stream().map(RowChange::key).toList());
        assertEquals(List.of(0), markedAtPublish, "marked only after publish returned");
        assertEquals(List.of(end.record()), marked, "the transaction's last record moves the offset past all of it");
        assertEquals(1, a.stats().published());
    }

    @Test
    void echoesReplaysAndEmptyTransactionsAreDroppedButMarked() throws Exception {
        TransactionAssembler a = assembler(List.of(7L));
        a.handleBatch(List.of(tx("BEGIN", 6), data(6, 1, "activemirroring_apply"), tx("END", 6),
                tx("BEGIN", 7), data(7, 2, null), tx("END", 7),
                tx("BEGIN", 8), tx("END", 8),
                tx("BEGIN", 9), data(9, 3, "pg_16400"), tx("END", 9)), committer);
        assertEquals(1, sunk.size(), "only tx 9 (another origin is not our applier)");
        assertEquals(9, sunk.get(0).sourceTxId());
        assertEquals(1, marked.size(), "the batch's newest settled record moves the offset past all four");
        assertEquals(List.of(0), markedAtPublish, "marked after the batch's transactions were published");
        CaptureStats s = a.stats();
        assertEquals(1, s.echoesDropped());
        assertEquals(1, s.replaysSkipped());
        assertEquals(1, s.emptyDropped());
        assertEquals(1, s.published());
    }

    @Test
    void aChangedTxIdClosesTheOpenTransactionWhenEndIsMissing() throws Exception {
        TransactionAssembler a = assembler(List.of());
        a.handleBatch(List.of(data(10, 1, null), data(10, 2, null), data(11, 3, null)), committer);
        assertEquals(1, sunk.size());
        assertEquals(2, sunk.get(0).rows().size());
        assertEquals(1, marked.size(), "tx 10 settled, tx 11 is still open");
        a.handleBatch(List.of(tx("BEGIN", 12)), committer);
        assertEquals(2, sunk.size());
        assertEquals(11, sunk.get(1).sourceTxId());
        assertEquals(2, marked.size(), "tx 11 settled; the BEGIN of tx 12 waits for its transaction");
    }

    @Test
    void aPublishedTransactionSeenAgainIsAReplay() throws Exception {
        TransactionAssembler a = assembler(List.of());
        a.handleBatch(List.of(tx("BEGIN", 20), data(20, 1, null), tx("END", 20)), committer);
        a.handleBatch(List.of(tx("BEGIN", 20), data(20, 1, null), tx("END", 20)), committer);
        assertEquals(1, sunk.size());
        assertEquals(1, a.stats().replaysSkipped());
        assertEquals(2, marked.size());
    }

    @Test
    void transactionIdParsing() {
        assertEquals(745L, TransactionAssembler.txIdOf("745:37415144"));
        assertEquals(745L, TransactionAssembler.txIdOf("745"));
    }
}
