package org.activemirroring.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarInputStream;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.Test;

/**
 * The two WARs as built: sample-webapp.war (install (a): the plugin's jars and the filter in its
 * web.xml) and sample-webapp-bare.war (install (b): neither). Neither carries what Tomcat's lib
 * provides (HikariCP, pgjdbc, the servlet API) nor what the plugin's embedded Debezium never loads.
 */
class WarContentsIT {
    private static final Path WAR = Path.of(System.getProperty("site.war", "target/sample-webapp.war"));
    private static final Path BARE = Path.of(System.getProperty("site.bare.war", "target/sample-webapp-bare.war"));

    /** The site's own libraries: in both WARs. */
    private static final List<String> SITE = List.of("hibernate-core", "jakarta.persistence-api", "flyway-core",
            "flyway-database-postgresql", "freemarker", "jboss-logging", "byte-buddy");
    /** The plugin: only in sample-webapp.war. */
    private static final List<String> PLUGIN = List.of("mirror-filter", "cdc-capture", "peer-transport",
            "file-sync-module", "jgroups", "debezium-embedded", "debezium-connector-postgres", "connect-runtime",
            "kafka-clients", "jackson-databind", "slf4j-api", "slf4j-jdk14");
    /** In neither: from Tomcat's lib (HikariCP, pgjdbc, servlet API), or never loaded by the plugin. */
    private static final Pattern NEVER = Pattern.compile(
            "(HikariCP|postgresql|jakarta\\.servlet-api|tomcat-.*|jetty-.*|jersey-.*|hk2-.*|jakarta\\.ws\\.rs-api"
                    + "|swagger-.*|zstd-jni|snappy-java|lz4-java|protobuf-java|connect-file|slf4j-simple|logback-.*)");
    private static final Pattern VERSIONED = Pattern.compile("WEB-INF/lib/(.+?)-\\d.*\\.jar");

    @Test
    void theFullWarCarriesThePluginAndDeclaresItsFilter() throws IOException {
        Set<String> jars = jars(WAR);
        assertTrue(jars.containsAll(SITE), "site libraries missing: " + jars);
        assertTrue(jars.containsAll(PLUGIN), "plugin jars missing: " + jars);
        assertNothingNever(jars);
        String webXml = entry(WAR, "WEB-INF/web.xml");
        assertTrue(webXml.contains("<filter-class>org.activemirroring.mirror.MirrorFilter</filter-class>"), webXml);
        assertTrue(webXml.indexOf("MirrorFilter") < webXml.indexOf("SiteFilter"), "the mirror filter comes first");
        assertSiteClasses(WAR);
    }

    @Test
    void theBareWarCarriesNoPluginJarAndNoFilterOfIt() throws IOException {
        Set<String> jars = jars(BARE);
        assertTrue(jars.containsAll(SITE), "site libraries missing: " + jars);
        assertNothingNever(jars);
        List<String> pluginClasses = new ArrayList<>();
        try (ZipFile war = new ZipFile(BARE.toFile())) {
            for (ZipEntry e : war.stream().filter(e -> e.getName().startsWith("WEB-INF/lib/")).toList()) {
                try (JarInputStream jar = new JarInputStream(war.getInputStream(e))) {
                    for (ZipEntry c = jar.getNextEntry(); c != null; c = jar.getNextEntry()) {
                        String n = c.getName();
                        if (n.startsWith("org/activemirroring/") || n.startsWith("io/debezium/")
                                || n.startsWith("org/jgroups/") || n.startsWith("org/apache/kafka/")) {
                            pluginClasses.add(e.getName() + "!" + n);
                            break;
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), pluginClasses, "plugin classes in the bare WAR");
        Set<String> onlyInFull = new TreeSet<>(jars(WAR));
        onlyInFull.removeAll(jars);
        assertTrue(onlyInFull.containsAll(PLUGIN), "what the bare WAR leaves out: " + onlyInFull);
        String webXml = entry(BARE, "WEB-INF/web.xml");
        assertFalse(webXml.contains("org.activemirroring.mirror"), webXml);
        assertTrue(webXml.contains("org.activemirroring.sample.web.SiteFilter"), webXml);
        assertSiteClasses(BARE);
    }

    private static void assertNothingNever(Set<String> jars) {
        List<String> bad = jars.stream().filter(j -> NEVER.matcher(j).matches()).collect(Collectors.toList());
        assertEquals(List.of(), bad, "jars that must not be in a WAR of the site");
    }

    private static void assertSiteClasses(Path war) throws IOException {
        try (ZipFile z = new ZipFile(war.toFile())) {
            for (String e : List.of("WEB-INF/classes/org/activemirroring/sample/app/SiteStartup.class",
                    "WEB-INF/classes/db/migration/V1__archive.sql", "WEB-INF/classes/templates/item.ftlh")) {
                assertTrue(z.getEntry(e) != null, war + " lacks " + e);
            }
            assertTrue(z.getEntry("WEB-INF/classes/org/activemirroring/site/MirrorSite.class") == null,
                    "the site API comes with the plugin's jar, never as a copy in the site's classes");
        }
    }

    private static Set<String> jars(Path war) throws IOException {
        assertTrue(war.toFile().isFile(), "build the WARs first (mvn verify packages them before this): " + war);
        try (ZipFile z = new ZipFile(war.toFile())) {
            return z.stream().map(ZipEntry::getName).filter(n -> n.startsWith("WEB-INF/lib/") && n.endsWith(".jar"))
                    .map(n -> {
                        var m = VERSIONED.matcher(n);
                        return m.matches() ? m.group(1) : n.substring("WEB-INF/lib/".length());
                    }).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static String entry(Path war, String name) throws IOException {
        try (ZipFile z = new ZipFile(war.toFile()); InputStream in = z.getInputStream(z.getEntry(name))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
