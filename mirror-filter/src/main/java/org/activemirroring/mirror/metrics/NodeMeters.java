package org.activemirroring.mirror.metrics;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import org.activemirroring.apply.ParkedChanges;
import org.activemirroring.files.sync.FileSyncStatus;
import org.activemirroring.mirror.MirrorNode;
import org.activemirroring.mirror.NodeStatus;
import org.activemirroring.transport.TransportStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The meters read from a mirror node's status. Values come from one reading of the node, taken at
 * most once a second whoever asks (a Prometheus scrape, a JMX client), so that one scrape costs one
 * status read and not one per meter. Meters per origin, folder and refusal reason are added the
 * first time a reading shows them, and stay (a mirror that left still has its lag at 0).
 */
final class NodeMeters {
    private static final Logger LOG = LoggerFactory.getLogger(NodeMeters.class);
    private static final long MAX_AGE_NANOS = TimeUnit.SECONDS.toNanos(1);

    /** One reading of the node; every part null when no node runs. */
    record Reading(NodeStatus status, Map<String, Long> journalBytes, ParkedChanges.Summary parked,
                   TransportStats transport) {
        static final Reading NONE = new Reading(null, Map.of(), null, null);
    }

    private final MeterRegistry registry;
    private final Supplier<MirrorNode> node;
    private final Set<String> registered = ConcurrentHashMap.newKeySet();
    private volatile Reading reading = Reading.NONE;
    private long readAt = System.nanoTime() - 2 * MAX_AGE_NANOS; // guarded by this

