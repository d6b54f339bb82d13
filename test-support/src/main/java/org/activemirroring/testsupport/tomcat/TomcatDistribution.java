package org.activemirroring.testsupport.tomcat;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the unpacked Tomcat distribution ({@code CATALINA_HOME}) and the {@code tomcat-conf/}
 * templates are. The build provides both: {@code tomcat-conf}'s pom unpacks
 * {@code org.apache.tomcat:tomcat:<tomcat.dist.version>:tar.gz} from the Maven repository and
 * passes its path as the system property {@code tomcat.home}; other modules do the same.
 */
public final class TomcatDistribution {
    /** System property: the unpacked distribution ({@code CATALINA_HOME}). */
    public static final String HOME_PROPERTY = "tomcat.home";
    /** System property: the {@code tomcat-conf/} directory with server.xml, context.xml, ... */
    public static final String CONF_PROPERTY = "tomcat.conf.dir";
    /** System property: jars for {@code $CATALINA_BASE/lib} (HikariCP, pgjdbc, slf4j). */
    public static final String LIB_PROPERTY = "tomcat.lib.dir";
    /** System property: the plugin bundle's directory (mirror-filter/target/activemirroring-plugin). */
    public static final String BUNDLE_PROPERTY = "plugin.bundle.dir";

    private TomcatDistribution() {
    }

    /**
     * {@code CATALINA_HOME} from {@code -Dtomcat.home}.
     *
     * @throws IllegalStateException saying how to get one when it is missing or not a Tomcat
     */
    public static Path home() {
        Path home = directory(HOME_PROPERTY, "an unpacked Tomcat distribution (tomcat-conf's build unpacks"
                + " org.apache.tomcat:tomcat:11.0.24:tar.gz into tomcat-conf/target/tomcat; run"
                + " ./mvnw -pl tomcat-conf -am -DskipTests package)");
        if (!Files.isRegularFile(home.resolve("bin/catalina.sh")) || !Files.isRegularFile(home.resolve("lib/catalina.jar"))) {
            throw new IllegalStateException("-D" + HOME_PROPERTY + "=" + home + " is not a Tomcat distribution"
                    + " (no bin/catalina.sh or lib/catalina.jar): point it at the unpacked apache-tomcat-<version>"
                    + " directory.");
        }
        return home;
    }

    /** The {@code tomcat-conf/} templates from {@code -Dtomcat.conf.dir}, else found above the working directory. */
    public static Path confDir() {
        String value = System.getProperty(CONF_PROPERTY);
        if (value != null && !value.isBlank()) {
            return checked(CONF_PROPERTY, Path.of(value), "server.xml");
        }
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("tomcat-conf");
            if (Files.isRegularFile(candidate.resolve("server.xml"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("The tomcat-conf/ templates were not found: set -D" + CONF_PROPERTY
                + " to the repository's tomcat-conf directory.");
    }

    /** The jars for {@code $CATALINA_BASE/lib} that the JNDI pool needs, from {@code -Dtomcat.lib.dir}. */
    public static Path libDir() {
        return directory(LIB_PROPERTY, "the jars HikariCP, pgjdbc and slf4j for $CATALINA_BASE/lib (tomcat-conf's"
                + " build copies them into tomcat-conf/target/tomcat-lib)");
    }

    /** The plugin's jars from {@code -Dplugin.bundle.dir}. */
    public static Path pluginBundle() {
        return checked(BUNDLE_PROPERTY, directory(BUNDLE_PROPERTY, "the plugin bundle's directory (mirror-filter's"
                + " package phase builds mirror-filter/target/activemirroring-plugin; run ./mvnw -pl mirror-filter -am"
                + " -DskipTests package)"), "peer-transport-*.jar");
    }

    private static Path directory(String property, String what) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            throw new IllegalStateException("The system property " + property + " is not set: set it to " + what + ".");
        }
        Path dir = Path.of(value).toAbsolutePath();
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("-D" + property + "=" + dir + " does not exist: it should be " + what + ".");
        }
        return dir;
    }

    private static Path checked(String property, Path dir, String glob) {
        try (var files = Files.newDirectoryStream(dir, glob)) {
            if (files.iterator().hasNext()) {
                return dir;
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException("Cannot read -D" + property + "=" + dir + ": " + e, e);
        }
        throw new IllegalStateException("-D" + property + "=" + dir + " holds no " + glob + ": is it the right directory?");
    }
}
