package org.activemirroring.capture;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;

import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.RowChange;

import org.activemirroring.transport.EpochMicros;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.activemirroring.db.CaptureSource;
import org.activemirroring.schema.HeldOutTables;

/**
 * Groups Debezium's change events into one ChangeSet per source transaction and hands each to a
 * {@link Sink}; marks records processed (so offsets advance) only after the sink returned.
 *
 * <p>Grouping is by the source block's transaction id ({@link CaptureSource.EventFields#txId};
 * on PostgreSQL {@code source.txId}, while {@code transaction.id} is
 * {@code "<txId>:<lsn>"} and differs per event). A transaction closes at its transaction-metadata
 * END record, and defensively when a BEGIN or a data event of another txId arrives first. Records
 * of a transaction still open at the end of a batch stay unmarked, so that a restart re-reads the
 * whole transaction, never half of it.
 *
 * <p>Not published, but counted: echoes of our own applier ({@link EchoPolicy}), transactions
 * without rows, and replays of transactions the journal already holds (Debezium delivers at least
 * once). Called by the engine from one thread at a time; stats may be read from any thread.
 */
final class TransactionAssembler implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {

    /**
     * Receives the complete transactions of a batch, in commit order; returns only once all are
     * durably published. Several at once, so that versioning them costs one database transaction
     * however many arrived together (a busy site commits many per poll).
     */
    @FunctionalInterface
    interface Sink {
        /** @param rowLsns per ChangeSet, per row the log position of its change */
        void publish(List<ChangeSet> changeSets, List<long[]> rowLsns) throws InterruptedException;
    }

    /** Complete transactions are handed on at the latest when this many rows are waiting. */
    static final int MAX_WAITING_ROWS = 10_000;

    /** How many recent own transaction ids are remembered to recognise replays. */
    static final int REPLAY_MEMORY = 100_000;

    private final String nodeId;
    private final String transactionTopic;
    private final EchoPolicy echoPolicy;
    private final RowChangeConverter converter;
    private final HeldOutTables heldOut;
    /** Null when the database has none. */
    private final String heartbeatTable;
    private final CaptureSource.EventFields fields;
    private final Sink sink;
    private final Clock clock;
    private final LinkedHashSet<Long> publishedTxIds = new LinkedHashSet<>();

    /** The newest record received and not yet marked processed, or null. */
    private RecordChangeEvent<SourceRecord> pending;
    /** The newest record after which everything is complete and queued, waiting for the sink. */
    private RecordChangeEvent<SourceRecord> settled;
    private final List<ChangeSet> ready = new ArrayList<>();
    private final List<long[]> readyLsns = new ArrayList<>();
    private int readyRows;
    private OpenTx open;
    /** The highest log position of a change of a completed transaction, moved to {@link #position} at flush. */
    private long completedLsn;
    private final CapturePosition position = new CapturePosition();

    private volatile long published;
    private volatile long echoes;
    private volatile long replays;
    private volatile long empty;
    private volatile Instant lastCommit;

    private static final class OpenTx {
        final long txId;
        final List<RowChange> rows = new ArrayList<>();
        long[] lsns = new long[16];
        boolean echo;
        boolean heartbeat;
        long commitTimeMicros;
        /** The highest log position of any of its changes, published or not (heartbeats, echoes too). */
        long maxLsn;

        OpenTx(long txId) {
            this.txId = txId;
        }
    }

    /**
     * @param transactionTopic the topic of transaction-metadata records ({@code <topic.prefix>.transaction})
     * @param knownTxIds       source txIds of this node's recent published transactions (from the journal)
     * @param heldOut          tables whose changes are dropped; a change whose value cannot be carried adds its table
     * @param heartbeatTable   the database's heartbeat table ({@code schema.table}, see
     *                         {@link CaptureSource#heartbeatTable}), or null for none
     * @param fields           where the connector's source block holds txId, lsn and origin
     */
    TransactionAssembler(String nodeId, String transactionTopic, EchoPolicy echoPolicy, RowChangeConverter converter,
                         Sink sink, Collection<Long> knownTxIds, Clock clock, HeldOutTables heldOut,
                         String heartbeatTable, CaptureSource.EventFields fields) {
        this.heldOut = heldOut;
        this.heartbeatTable = heartbeatTable;
        this.fields = fields;
        this.nodeId = nodeId;
        this.transactionTopic = transactionTopic;
        this.echoPolicy = echoPolicy;
        this.converter = converter;
        this.sink = sink;
        this.clock = clock;
        for (Long id : knownTxIds) {
            remember(id);
        }
    }

