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

    public static final ConfigOption<String> JOIN = ConfigOption.string("mirror.join", "auto",
            Importance.FREQUENT, "How a new mirror gets its data. auto: a mirror whose mirrored tables are empty copies"
                    + " everything from a peer that holds the data (waiting for one to be reachable), unless every"
                    + " configured peer is reachable and as new and empty as it is; a mirror with rows starts from its own"
                    + " database. never: start from this database as it is (the first mirror of a network).")
            .check(v -> v.equals("auto") || v.equals("never"), "auto or never");

    public static final ConfigOption<Integer> START_CATCHUP_MAX_MS = ConfigOption.integer(
            "mirror.start.catchup.max.ms", 60_000, 0, 3_600_000, Importance.RARE,
            "At start, how long a mirror applies what it missed (from its peers' journals) before it starts capturing"
                    + " and serving; it serves only once caught up, or after this long if the backlog is larger. 0: serve"
                    + " at once and catch up meanwhile.");

    /** This module's own options. */
    public static final List<ConfigOption<?>> FILTER_OPTIONS = List.of(JOIN, START_CATCHUP_MAX_MS, RETRY_AFTER_SECONDS);

    /** Every option a mirror understands, in documentation order. */
    public static final List<ConfigOption<?>> ALL_OPTIONS = allOptions();

    private final Map<String, String> raw;
    private final TransportConfig transport;
    private final CaptureConfig capture;
    private final int retryAfterSeconds;
    private final boolean joinNever;
    private final int startCatchUpMaxMs;

    private MirrorConfig(Map<String, String> raw, TransportConfig transport, CaptureConfig capture,
                         int retryAfterSeconds, boolean joinNever, int startCatchUpMaxMs) {
        this.joinNever = joinNever;
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
            if (key.startsWith("mirror.") && !known.contains(key)) {
                problems.add("Unknown option '" + key + "': check its spelling; the README lists every option.");
            }
        }
        TransportConfig transport = TransportConfig.from(raw, problems);
        CaptureConfig capture = CaptureConfig.from(raw, problems);
        int retryAfter = RETRY_AFTER_SECONDS.read(raw, problems);
        String join = JOIN.read(raw, problems);
        int startCatchUpMax = START_CATCHUP_MAX_MS.read(raw, problems);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new MirrorConfig(raw, transport, capture, retryAfter, "never".equals(join), startCatchUpMax);
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
        return List.copyOf(all);
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
        return joinNever;
    }

    /** See {@link #START_CATCHUP_MAX_MS}. */
    public int startCatchUpMaxMs() {
        return startCatchUpMaxMs;
    }

    public int retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** The checked settings as given, for modules that read their own options later. */
    public Map<String, String> raw() {
        return raw;
    }
}
