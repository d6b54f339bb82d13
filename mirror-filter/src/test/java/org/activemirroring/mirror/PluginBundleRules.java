package org.activemirroring.mirror;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;

/**
 * What the plugin bundle (the operator's install artifact, {@code target/activemirroring-plugin/})
 * must and must not hold. {@link #check} returns every problem, so one run names them all; an
 * empty list means the bundle is fine. The rules are unit-tested with made-up jars
 * ({@code PluginBundleRulesTest}) and applied to the built bundle by {@code PluginBundleIT}.
 */
final class PluginBundleRules {

    /** The bundle's total size limit, in bytes (30 MB). */
    static final long MAX_TOTAL_BYTES = 30_000_000L;

    /** Artifact names (version stripped) that must be in the bundle. */
    static final List<String> REQUIRED = List.of("peer-transport", "cdc-capture", "mirror-filter", "debezium-api",
            "debezium-embedded", "debezium-connector-postgres", "connect-runtime", "kafka-clients", "jgroups",
            "postgresql", "jackson-databind", "slf4j-api", "micrometer-core", "micrometer-registry-prometheus",
            "prometheus-metrics-exposition-textformats", "micrometer-registry-jmx");

    /**
     * Artifact names that the plugin does not load at all (Kafka Connect's REST server and plugin
     * scanner, Kafka's compression codecs, decoderbufs' protobuf): not in the bundle, and not on
     * the tests' class path either, so that the integration tests prove they are not needed.
     */
    static final Map<Pattern, String> NOT_LOADED = denyList(
            "jetty-.*", "Jetty (Kafka Connect's REST server)",
            "jersey-.*|hk2-.*|aopalliance-repackaged|osgi-resource-locator|javassist", "Jersey/HK2 (Kafka Connect's REST server)",
            "jakarta\\.ws\\.rs-api|jackson-jakarta-rs-.*|swagger-annotations|jose4j", "Kafka Connect's REST API",
            "jakarta\\.validation-api", "a Jakarta API for Kafka Connect's REST server",
            "jakarta\\.xml\\.bind-api|jaxb-api|jackson-module-jakarta-xmlbind-annotations", "JAXB, for Kafka Connect's REST server",
            "jakarta\\.activation(-api)?|javax\\.activation-api|activation", "JavaBeans Activation, for JAXB",
            "jakarta\\.annotation-api|jakarta\\.inject-api", "a Jakarta API for Jersey",
            "classgraph|plexus-utils", "Kafka Connect's plugin scanning",
            "zstd-jni|snappy-java|lz4-java", "Kafka record compression (no broker is involved)",
            "protobuf-java", "the decoderbufs decoding plugin (capture uses pgoutput)",
            "connect-file", "Kafka Connect's example file connector",
            "prometheus-metrics-exposition-formats", "Prometheus' protobuf exposition format, protobuf shaded in"
                    + " (2 MB): /_mirror/metrics serves the text format (prometheus-metrics-exposition-textformats)");

    /** Artifact names the container or the site brings: not in the bundle. */
    static final Map<Pattern, String> SITE_PROVIDED = denyList(
            "jakarta\\.servlet-api|tomcat-.*", "the servlet container's own",
            "slf4j-(simple|nop|jdk14|jdk-platform-logging|log4j12|reload4j|jcl)|logback-.*|log4j-.*",
            "an SLF4J binding or logging backend: the site or container chooses logging");

    /** A version starts at the first "-digit": jackson-datatype-jsr310-2.22.4.jar, zstd-jni-1.5.6-10.jar. */
    private static final Pattern VERSIONED = Pattern.compile("(.+?)-\\d.*\\.jar");

    private PluginBundleRules() {
    }

    /**
     * One jar of the bundle.
     *
     * @param fileName    the file's name, e.g. {@code postgresql-42.7.14.jar}
     * @param size        its size in bytes
     * @param coordinates groupId:artifactId of every {@code META-INF/maven/.../pom.properties} in it; may be empty
     * @param pgDriver    whether it holds {@code org/postgresql/Driver.class}
     * @param slf4jBinding whether it is an SLF4J 1 or 2 binding (provider)
     */
    record Jar(String fileName, long size, Set<String> coordinates, boolean pgDriver, boolean slf4jBinding) {