    @Override
    public void handleBatch(List<RecordChangeEvent<SourceRecord>> records,
                            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        org.activemirroring.logging.LogContext.enter(nodeId); // a Debezium thread of this mirror
        for (RecordChangeEvent<SourceRecord> event : records) {
            SourceRecord r = event.record();
            if (transactionTopic.equals(r.topic()) && r.value() instanceof Struct v) {
                String status = v.getString("status");
                if ("BEGIN".equals(status)) {
                    if (open != null) {
                        complete(committer); // END missing: close what we have
                    }
                    open = new OpenTx(txIdOf(v.getString("id")));
                    pending = event;
                } else {
                    pending = event;
                    if (open != null) {
                        complete(committer);
                    } else {
                        markPending(committer);
                    }
                }
            } else if (RowChangeConverter.isDataEvent(r)) {
                Struct source = RowChangeConverter.source(r);
                long txId = source.getInt64(fields.txId());
                if (open != null && open.txId != txId) {
                    complete(committer);
                }
                if (open == null) {
                    open = new OpenTx(txId);
                }
                if (open.rows.isEmpty()) {
                    open.commitTimeMicros = commitMicros(source);
                }
                Long eventLsn = fields.lsn() != null && source.schema().field(fields.lsn()) != null
                        ? source.getInt64(fields.lsn()) : null;
                if (eventLsn != null && eventLsn > open.maxLsn) {
                    open.maxLsn = eventLsn;
                }
                String table = RowChangeConverter.table(source);
                if (table.equals(heartbeatTable)) {
                    // A heartbeat row: it carries the position forward, it is no change of the site.
                    open.heartbeat = true;
                } else if (echoPolicy.isEcho(source, fields.origin())) {
                    open.echo = true; // not converted: it is dropped anyway
                } else if (!open.echo && !heldOut.contains(table)) {
                    RowChange row;
                    try {
                        row = converter.convert(r);
                    } catch (UnsupportedTypeException e) {
                        // A column added since start holds a value capture cannot carry: that
                        // table alone is held out from now on, everything else goes on.
                        heldOut.hold(table, e.getMessage());
                        pending = event;
                        continue;
                    }
                    if (open.rows.size() == open.lsns.length) {
                        open.lsns = java.util.Arrays.copyOf(open.lsns, open.lsns.length * 2);
                    }
                    open.lsns[open.rows.size()] = eventLsn == null ? 0 : eventLsn;
                    open.rows.add(row);
                }
                pending = event;
            } else {
                // Heartbeats and the like: they belong to no transaction, keep them in order.
                pending = event;
                if (open == null) {
                    markPending(committer);
                }
            }
        }
        flush(committer);
        committer.markBatchFinished();
    }

    /** Hands the queued transactions to the sink, then marks the newest settled record. */
    private void flush(DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        if (!ready.isEmpty()) {
            sink.publish(List.copyOf(ready), List.copyOf(readyLsns));
            published += ready.size();
            lastCommit = Instant.EPOCH.plus(ready.get(ready.size() - 1).commitTimeMicros(), ChronoUnit.MICROS);
            ready.clear();
            readyLsns.clear();
            readyRows = 0;
        }
        // Everything completed so far is published (or dropped on purpose): see CapturePosition.
        position.advance(completedLsn);
        // Offsets are cumulative: marking the newest settled record moves the position past all
        // before it, so the records themselves need not be kept (a 200k-row transaction would
        // otherwise hold 200k SourceRecords until its END).
        if (settled != null) {
            committer.markProcessed(settled);
            settled = null;
        }
    }

    /** The source commit time in microseconds where the connector reports it, else from milliseconds. */
    static long commitMicros(Struct source) {
        for (String field : new String[] {"ts_us", "ts_usec"}) {
            if (source.schema().field(field) != null && source.get(field) != null) {
                return source.getInt64(field);
            }
        }
        return source.getInt64("ts_ms") * 1_000L;
    }

    private void complete(DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        OpenTx tx = open;
        open = null;
        completedLsn = Math.max(completedLsn, tx.maxLsn);
        if (publishedTxIds.contains(tx.txId)) {
            replays++;
        } else if (tx.echo) {
            echoes++;
        } else if (tx.rows.isEmpty()) {
            if (!tx.heartbeat) {
                empty++;
            }
        } else {
            ChangeSet cs = new ChangeSet(nodeId, 0, tx.txId, tx.commitTimeMicros, EpochMicros.now(clock), tx.rows);
            ready.add(cs);
            readyLsns.add(tx.lsns);
            readyRows += tx.rows.size();
            remember(tx.txId);
        }
        markPending(committer);
        if (readyRows >= MAX_WAITING_ROWS) {
            flush(committer);
        }
    }

    /** The pending record is settled: marked with the next flush, after the queue is published. */
    private void markPending(DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) {
        if (pending != null) {
            settled = pending;
            pending = null;
        }
    }

    private void remember(long txId) {
        publishedTxIds.add(txId);
        if (publishedTxIds.size() > REPLAY_MEMORY) {
            Iterator<Long> it = publishedTxIds.iterator();
            it.next();
            it.remove();
        }
    }

    /** The txId part of a PostgreSQL transaction id {@code "<txId>:<lsn>"}. */
    static long txIdOf(String transactionId) {
        int colon = transactionId.indexOf(':');
        return Long.parseLong(colon < 0 ? transactionId : transactionId.substring(0, colon));
    }

    /** How far this capture has published (see {@link CapturePosition}). */
    CapturePosition position() {
        return position;
    }

    CaptureStats stats() {
        return new CaptureStats(published, echoes, replays, empty, lastCommit);
    }
}