    NodeMeters(MeterRegistry registry, Supplier<MirrorNode> node) {
        this.registry = registry;
        this.node = node;
        gauge("mirror.ready", "1 while this mirror serves the site and replicates, else 0",
                r -> r.status() != null && r.status().ready() ? 1 : 0);
        gauge("mirror.members", "Reachable mirrors, this one included", r -> r.status() == null ? Double.NaN
                : r.status().members().size());
        counter("mirror.applied", "ChangeSets of other mirrors applied here since the node started",
                r -> r.status() == null || r.status().apply() == null ? 0 : r.status().apply().applied());
        counter("mirror.published", "Transactions of this mirror's site captured and sent since the node started",
                r -> r.status() == null || r.status().capture() == null ? 0 : r.status().capture().published());
        counter("mirror.conflicts", "Writes that lost under the conflict rule since the node started",
                r -> r.status() == null || r.status().conflicts() == null ? 0 : r.status().conflicts().sinceStart());
        counter("mirror.race.repairs", "Local writes restored after an applied change crossed them before capture",
                r -> r.status() == null || r.status().conflicts() == null ? 0 : r.status().conflicts().raceRepairs());
        gauge("mirror.conflict.log.entries", "Entries in the conflict log (/_mirror/conflicts)",
                r -> r.status() == null || r.status().conflicts() == null || r.status().conflicts().logged() < 0
                        ? Double.NaN : r.status().conflicts().logged());
        gauge("mirror.held.back", "1 while a change of another mirror is held back (retried with backoff), else 0",
                r -> r.status() == null || r.status().delivery() == null ? Double.NaN
                        : r.status().delivery().heldBack() == null ? 0 : 1);
        gauge("mirror.parked", "Changes of other mirrors parked here (see /_mirror/parked)",
                r -> r.parked() == null ? Double.NaN : r.parked().count());
        gauge("mirror.parked.failed", "Parked changes that failed for good: only an operator clears them",
                r -> r.parked() == null ? Double.NaN : r.parked().failed());
        counter("mirror.refused.envelopes", "Changes of other mirrors refused: undecodable or breaking the hash chain",
                r -> r.transport() == null ? 0 : r.transport().invalidDropped());
        counter("mirror.delivery.restarts", "Times delivery of other mirrors' changes restarted after an error",
                r -> r.status() == null || r.status().delivery() == null ? 0 : r.status().delivery().restarts());
        gauge("mirror.tables.held.out", "Tables held out of mirroring (no key, or a column type capture cannot carry)",
                r -> r.status() == null ? Double.NaN : r.status().heldOut().size());
        gauge("mirror.slot.retained.bytes", "WAL the replication slot holds back on the database server",
                r -> r.status() == null || r.status().slot() == null || r.status().slot().retainedBytes() < 0
                        ? Double.NaN : r.status().slot().retainedBytes());
        counter("mirror.sequences.corrections", "Times a sequence was set back onto this mirror's key slot",
                r -> r.status() == null || r.status().sequences() == null ? 0 : r.status().sequences().corrections());
        String transferred = "mirror.files.transferred.bytes";
        String transferredDoc = "Bytes of replicated files: received from other mirrors (whole blocks and deltas), found"
                + " in this mirror's own folders (renames, copies), built here from a delta against the previous"
                + " version, served to other mirrors";
        FunctionCounter.builder(transferred, this, m -> files(m.current(), FileSyncStatus::bytesFetched))
                .description(transferredDoc).tag("source", "fetched").register(registry);
        FunctionCounter.builder(transferred, this, m -> files(m.current(), FileSyncStatus::bytesFromLocal))
                .description(transferredDoc).tag("source", "local").register(registry);
        FunctionCounter.builder(transferred, this, m -> files(m.current(), FileSyncStatus::bytesBuiltByDelta))
                .description(transferredDoc).tag("source", "delta").register(registry);
        FunctionCounter.builder(transferred, this, m -> files(m.current(), FileSyncStatus::bytesServed))
                .description(transferredDoc).tag("source", "served").register(registry);
        counter("mirror.files.blocks.refused", "Blocks other mirrors sent whose hash did not match (asked elsewhere)",
                r -> files(r, FileSyncStatus::blocksRefused));
        String deltas = "mirror.files.block.list.deltas";
        String deltasDoc = "Changes of other mirrors whose block list came as a delta: made whole from the base held"
                + " here, taken without a list (asked of a peer: no base here), refused (did not fit its base)";
        FunctionCounter.builder(deltas, this, m -> files(m.current(), s -> s.deltas().applied()))
                .description(deltasDoc).tag("outcome", "applied").register(registry);
        FunctionCounter.builder(deltas, this, m -> files(m.current(), s -> s.deltas().withoutBase()))
                .description(deltasDoc).tag("outcome", "without-base").register(registry);
        FunctionCounter.builder(deltas, this, m -> files(m.current(), s -> s.deltas().refused()))
                .description(deltasDoc).tag("outcome", "refused").register(registry);
    }

    private static double files(Reading r, ToDoubleFunction<FileSyncStatus> part) {
        return r.status() == null || r.status().files() == null ? 0 : part.applyAsDouble(r.status().files());
    }

    private void gauge(String name, String doc, ToDoubleFunction<Reading> value) {
        Gauge.builder(name, this, m -> value.applyAsDouble(m.current())).description(doc).strongReference(true)
                .register(registry);
    }

    private void counter(String name, String doc, ToDoubleFunction<Reading> value) {
        FunctionCounter.builder(name, this, m -> value.applyAsDouble(m.current())).description(doc).register(registry);
    }

    /** The latest reading, read again when older than a second. */
    Reading current() {
        synchronized (this) {
            if (System.nanoTime() - readAt < MAX_AGE_NANOS) {
                return reading;
            }
        }
        return refresh();
    }

    /** Reads the node now and adds the meters its reading shows for the first time. */
    Reading refresh() {
        Reading r;
        synchronized (this) {
            r = read(node.get());
            reading = r;
            readAt = System.nanoTime();
        }
        addMetersOf(r);
        return r;
    }

    private static Reading read(MirrorNode n) {
        if (n == null) {
            return Reading.NONE;
        }
        try {
            return new Reading(n.status(), n.journalBytes(), n.parkedNow(), n.transportStats());
        } catch (RuntimeException e) {
            // A node that is closing: its meters show nothing until the next one runs.
            LOG.debug("Reading the mirror's status for its meters failed: {}", e.toString());
            return Reading.NONE;
        }
    }

