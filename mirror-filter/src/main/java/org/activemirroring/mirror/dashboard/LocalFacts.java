package org.activemirroring.mirror.dashboard;

import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import org.activemirroring.apply.ParkedChanges;
import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.files.sync.FileSyncStatus;
import org.activemirroring.mirror.MirrorNode;
import org.activemirroring.mirror.NodeStatus;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.schema.MirroredTables;
import org.activemirroring.transport.JGroupsPeerTransport;
import org.activemirroring.transport.RequestHandler;
import org.activemirroring.transport.TransportException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This mirror's {@link MirrorFacts} with its full status, for its own dashboard and, as the
 * request handler of {@value #KIND}, for the dashboards of the other mirrors. Answers while the
 * node still starts (not ready, with the phase as problem). The table list is read from the
 * database at most every {@link #TABLES_TTL_MS}.
 */
public final class LocalFacts implements RequestHandler {
    /** The transport request kind: an empty body asks, the answer is {@code {"facts":..,"status":..}}. */
    public static final String KIND = "mirror.facts";
    static final long TABLES_TTL_MS = 15_000;
    /** Own writes read back at most (see {@link WriteIndex}). */
    static final int INDEX_WINDOW = 20_000;

    private static final Logger LOG = LoggerFactory.getLogger(LocalFacts.class);
    static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final String self;
    private final CaptureConfig capture;
    private final JGroupsPeerTransport transport;
    private final Supplier<MirrorNode> node;
    private final Supplier<String> phase;
    private final WriteIndex writes;
    private List<String> tables = List.of();
    private long tablesReadAt; // 0: never (the epoch is long past any TTL)

    /**
     * @param node  the running node, or null while it starts
     * @param phase what the start is doing meanwhile
     */
    public LocalFacts(String self, CaptureConfig capture, JGroupsPeerTransport transport, Supplier<MirrorNode> node,
                      Supplier<String> phase) {
        this.self = self;
        this.capture = capture;
        this.transport = transport;
        this.node = node;
        this.phase = phase;
        this.writes = new WriteIndex(new WriteIndex.OwnJournal() {
            @Override
            public long head() {
                return transport.stats().journalHeads().getOrDefault(self, 0L);
            }

            @Override
            public long first() {
                return transport.firstHeld(self);
            }

            @Override
            public List<org.activemirroring.transport.Envelope> read(long fromSeq, int max) throws TransportException {
                return transport.journalRead(self, fromSeq, max);
            }
        }, INDEX_WINDOW);
    }

    @Override
    public byte[] handle(String fromNode, byte[] body) throws Exception {
        return JSON.writeValueAsBytes(read());
    }

    /** {@code {"facts": MirrorFacts, "status": NodeStatus or null}} of this mirror now. */
    public ObjectNode read() {
        ObjectNode out = JSON.createObjectNode();
        MirrorNode n = node.get();
        if (n == null) {
            Map<String, Long> received = transport.stats().journalHeads();
            out.set("facts", JSON.valueToTree(new MirrorFacts(self, false, "starting: " + phase.get(),
                    sorted(transport.members()), received, Map.of(), received.getOrDefault(self, 0L), Map.of(), 0,
                    List.of(), Map.of(), Map.of(), System.currentTimeMillis())));
            out.putNull("status");
            return out;
        }
        NodeStatus status = n.status();
        WriteIndex.Snapshot own = writes.refresh();
        Map<String, Long> received = n.transportStats().journalHeads();
        Map<String, Integer> folders = new TreeMap<>();
        FileSyncStatus files = status.files();
        if (files != null) {
            for (FileSyncStatus.Folder f : files.folders()) {
                folders.put(f.name(), f.synced() ? f.wanted() : -1);
            }
        }
        String problem = status.problem() != null ? status.problem() : status.degraded();
        MirrorFacts facts = new MirrorFacts(self, status.ready(), problem, status.members(), received,
                n.appliedNow(), received.getOrDefault(self, 0L), own.heads(), own.baseline(), tables(),
                parkedPerTable(n), folders, System.currentTimeMillis());
        out.set("facts", JSON.valueToTree(facts));
        out.set("status", JSON.valueToTree(status));
        return out;
    }

    /**
     * Every member's answer (this mirror's read directly), each at most {@code timeout} (asked
     * one after another on the calling thread, so the plugin starts no thread of its own here).
     *
     * @return per member, its answer, or {@code {"error": why}}
     */
    public Map<String, JsonNode> network(Duration timeout) {
        Map<String, JsonNode> out = new TreeMap<>();
        try {
            out.put(self, read());
        } catch (RuntimeException e) {
            ObjectNode err = JSON.createObjectNode();
            err.put("error", "cannot read this mirror's own facts: " + e);
            out.put(self, err);
        }
        for (String member : sorted(transport.members())) {
            if (member.equals(self)) {
                continue;
            }
            try {
                out.put(member, JSON.readTree(transport.request(member, KIND, new byte[0], timeout)));
            } catch (Exception e) {
                ObjectNode err = JSON.createObjectNode();
                err.put("error", "no answer: " + e.getMessage());
                out.put(member, err);
            }
        }
        return out;
    }

    private static Map<String, Integer> parkedPerTable(MirrorNode n) {
        Map<String, Integer> out = new TreeMap<>();
        try {
            for (ParkedChanges.Parked p : n.parkedChanges(1000)) {
                for (String t : p.tables()) {
                    out.merge(t, 1, Integer::sum);
                }
            }
        } catch (Exception e) {
            out.put("*", 1); // cannot say what is parked: count every table as possibly behind
            LOG.debug("Cannot list parked changes: {}", e.toString());
        }
        return out;
    }

    private synchronized List<String> tables() {
        long now = System.currentTimeMillis();
        if (now - tablesReadAt < TABLES_TTL_MS) {
            return tables;
        }
        try (Connection c = capture.connect()) {
            List<String> names = new ArrayList<>();
            for (MirroredTables.Table t : MirroredTables.of(capture, new PostgresDialect().catalog()).mirrorable(c)) {
                names.add(t.qualified());
            }
            tables = List.copyOf(names);
            tablesReadAt = now;
        } catch (Exception e) {
            LOG.debug("Cannot list the mirrored tables: {}", e.toString());
        }
        return tables;
    }

    private static List<String> sorted(java.util.Collection<String> names) {
        List<String> out = new ArrayList<>(names);
        out.sort(null);
        return out;
    }
}
