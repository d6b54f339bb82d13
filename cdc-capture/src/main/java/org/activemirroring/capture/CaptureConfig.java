package org.activemirroring.capture;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

import org.activemirroring.config.ConfigOption;
import org.activemirroring.config.Importance;
import org.activemirroring.db.DatabaseAddress;

/**
 * The settings of capture and applier, validated once. Build with {@link #from(Map, List)}; every
 * problem goes into the list instead of failing on the first. The result is only meaningful when
 * no problem was added.
 */
public final class CaptureConfig {

    /**
     * The form every {@code mirror.db.url} has today: PostgreSQL is the only database mirrored.
     * A second database adds its prefix here, and the dialect is then chosen by it.
     */
    private static final String URL_PREFIX = "jdbc:postgresql://";
    /** PostgreSQL's port, for a URL that gives none. */
    private static final int DEFAULT_PORT = 5432;

    public static final ConfigOption<String> DB_URL = ConfigOption.string("mirror.db.url", null,
                    Importance.ESSENTIAL,
                    "JDBC URL of this mirror's own site database, jdbc:postgresql://host[:port]/database.")
            .required()
            .check(v -> v.startsWith(URL_PREFIX),
                    "it must start with " + URL_PREFIX + " (e.g. jdbc:postgresql://localhost:5432/site)");

    public static final ConfigOption<String> DB_USER = ConfigOption.string("mirror.db.user", null,
                    Importance.ESSENTIAL,
                    "Database user for capture and apply: a superuser, or a role made with the SQL MirrorRoleSql prints (see Running as a role that is not a superuser).")
            .required();

    public static final ConfigOption<String> DB_PASSWORD = ConfigOption.string("mirror.db.password", "",
            Importance.ESSENTIAL, "Password of mirror.db.user; empty for trust or peer authentication.");

    public static final ConfigOption<String> DB_SCHEMAS = ConfigOption.string("mirror.db.schemas", "public",
                    Importance.FREQUENT, "Comma-separated database schemas whose tables are mirrored.")
            .check(v -> !ConfigOption.splitCommaList(v).isEmpty() && ConfigOption.splitCommaList(v).stream().noneMatch(s -> s.equalsIgnoreCase("mirror")),
                    "list at least one schema, and not 'mirror', which holds the mirror's own bookkeeping");

    public static final ConfigOption<String> TABLES_EXCLUDE = ConfigOption.string("mirror.tables.exclude", "",
                    Importance.FREQUENT,
                    "Comma-separated schema.table names that are not mirrored (sessions, caches, tables with neither a primary key nor a unique index over NOT NULL columns).")
            .check(v -> ConfigOption.splitCommaList(v).stream().allMatch(t -> t.indexOf('.') > 0 && t.indexOf('.') < t.length() - 1),
                    "write each table as schema.table (e.g. public.sessions,public.cache)");

    public static final ConfigOption<String> SLOT = ConfigOption.string("mirror.capture.slot", null,
                    Importance.RARE,
                    "Name of the PostgreSQL replication slot capture reads from; default am_ plus the node id.")
            .check(v -> v.matches("[a-z0-9_]{1,63}"),
                    "slot names are 1-63 characters of [a-z0-9_]");

    public static final ConfigOption<String> PUBLICATION = ConfigOption.string("mirror.capture.publication",
                    "activemirroring", Importance.RARE,
                    "Name of the PostgreSQL publication capture creates for the mirrored tables.")
            .check(v -> v.matches("[a-z0-9_]{1,63}"), "publication names are 1-63 characters of [a-z0-9_]");

    public static final ConfigOption<Integer> POLL_INTERVAL_MS = ConfigOption.integer(
            "mirror.capture.poll.interval.ms", 2, 1, 60_000, Importance.RARE,
            "How long capture's reader of the replication stream sleeps when the database has sent nothing new;"
                    + " it bounds how late capture notices a commit, at the cost of idle wake-ups (at 2, an idle mirror"
                    + " uses ~6% of a core for it).");