    private void addMetersOf(Reading r) {
        if (r.status() != null) {
            for (String origin : r.status().origins().keySet()) {
                if (registered.add("origin:" + origin)) {
                    perOrigin(origin);
                }
            }
            FileSyncStatus files = r.status().files();
            if (files != null) {
                for (FileSyncStatus.Folder f : files.folders()) {
                    if (registered.add("folder:" + f.name())) {
                        perFolder(f.name());
                    }
                }
                for (String reason : files.refused().keySet()) {
                    if (registered.add("refused:" + reason)) {
                        FunctionCounter.builder("mirror.files.refused", this, m -> {
                            FileSyncStatus s = m.current().status() == null ? null : m.current().status().files();
                            return s == null ? 0 : s.refused().getOrDefault(reason, 0L);
                        }).description("File changes and files of other mirrors refused here, per reason")
                                .tag("reason", reason).register(registry);
                    }
                }
            }
        }
        for (String origin : r.journalBytes().keySet()) {
            if (registered.add("journal:" + origin)) {
                Gauge.builder("mirror.journal.bytes", this, m -> {
                    Long b = m.current().journalBytes().get(origin);
                    return b == null ? Double.NaN : b;
                }).description("Bytes of ChangeSets this mirror's journal holds, per origin").tag("origin", origin)
                        .strongReference(true).register(registry);
            }
        }
    }

    private void perOrigin(String origin) {
        originGauge("mirror.origin.lag", "ChangeSets of that mirror received here but not applied yet", origin,
                NodeStatus.OriginStatus::lag);
        originGauge("mirror.origin.received", "Highest sequence number of that mirror held in this mirror's journal",
                origin, NodeStatus.OriginStatus::received);
        originGauge("mirror.origin.applied", "Highest sequence number of that mirror applied to this database",
                origin, NodeStatus.OriginStatus::applied);
    }

    private void originGauge(String name, String doc, String origin, ToDoubleFunction<NodeStatus.OriginStatus> part) {
        Gauge.builder(name, this, m -> {
            NodeStatus s = m.current().status();
            NodeStatus.OriginStatus o = s == null ? null : s.origins().get(origin);
            return o == null ? Double.NaN : part.applyAsDouble(o);
        }).description(doc).tag("origin", origin).strongReference(true).register(registry);
    }

    private void perFolder(String folder) {
        folderMeter("mirror.folder.files", "Files a replicated folder holds here", folder, false,
                FileSyncStatus.Folder::files);
        folderMeter("mirror.folder.wanted", "Newer versions made on other mirrors not written here yet", folder, false,
                FileSyncStatus.Folder::wanted);
        folderMeter("mirror.folder.conflict.copies", "Conflict copies made here since the node started", folder, true,
                FileSyncStatus.Folder::conflictCopies);
        folderMeter("mirror.folder.scans", "Scans of a replicated folder since the node started", folder, true,
                FileSyncStatus.Folder::scans);
        folderMeter("mirror.folder.scans.skipped", "Scans the folder's watcher did not ask for, as every file its"
                + " events named was as indexed (written here for other mirrors)", folder, true,
                FileSyncStatus.Folder::scansSkipped);
    }

    private void folderMeter(String name, String doc, String folder, boolean counter,
                             ToDoubleFunction<FileSyncStatus.Folder> part) {
        ToDoubleFunction<NodeMeters> value = m -> {
            NodeStatus s = m.current().status();
            List<FileSyncStatus.Folder> folders = s == null || s.files() == null ? List.of() : s.files().folders();
            return folders.stream().filter(f -> f.name().equals(folder)).mapToDouble(part).findFirst()
                    .orElse(counter ? 0 : Double.NaN);
        };
        if (counter) {
            FunctionCounter.builder(name, this, value).description(doc).tag("folder", folder).register(registry);
        } else {
            Gauge.builder(name, this, value).description(doc).tag("folder", folder).strongReference(true)
                    .register(registry);
        }
    }
}
