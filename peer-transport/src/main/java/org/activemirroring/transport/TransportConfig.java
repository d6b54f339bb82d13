package org.activemirroring.transport;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.activemirroring.config.ConfigOption;
import org.activemirroring.config.Importance;

/**
 * The transport's settings, validated once. Build with {@link #from(Map, List)}; every problem goes
 * into the list instead of failing on the first.
 */
public final class TransportConfig {

    private static final Pattern NODE_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");
    private static final Pattern HOST_PORT = Pattern.compile("[A-Za-z0-9.\\-]+:\\d{1,5}|\\[[0-9A-Fa-f:.]+]:\\d{1,5}");

    public static final ConfigOption<String> NODE_ID_OPTION = ConfigOption.string("mirror.node.id", null,
                    Importance.ESSENTIAL, "This mirror's id, unique in the mirror network.")
            .required()
            .check(v -> NODE_ID.matcher(v).matches(),
                    "ids are 1-32 characters of [a-z0-9-] starting with a letter or digit; give each mirror its own id in mirror.properties");

    public static final ConfigOption<String> DATA_DIR = ConfigOption.string("mirror.data.dir", null,
                    Importance.ESSENTIAL,
                    "Directory for this mirror's own state (journal, capture offsets); keep it on durable storage.")
            .required();

    public static final ConfigOption<String> BIND_HOST = ConfigOption.string("mirror.bind.host", "127.0.0.1",
            Importance.ESSENTIAL, "Address this mirror listens on for other mirrors.");

    public static final ConfigOption<Integer> BIND_PORT = ConfigOption.integer("mirror.bind.port", 7800, 1, 65535,
            Importance.ESSENTIAL, "TCP port this mirror listens on for other mirrors.");

    public static final ConfigOption<String> PEERS = ConfigOption.string("mirror.peers", "",
                    Importance.ESSENTIAL,
                    "Comma-separated host:port of the other mirrors (may include this one); empty for a single mirror.")
            .check(v -> v.isBlank() || ConfigOption.splitCommaList(v).stream().allMatch(p -> HOST_PORT.matcher(p).matches()),
                    "write peers as host:port,host:port (e.g. 10.0.0.2:7800,10.0.0.3:7800)");

    public static final ConfigOption<String> CLUSTER_NAME = ConfigOption.string("mirror.cluster.name",
            "activemirroring", Importance.FREQUENT,
            "Name of the mirror network; mirrors only join others with the same name.");

    public static final ConfigOption<String> JGROUPS_CONFIG = ConfigOption.string("mirror.transport.stack", null,
            Importance.RARE,
            "Path to a JGroups stack XML replacing the built-in TCP stack; its ${...} placeholders are filled from the mirror settings.");

    public static final ConfigOption<Boolean> JOURNAL_FSYNC = ConfigOption.bool("mirror.journal.fsync", true,
            Importance.RARE,
            "Force this mirror's own journal entries to disk before they are sent and capture moves on. Turn off only for tests.");

    public static final ConfigOption<Integer> REQUEST_TIMEOUT_MS = ConfigOption.integer(
            "mirror.transport.request.timeout.ms", 10_000, 100, 600_000, Importance.RARE,
            "How long a catch-up request waits for a peer's answer before trying another peer.");

    public static final ConfigOption<Integer> CATCHUP_INTERVAL_MS = ConfigOption.integer(
            "mirror.transport.catchup.interval.ms", 2_000, 100, 600_000, Importance.RARE,
            "How often a mirror asks its peers for their journal heads and fetches what it misses "
                    + "(it also does so on start, on every membership change and at once on a gap).");

    public static final ConfigOption<Long> JOURNAL_RETENTION_BYTES = ConfigOption.longValue(
            "mirror.journal.retention.bytes", 10L << 30, 1, Long.MAX_VALUE, Importance.RARE,
            "Per origin, how many bytes of envelopes the journal keeps for peers that were away; older segments are"
                    + " deleted beyond it (never envelopes this mirror has not applied yet). A peer that was away longer"
                    + " than any journal reaches back has to join anew.");

    public static final ConfigOption<Integer> JOURNAL_RETENTION_HOURS = ConfigOption.integer(
            "mirror.journal.retention.hours", 168, 1, 100_000, Importance.RARE,
            "How long the journal keeps envelopes for peers that were away (by segment, so up to one segment more).");

    public static final ConfigOption<Long> JOURNAL_SEGMENT_BYTES = ConfigOption.longValue(
            "mirror.journal.segment.bytes", Journal.DEFAULT_SEGMENT_BYTES, 4096, 1L << 34, Importance.RARE,
            "Size of one journal segment file; retention deletes whole segments.");