    public static final ConfigOption<Integer> OFFSET_FLUSH_INTERVAL_MS = ConfigOption.integer(
            "mirror.capture.offset.flush.interval.ms", 1000, 0, 600_000, Importance.RARE,
            "How often capture saves its position; a crash re-reads at most this much, which the journal recognises.");

    public static final ConfigOption<Boolean> ORIGIN_FILTER = ConfigOption.bool("mirror.capture.origin-filter", true,
            Importance.RARE, "On PostgreSQL 16 and later, have the server leave out every change written under a"
                    + " replication origin (the applier's) before decoding, so applied changes cost capture nothing;"
                    + " turn off if this database also receives PostgreSQL logical replication that must be mirrored.");

    public static final ConfigOption<Boolean> SLOT_DROP_ON_STOP = ConfigOption.bool("mirror.capture.slot.drop-on-stop",
            false, Importance.RARE,
            "Drop the replication slot when capture stops; only for tests, since a mirror restarted without its slot misses changes.");

    public static final ConfigOption<Integer> HEARTBEAT_INTERVAL_MS = ConfigOption.integer(
            "mirror.capture.heartbeat.interval.ms", 10_000, 0, 3_600_000, Importance.RARE,
            "How often capture confirms its position to PostgreSQL even when the mirrored tables are quiet (it also"
                    + " writes a tiny row to mirror.heartbeat), so that the replication slot never holds back WAL written"
                    + " by other tables or databases; 0 turns heartbeats off.");

    public static final ConfigOption<Long> SLOT_WARN_BYTES = ConfigOption.longValue("mirror.capture.slot.warn-bytes",
            1L << 30, 1, Long.MAX_VALUE, Importance.RARE,
            "When the replication slot holds back more write-ahead log than this (bytes), /_mirror/status shows a"
                    + " warning: capture is behind or stopped, and the disk of the database server fills up.");

    /** Upper bound of {@link #MAX_MIRRORS}; slots are checked against the configured value, not this. */
    static final int MAX_MIRRORS_LIMIT = 1024;

    public static final ConfigOption<Integer> NODE_SLOT = ConfigOption.integer("mirror.node.slot", 0, 0,
                    MAX_MIRRORS_LIMIT - 1, Importance.ESSENTIAL,
                    "This mirror's key-allocation slot, from 0 to mirror.max-mirrors minus 1, unique per mirror: the"
                            + " sequences feeding mirrored tables (serial, identity, DEFAULT nextval) hand out only values"
                            + " congruent to the slot modulo mirror.max-mirrors, so mirrors never generate the same key;"
                            + " two mirrors sharing a slot generate the same keys: their inserts collide, one row per key"
                            + " is kept under the conflict rule and the other goes to the conflict log.")
            .required();

    public static final ConfigOption<Integer> MAX_MIRRORS = ConfigOption.integer("mirror.max-mirrors", 16, 2,
            MAX_MIRRORS_LIMIT, Importance.RARE,
            "How many mirrors the network can ever have; every mirrored sequence increments by this number. It must"
                    + " be the same on every mirror; change it only while all mirrors are stopped.");

    public static final ConfigOption<Integer> SEQUENCES_CHECK_INTERVAL_MS = ConfigOption.integer(
            "mirror.sequences.check.interval.ms", 1000, 10, 3_600_000, Importance.RARE,
            "How often the mirror checks that its sequences still interleave (one query when nothing changed) and"
                    + " repairs those a script or migration reset; a reset sequence can hand out a colliding key until then.");

    public static final ConfigOption<Integer> JOIN_CHUNK_PAGES = ConfigOption.integer("mirror.join.chunk.pages", 2048, 1,
            4096, Importance.RARE, "Table pages (8 KiB each) per chunk when a new mirror copies a peer's database; a"
                    + " join that stops goes on from its last loaded chunk.");

