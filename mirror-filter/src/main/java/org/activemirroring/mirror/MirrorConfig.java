package org.activemirroring.mirror;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.config.ConfigException;
import org.activemirroring.config.ConfigOption;
import org.activemirroring.config.Importance;
import org.activemirroring.files.FolderConfig;
import org.activemirroring.files.sync.FileSyncOptions;
import org.activemirroring.transport.TransportConfig;

/**
 * A mirror's whole configuration: {@code mirror.properties} plus environment overrides, checked
 * once at start. Every problem of every module's options is reported in one
 * {@link ConfigException}; a config with a problem never starts a node.
 *
 * <p>Environment variables override the file: {@code MIRROR_NODE_ID} overrides
 * {@code mirror.node.id} (upper case, dots and dashes become underscores).
 */
public final class MirrorConfig {

    public static final ConfigOption<Integer> RETRY_AFTER_SECONDS = ConfigOption.integer(
            "mirror.filter.retry-after.seconds", 5, 1, 3600, Importance.RARE,
            "Retry-After the filter sends with its 503 answers while this mirror is not ready.");

    public static final ConfigOption<String> ADMIN_USER = ConfigOption.string("mirror.admin.user", "admin",
            Importance.RARE, "User name for the admin pages (/_mirror/status, /_mirror/conflicts, /_mirror/parked,"
                    + " /_mirror/metrics; HTTP Basic authentication, with the password of mirror.admin.password-hash).")
            .check(v -> v.indexOf(':') < 0 && v.chars().noneMatch(Character::isISOControl),
                    "HTTP Basic authentication ends a user name at the first ':', and control characters cannot be"
                            + " typed; choose a name without them");

    /** Checked in {@link #of} rather than with {@code check}: a problem message must not repeat the value. */
    public static final ConfigOption<String> ADMIN_PASSWORD_HASH = ConfigOption.string("mirror.admin.password-hash",
            "", Importance.FREQUENT, "Hash of the password for the admin pages (/_mirror/status, /_mirror/conflicts,"
                    + " /_mirror/parked, /_mirror/metrics: they show the site's rows and database details); empty, and no"
                    + " mirror.admin.role either: those pages answer 403 and /_mirror/health stays the only one. Make it with java -cp mirror-filter-VERSION.jar"
                    + " org.activemirroring.mirror.AdminPassword: it asks for the password and prints this line"
                    + " (pbkdf2-sha256$iterations$salt$hash, never the password itself).");

    public static final ConfigOption<String> ADMIN_ROLE = ConfigOption.string("mirror.admin.role", "",
            Importance.RARE, "A security role of the servlet container (a Tomcat realm's role): a user the container"
                    + " authenticated and who has this role may use the admin pages, beside (or instead of)"
                    + " mirror.admin.user and its password hash. The site protects /_mirror/* with a"
                    + " security-constraint and a login-config in its web.xml, so that the container asks for the"
                    + " login; empty: only the password hash is accepted.")
            .check(v -> v.isEmpty() || v.chars().noneMatch(Character::isISOControl) && v.equals(v.trim()),
                    "a role name without control characters or surrounding blanks");

    public static final ConfigOption<String> JOIN = ConfigOption.string("mirror.join", "auto",
            Importance.FREQUENT, "How a mirror that was never part of the network gets its data. auto: it copies"
                    + " everything from a reachable peer that holds the data, whatever its own site wrote at start"
                    + " (rows the site wrote before the copy are kept: see the README); when no peer holds data, a"
                    + " mirror whose tables hold rows starts from its own database, and an empty one waits for a peer"
                    + " with data unless every configured peer is reachable and as new as it is. always: copy from a"
                    + " peer, waiting for one however long it takes. never: start from this database as it is (the"
                    + " first mirror of a network, or a site that existed before mirroring).")
            .check(v -> v.equals("auto") || v.equals("always") || v.equals("never"), "auto, always or never");

    public static final ConfigOption<Integer> START_PEERS_WAIT_MS = ConfigOption.integer(
            "mirror.start.peers.wait.ms", 30_000, 0, 3_600_000, Importance.RARE,
            "At a mirror's first start (before it decides where its data comes from), how long it waits for every"
                    + " configured peer to be reachable; it decides as soon as all are, or a reachable one holds the"
                    + " data. Status says which peers it waits for.");