        /** Reads a jar file's name, size and the entries the rules look at. */
        static Jar read(Path file) throws IOException {
            Set<String> coordinates = new TreeSet<>();
            boolean pgDriver;
            boolean binding;
            try (JarFile jar = new JarFile(file.toFile())) {
                jar.stream().map(ZipEntry::getName)
                        .filter(n -> n.startsWith("META-INF/maven/") && n.endsWith("/pom.properties"))
                        .forEach(n -> {
                            String[] parts = n.split("/");
                            if (parts.length == 5) {
                                coordinates.add(parts[2] + ":" + parts[3]);
                            }
                        });
                pgDriver = jar.getEntry("org/postgresql/Driver.class") != null;
                binding = jar.getEntry("org/slf4j/impl/StaticLoggerBinder.class") != null
                        || jar.getEntry("META-INF/services/org.slf4j.spi.SLF4JServiceProvider") != null;
            }
            return new Jar(file.getFileName().toString(), Files.size(file), coordinates, pgDriver, binding);
        }
    }

    /** The artifact name of a jar file name, its version stripped: {@code jackson-core-2.22.4.jar} gives {@code jackson-core}. */
    static String artifactName(String fileName) {
        Matcher m = VERSIONED.matcher(fileName);
        if (m.matches()) {
            return m.group(1);
        }
        return fileName.endsWith(".jar") ? fileName.substring(0, fileName.length() - 4) : fileName;
    }

    /** Every problem of a bundle made of these jars; empty when there is none. */
    static List<String> check(Collection<Jar> jars) {
        List<String> problems = new ArrayList<>();
        Map<String, List<String>> byName = new TreeMap<>();
        Map<String, List<String>> byCoordinates = new TreeMap<>();
        List<String> drivers = new ArrayList<>();
        long total = 0;
        for (Jar jar : jars) {
            total += jar.size();
            String name = artifactName(jar.fileName());
            byName.computeIfAbsent(name, k -> new ArrayList<>()).add(jar.fileName());
            jar.coordinates().forEach(c -> byCoordinates.computeIfAbsent(c, k -> new ArrayList<>()).add(jar.fileName()));
            if (!jar.fileName().endsWith(".jar")) {
                problems.add(jar.fileName() + " is not a jar: the bundle holds jars only");
            }
            if (jar.pgDriver()) {
                drivers.add(jar.fileName());
            }
            if (jar.slf4jBinding()) {
                problems.add(jar.fileName() + " is an SLF4J binding: the site or container chooses logging");
            }
            denied(name, NOT_LOADED).ifPresent(why -> problems.add(jar.fileName() + " must not be in the bundle: " + why));
            denied(name, SITE_PROVIDED).ifPresent(why -> problems.add(jar.fileName() + " must not be in the bundle: " + why));
        }
        byName.forEach((name, files) -> {
            if (files.size() > 1) {
                problems.add("artifact " + name + " is in the bundle " + files.size() + " times: " + files);
            }
        });
        byCoordinates.forEach((coordinates, files) -> {
            if (files.size() > 1) {
                problems.add(coordinates + " is in more than one jar: " + files);
            }
        });
        if (drivers.size() > 1) {
            problems.add("more than one PostgreSQL driver (org/postgresql/Driver.class): " + drivers);
        }
        for (String required : REQUIRED) {
            if (!byName.containsKey(required)) {
                problems.add("required artifact " + required + " is missing");
            }
        }
        if (drivers.isEmpty() && byName.containsKey("postgresql")) {
            problems.add("the postgresql jar holds no org/postgresql/Driver.class");
        }
        if (total > MAX_TOTAL_BYTES) {
            problems.add("the bundle has " + total + " bytes, more than " + MAX_TOTAL_BYTES);
        }
        return problems;
    }

    /** Why an artifact name is denied by {@code list}, if it is. */
    static Optional<String> denied(String artifactName, Map<Pattern, String> list) {
        return list.entrySet().stream().filter(e -> e.getKey().matcher(artifactName).matches())
                .map(Map.Entry::getValue).findFirst();
    }

    private static Map<Pattern, String> denyList(String... patternAndReason) {
        Map<Pattern, String> m = new LinkedHashMap<>();
        for (int i = 0; i < patternAndReason.length; i += 2) {
            m.put(Pattern.compile(patternAndReason[i]), patternAndReason[i + 1]);
        }
        return m;
    }
}