    /** All capture options, in documentation order. */
    public static final List<ConfigOption<?>> OPTIONS = List.of(DB_URL, DB_USER, DB_PASSWORD, NODE_SLOT, DB_SCHEMAS,
            TABLES_EXCLUDE, MAX_MIRRORS, SEQUENCES_CHECK_INTERVAL_MS, SLOT, PUBLICATION, POLL_INTERVAL_MS,
            OFFSET_FLUSH_INTERVAL_MS, HEARTBEAT_INTERVAL_MS, SLOT_WARN_BYTES, ORIGIN_FILTER, SLOT_DROP_ON_STOP,
            JOIN_CHUNK_PAGES);

    private final String dbUrl;
    private final DatabaseAddress address;
    private final String dbUser;
    private final String dbPassword;
    private final List<String> schemas;
    private final List<String> tablesExclude;
    private final String slot;
    private final String publication;
    private final int pollIntervalMs;
    private final int offsetFlushIntervalMs;
    private final boolean originFilter;
    private final boolean slotDropOnStop;
    private final Integer nodeSlot;
    private final int maxMirrors;
    private final int sequencesCheckIntervalMs;
    private final int heartbeatIntervalMs;
    private final long slotWarnBytes;
    private final int joinChunkPages;

    private CaptureConfig(Map<String, String> raw, List<String> problems) {
        this.dbUrl = DB_URL.read(raw, problems);
        DatabaseAddress parsed = null;
        if (dbUrl != null && dbUrl.startsWith(URL_PREFIX)) {
            try {
                parsed = DatabaseAddress.parse(dbUrl, URL_PREFIX, DEFAULT_PORT);
            } catch (IllegalArgumentException e) {
                problems.add("Invalid value '" + dbUrl + "' for '" + DB_URL.key() + "': " + e.getMessage() + ".");
            }
        }
        this.address = parsed;
        this.dbUser = DB_USER.read(raw, problems);
        this.dbPassword = DB_PASSWORD.read(raw, problems);
        this.schemas = ConfigOption.splitCommaList(DB_SCHEMAS.read(raw, problems));
        this.tablesExclude = ConfigOption.splitCommaList(TABLES_EXCLUDE.read(raw, problems));
        this.slot = SLOT.read(raw, problems);
        this.publication = PUBLICATION.read(raw, problems);
        this.pollIntervalMs = POLL_INTERVAL_MS.read(raw, problems);
        this.offsetFlushIntervalMs = OFFSET_FLUSH_INTERVAL_MS.read(raw, problems);
        this.originFilter = ORIGIN_FILTER.read(raw, problems);
        this.slotDropOnStop = SLOT_DROP_ON_STOP.read(raw, problems);
        this.nodeSlot = NODE_SLOT.read(raw, problems);
        int before = problems.size();
        this.maxMirrors = MAX_MIRRORS.read(raw, problems);
        boolean maxMirrorsValid = problems.size() == before;
        this.sequencesCheckIntervalMs = SEQUENCES_CHECK_INTERVAL_MS.read(raw, problems);
        this.heartbeatIntervalMs = HEARTBEAT_INTERVAL_MS.read(raw, problems);
        this.slotWarnBytes = SLOT_WARN_BYTES.read(raw, problems);
        this.joinChunkPages = JOIN_CHUNK_PAGES.read(raw, problems);
        // Only when both values are themselves valid: one mistake, one message.
        if (nodeSlot != null && maxMirrorsValid && nodeSlot >= maxMirrors) {
            problems.add(NODE_SLOT.key() + "=" + nodeSlot + " is not below " + MAX_MIRRORS.key() + "=" + maxMirrors
                    + ": slots run from 0 to " + (maxMirrors - 1) + "; give this mirror a free slot in that range, or"
                    + " raise " + MAX_MIRRORS.key() + " (the same value on every mirror).");
        }
    }

    /**
     * Reads the capture settings from raw key/values; adds every problem to {@code problems}.
     */
    public static CaptureConfig from(Map<String, String> raw, List<String> problems) {
        return new CaptureConfig(raw, problems);
    }

    /** The slot name for a node when none is configured: {@code am_} + node id, dashes as underscores. */
    public static String defaultSlotName(String nodeId) {
        return "am_" + nodeId.toLowerCase(Locale.ROOT).replace('-', '_');
    }