    public static final ConfigOption<Integer> START_CATCHUP_MAX_MS = ConfigOption.integer(
            "mirror.start.catchup.max.ms", 60_000, 0, 3_600_000, Importance.RARE,
            "At start, how long a mirror applies what it missed (from its peers' journals) before it starts capturing"
                    + " and serving; it serves only once caught up, or after this long if the backlog is larger. 0: serve"
                    + " at once and catch up meanwhile.");

    /** This module's own options. */
    public static final List<ConfigOption<?>> FILTER_OPTIONS = List.of(JOIN, START_PEERS_WAIT_MS, START_CATCHUP_MAX_MS,
            RETRY_AFTER_SECONDS, ADMIN_PASSWORD_HASH, ADMIN_USER, ADMIN_ROLE);

    /** Every option a mirror understands, in documentation order. */
    public static final List<ConfigOption<?>> ALL_OPTIONS = allOptions();

    private final Map<String, String> raw;
    private final TransportConfig transport;
    private final CaptureConfig capture;
    private final int retryAfterSeconds;
    private final JoinMode joinMode;
    private final int startCatchUpMaxMs;
    private final int startPeersWaitMs;
    private final String adminUser;
    private final PasswordHash adminPasswordHash;
    private final String adminRole;
    private final FolderConfig folders;
    private final FileSyncOptions fileSync;

    /** Where a mirror that was never part of the network gets its data ({@link #JOIN}). */
    public enum JoinMode { AUTO, ALWAYS, NEVER }

    private MirrorConfig(Map<String, String> raw, TransportConfig transport, CaptureConfig capture,
                         int retryAfterSeconds, JoinMode joinMode, int startCatchUpMaxMs, int startPeersWaitMs,
                         String adminUser, PasswordHash adminPasswordHash, String adminRole, FolderConfig folders,
                         FileSyncOptions fileSync) {
        this.adminRole = adminRole;
        this.folders = folders;
        this.fileSync = fileSync;
        this.adminUser = adminUser;
        this.adminPasswordHash = adminPasswordHash;
        this.joinMode = joinMode;
        this.startPeersWaitMs = startPeersWaitMs;
        this.startCatchUpMaxMs = startCatchUpMaxMs;
        this.raw = raw;
        this.transport = transport;
        this.capture = capture;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /**
     * Checks settings given as key/values (e.g. already merged from file and environment).
     *
     * @throws ConfigException naming every problem
     */
    public static MirrorConfig of(Map<String, String> settings) {
        Map<String, String> raw = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        List<String> problems = new ArrayList<>();
        Set<String> known = ALL_OPTIONS.stream().map(ConfigOption::key).collect(Collectors.toSet());
        // Tuning of the built-in JGroups stack (timeouts, intervals): passed to its placeholders.
        known.addAll(org.activemirroring.transport.StackTemplate.builtInTuningKeys());
        for (String key : new TreeSet<>(raw.keySet())) {
            // A folder's own keys (mirror.folder.<name>.*) are checked by FolderConfig.
            if (key.startsWith("mirror.") && !known.contains(key) && !key.startsWith("mirror.folder.")) {
                problems.add("Unknown option '" + key + "': check its spelling; the README lists every option.");
            }
        }
        TransportConfig transport = TransportConfig.from(raw, problems);
        CaptureConfig capture = CaptureConfig.from(raw, problems);
        int retryAfter = RETRY_AFTER_SECONDS.read(raw, problems);
        String join = JOIN.read(raw, problems);
        int startCatchUpMax = START_CATCHUP_MAX_MS.read(raw, problems);
        int startPeersWait = START_PEERS_WAIT_MS.read(raw, problems);
        String adminUser = ADMIN_USER.read(raw, problems);
        PasswordHash adminPasswordHash = readPasswordHash(raw, problems);
        String adminRole = ADMIN_ROLE.read(raw, problems);
        // Relative folder paths are relative to the directory the server was started in.
        FolderConfig folders = FolderConfig.from(raw, Path.of("").toAbsolutePath(), problems);
        FileSyncOptions fileSync = FileSyncOptions.from(raw, problems);
        org.activemirroring.mirror.edge.EdgeOptions.from(raw, problems); // read again by the filter (EdgeGate)
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new MirrorConfig(raw, transport, capture, retryAfter,
                JoinMode.valueOf(join.toUpperCase(java.util.Locale.ROOT)), startCatchUpMax, startPeersWait,
                adminUser, adminPasswordHash, adminRole == null || adminRole.isEmpty() ? null : adminRole, folders,
                fileSync);
    }

    /** The admin password's hash, or null when none is set. */
    private static PasswordHash readPasswordHash(Map<String, String> raw, List<String> problems) {
        String value = ADMIN_PASSWORD_HASH.read(raw, problems);
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            return PasswordHash.parse(value);
        } catch (IllegalArgumentException e) {
            // The value is left out: someone may have put the password itself there.
            problems.add("Invalid value for '" + ADMIN_PASSWORD_HASH.key() + "' (not shown here): " + e.getMessage()
                    + ". Make one with java -cp mirror-filter-VERSION.jar org.activemirroring.mirror.AdminPassword"
                    + " and put the line it prints into mirror.properties.");
            return null;
        }
    }