    public static final ConfigOption<Integer> JOURNAL_RETENTION_CHECK_SECONDS = ConfigOption.integer(
            "mirror.journal.retention.check.seconds", 60, 1, 86_400, Importance.RARE,
            "How often the journal deletes segments past mirror.journal.retention.bytes and .hours.");

    /** All transport options, in documentation order. */
    public static final List<ConfigOption<?>> OPTIONS = List.of(NODE_ID_OPTION, DATA_DIR, BIND_HOST, BIND_PORT, PEERS,
            CLUSTER_NAME, JGROUPS_CONFIG, JOURNAL_FSYNC, JOURNAL_RETENTION_BYTES, JOURNAL_RETENTION_HOURS,
            JOURNAL_SEGMENT_BYTES, JOURNAL_RETENTION_CHECK_SECONDS, REQUEST_TIMEOUT_MS, CATCHUP_INTERVAL_MS);

    private final String nodeId;
    private final Path dataDir;
    private final String bindHost;
    private final int bindPort;
    private final List<String> peers;
    private final String clusterName;
    private final Path stackFile;
    private final boolean journalFsync;
    private final int requestTimeoutMs;
    private final int catchUpIntervalMs;
    private final long journalRetentionBytes;
    private final int journalRetentionHours;
    private final int journalRetentionCheckSeconds;
    private final long journalSegmentBytes;
    private final Map<String, String> raw;

    private TransportConfig(Map<String, String> raw, List<String> problems) {
        this.raw = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(raw));
        this.nodeId = NODE_ID_OPTION.read(raw, problems);
        String dir = DATA_DIR.read(raw, problems);
        this.dataDir = dir == null ? null : Path.of(dir);
        this.bindHost = BIND_HOST.read(raw, problems);
        this.bindPort = BIND_PORT.read(raw, problems);
        this.peers = ConfigOption.splitCommaList(PEERS.read(raw, problems));
        this.clusterName = CLUSTER_NAME.read(raw, problems);
        String stack = JGROUPS_CONFIG.read(raw, problems);
        this.stackFile = stack == null ? null : Path.of(stack);
        this.journalFsync = JOURNAL_FSYNC.read(raw, problems);
        this.requestTimeoutMs = REQUEST_TIMEOUT_MS.read(raw, problems);
        this.catchUpIntervalMs = CATCHUP_INTERVAL_MS.read(raw, problems);
        this.journalRetentionBytes = JOURNAL_RETENTION_BYTES.read(raw, problems);
        this.journalRetentionHours = JOURNAL_RETENTION_HOURS.read(raw, problems);
        this.journalRetentionCheckSeconds = JOURNAL_RETENTION_CHECK_SECONDS.read(raw, problems);
        this.journalSegmentBytes = JOURNAL_SEGMENT_BYTES.read(raw, problems);
    }

    /** Per origin, bytes of envelopes the journal keeps at most (by whole segments). */
    public long journalRetentionBytes() {
        return journalRetentionBytes;
    }

    /** See {@link #JOURNAL_RETENTION_CHECK_SECONDS}. */
    public int journalRetentionCheckSeconds() {
        return journalRetentionCheckSeconds;
    }

    public java.time.Duration journalRetention() {
        return java.time.Duration.ofHours(journalRetentionHours);
    }

    public long journalSegmentBytes() {
        return journalSegmentBytes;
    }

    /**
     * Reads the transport settings from raw key/values; adds every problem to {@code problems}.
     * The result is only meaningful when no problem was added.
     */
    public static TransportConfig from(Map<String, String> raw, List<String> problems) {
        return new TransportConfig(raw, problems);
    }

    public String nodeId() {
        return nodeId;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Where the journal lives: {@code <data dir>/journal}. */
    public Path journalDir() {
        return dataDir.resolve("journal");
    }

    public String bindHost() {
        return bindHost;
    }

    public int bindPort() {
        return bindPort;
    }

    /** host:port entries, as configured. */
    public List<String> peers() {
        return peers;
    }

    public String clusterName() {
        return clusterName;
    }

    /** Null means the built-in stack. */
    public Path stackFile() {
        return stackFile;
    }

    public boolean journalFsync() {
        return journalFsync;
    }

    public int requestTimeoutMs() {
        return requestTimeoutMs;
    }

    public int catchUpIntervalMs() {
        return catchUpIntervalMs;
    }

    /**
     * All settings as given (never null). The JGroups stack's {@code ${...}} placeholders are
     * filled from these, so rarely needed stack tunables need no option of their own here.
     */
    public Map<String, String> rawSettings() {
        return raw;
    }
}