    /**
     * The PostgreSQL driver of the plugin's own class loader, used directly. Not DriverManager:
     * it registers by itself only the drivers the system class loader sees when it initialises,
     * so inside Tomcat, with pgjdbc in WEB-INF/lib, it answers "No suitable driver found" until
     * something happens to load org.postgresql.Driver. (Debezium's connector needs nothing of the
     * kind: its PostgresConnection also instantiates the driver class itself.)
     */
    private static final Driver DRIVER = new org.postgresql.Driver();

    /**
     * Opens a connection to the site database as {@code mirror.db.user}.
     *
     * @param driverProperties extra pgjdbc properties as key, value, key, value...
     * @throws SQLException the driver's, or one saying that {@code mirror.db.url} is not a PostgreSQL URL
     */
    public Connection connect(String... driverProperties) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", dbUser);
        props.setProperty("password", dbPassword);
        for (int i = 0; i + 1 < driverProperties.length; i += 2) {
            props.setProperty(driverProperties[i], driverProperties[i + 1]);
        }
        return open(dbUrl, props);
    }

    /**
     * Connects through {@link #DRIVER}. A URL the driver does not take (its {@code connect}
     * returns null) or none at all (a config used despite its problems) gives an SQLException
     * saying what to write instead.
     */
    static Connection open(String url, Properties props) throws SQLException {
        Connection c = url == null ? null : DRIVER.connect(url, props);
        if (c == null) {
            throw new SQLException((url == null ? "No valid " + DB_URL.key() + " is set"
                    : "The PostgreSQL driver does not accept '" + url + "' as " + DB_URL.key())
                    + ": write jdbc:postgresql://host[:port]/database (e.g. jdbc:postgresql://localhost:5432/site)",
                    "08001");
        }
        return c;
    }

    /** Driver properties for the short connections of status pages: they must not hang a request. */
    public static final String[] STATUS_TIMEOUTS = {"connectTimeout", "5", "socketTimeout", "10"};

    public String dbUrl() {
        return dbUrl;
    }

    /** Host, port and database parsed from {@link #dbUrl()}. */
    public DatabaseAddress address() {
        return address;
    }

    public String dbUser() {
        return dbUser;
    }

    /** Never null; empty when not set. */
    public String dbPassword() {
        return dbPassword;
    }

    /** Mirrored schemas, never empty. */
    public List<String> schemas() {
        return schemas;
    }

    /** Excluded tables as {@code schema.table}; possibly empty. */
    public List<String> tablesExclude() {
        return tablesExclude;
    }

    /** The configured slot, or the default derived from {@code nodeId}. */
    public String slotName(String nodeId) {
        return slot != null ? slot : defaultSlotName(nodeId);
    }

    public String publication() {
        return publication;
    }

    /** Capture heartbeat interval; 0 = off. */
    public int heartbeatIntervalMs() {
        return heartbeatIntervalMs;
    }

    /** Retained WAL of the slot above which the status warns. */
    public long slotWarnBytes() {
        return slotWarnBytes;
    }

    public int pollIntervalMs() {
        return pollIntervalMs;
    }

    public int offsetFlushIntervalMs() {
        return offsetFlushIntervalMs;
    }

    /** Whether to ask PostgreSQL 16+ to drop changes with a replication origin before decoding. */
    public boolean originFilter() {
        return originFilter;
    }

    public boolean slotDropOnStop() {
        return slotDropOnStop;
    }

    /** This mirror's key-allocation slot, in [0, {@link #maxMirrors()}); null only in a config with problems. */
    public Integer nodeSlot() {
        return nodeSlot;
    }

    /** The increment of every mirrored sequence: how many mirrors the network can ever have. */
    public int maxMirrors() {
        return maxMirrors;
    }

    /** Table pages per chunk of a join. */
    public int joinChunkPages() {
        return joinChunkPages;
    }

    public int sequencesCheckIntervalMs() {
        return sequencesCheckIntervalMs;
    }
}