    /**
     * Reads a {@code mirror.properties} file, applies environment overrides and checks it all.
     *
     * @throws ConfigException naming every problem, also when the file cannot be read
     */
    public static MirrorConfig load(Path file, Map<String, String> env) {
        Properties props = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(r);
        } catch (IOException e) {
            throw new ConfigException(List.of("Cannot read mirror configuration file '" + file + "': " + e.getMessage()
                    + ". Create it (see tomcat-conf/ and the README) or point the filter's 'config-file' init-param,"
                    + " the system property 'mirror.config' or MIRROR_CONFIG at it."));
        }
        return of(withEnvironment(props, env));
    }

    /** Reads settings from a stream (a resource in the web application), with environment overrides. */
    public static MirrorConfig load(InputStream in, String description, Map<String, String> env) {
        Properties props = new Properties();
        try (Reader r = new java.io.InputStreamReader(in, StandardCharsets.UTF_8)) {
            props.load(r);
        } catch (IOException e) {
            throw new ConfigException(List.of("Cannot read mirror configuration " + description + ": " + e.getMessage()));
        }
        return of(withEnvironment(props, env));
    }

    /** File settings overlaid with any environment variable named after an option. */
    static Map<String, String> withEnvironment(Properties props, Map<String, String> env) {
        Map<String, String> merged = new LinkedHashMap<>();
        for (String name : props.stringPropertyNames()) {
            merged.put(name.trim(), props.getProperty(name).trim());
        }
        for (ConfigOption<?> option : ALL_OPTIONS) {
            String value = env.get(option.envName());
            if (value != null) {
                merged.put(option.key(), value);
            }
        }
        return merged;
    }

    private static List<ConfigOption<?>> allOptions() {
        List<ConfigOption<?>> all = new ArrayList<>();
        all.addAll(TransportConfig.OPTIONS);
        all.addAll(CaptureConfig.OPTIONS);
        all.addAll(FILTER_OPTIONS);
        all.addAll(org.activemirroring.mirror.edge.EdgeOptions.OPTIONS);
        all.addAll(FolderConfig.OPTIONS);
        all.addAll(FileSyncOptions.OPTIONS);
        return List.copyOf(all);
    }

    /** The replicated folders ({@code mirror.folders}); none by default. */
    public FolderConfig folders() {
        return folders;
    }

    /** How replicated folders are watched, scanned and transferred. */
    public FileSyncOptions fileSync() {
        return fileSync;
    }

    public String nodeId() {
        return transport.nodeId();
    }

    public Path dataDir() {
        return transport.dataDir();
    }

    public TransportConfig transport() {
        return transport;
    }

    public CaptureConfig capture() {
        return capture;
    }

    /** True if this mirror never copies its data from a peer ({@code mirror.join=never}). */
    public boolean joinNever() {
        return joinMode == JoinMode.NEVER;
    }

    /** See {@link #JOIN}. */
    public JoinMode joinMode() {
        return joinMode;
    }

    /** See {@link #START_PEERS_WAIT_MS}. */
    public int startPeersWaitMs() {
        return startPeersWaitMs;
    }

    /** See {@link #START_CATCHUP_MAX_MS}. */
    public int startCatchUpMaxMs() {
        return startCatchUpMaxMs;
    }

    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** See {@link #ADMIN_USER}. */
    public String adminUser() {
        return adminUser;
    }

    /** See {@link #ADMIN_PASSWORD_HASH}; null when none is set (the admin pages are off). */
    PasswordHash adminPasswordHash() {
        return adminPasswordHash;
    }

    /** See {@link #ADMIN_ROLE}; null when none is set. */
    public String adminRole() {
        return adminRole;
    }

    /** The checked settings as given, for modules that read their own options later. */
    public Map<String, String> raw() {
        return raw;
    }
}
