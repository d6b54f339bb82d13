package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.activemirroring.mirror.PluginBundleRules.Jar;
import org.junit.jupiter.api.Test;

/** The bundle rules catch what they are meant to: each test breaks a good bundle in one way. */
class PluginBundleRulesTest {

    private static Jar jar(String fileName) {
        return new Jar(fileName, 1000, Set.of(), false, false);
    }

    private static List<Jar> goodBundle() {
        List<Jar> jars = new ArrayList<>();
        for (String name : List.of("peer-transport-0.1.0-SNAPSHOT.jar", "cdc-capture-0.1.0-SNAPSHOT.jar",
                "mirror-filter-0.1.0-SNAPSHOT.jar", "debezium-api-3.5.0.Final.jar", "debezium-embedded-3.5.0.Final.jar",
                "debezium-connector-postgres-3.5.0.Final.jar", "connect-runtime-4.1.1.jar", "kafka-clients-4.1.1.jar",
                "jgroups-5.5.7.Final.jar", "jackson-databind-2.22.4.jar", "slf4j-api-2.0.17.jar",
                "micrometer-core-1.17.2.jar", "micrometer-registry-prometheus-1.17.2.jar",
                "prometheus-metrics-exposition-textformats-1.7.0.jar", "micrometer-registry-jmx-1.17.2.jar")) {
            jars.add(jar(name));
        }
        jars.add(new Jar("postgresql-42.7.14.jar", 1000, Set.of("org.postgresql:postgresql"), true, false));
        return jars;
    }

    private static void assertOneProblem(List<Jar> jars, String expectedPart) {
        List<String> problems = PluginBundleRules.check(jars);
        assertEquals(1, problems.size(), () -> "problems: " + problems);
        assertTrue(problems.get(0).contains(expectedPart), () -> problems.get(0) + " should mention " + expectedPart);
    }

    @Test
    void aGoodBundleHasNoProblem() {
        assertEquals(List.of(), PluginBundleRules.check(goodBundle()));
    }

    @Test
    void artifactNamesLoseTheirVersion() {
        assertEquals("jackson-datatype-jsr310", PluginBundleRules.artifactName("jackson-datatype-jsr310-2.22.4.jar"));
        assertEquals("zstd-jni", PluginBundleRules.artifactName("zstd-jni-1.5.6-10.jar"));
        assertEquals("jakarta.ws.rs-api", PluginBundleRules.artifactName("jakarta.ws.rs-api-3.1.0.jar"));
        assertEquals("cdc-capture", PluginBundleRules.artifactName("cdc-capture-0.1.0-SNAPSHOT.jar"));
        assertEquals("javassist", PluginBundleRules.artifactName("javassist-3.30.2-GA.jar"));
        assertEquals("postgresql", PluginBundleRules.artifactName("postgresql-42.2.5.jre7.jar"));
        assertEquals("bcprov-jdk18on", PluginBundleRules.artifactName("bcprov-jdk18on-1.86.jar"));
        assertEquals("unversioned", PluginBundleRules.artifactName("unversioned.jar"));
    }

    @Test
    void theSameArtifactAtTwoVersionsIsReported() {
        List<Jar> jars = goodBundle();
        jars.add(jar("jackson-databind-2.19.0.jar"));
        assertOneProblem(jars, "jackson-databind is in the bundle 2 times");
    }

    @Test
    void theSameCoordinatesUnderAnotherFileNameAreReported() {
        List<Jar> jars = goodBundle();
        jars.add(new Jar("pgjdbc.jar", 1000, Set.of("org.postgresql:postgresql"), false, false));
        assertOneProblem(jars, "org.postgresql:postgresql is in more than one jar");
    }

    @Test
    void aSecondPostgresqlDriverIsReportedWhateverItsName() {
        List<Jar> jars = goodBundle();
        jars.add(new Jar("site-db-driver.jar", 1000, Set.of(), true, false));
        assertOneProblem(jars, "more than one PostgreSQL driver");
    }

    @Test
    void deniedArtifactsAreReported() {
        for (String denied : List.of("jetty-server-12.0.22.jar", "jersey-common-3.1.10.jar",
                "jakarta.validation-api-3.0.2.jar", "jakarta.xml.bind-api-3.0.1.jar", "jakarta.activation-2.0.1.jar",
                "jakarta.activation-api-2.1.0.jar", "jakarta.annotation-api-2.1.1.jar", "jakarta.ws.rs-api-3.1.0.jar",
                "zstd-jni-1.5.6-10.jar", "protobuf-java-3.25.5.jar", "prometheus-metrics-exposition-formats-1.7.0.jar",
                "jakarta.servlet-api-6.0.0.jar",
                "slf4j-simple-2.0.17.jar", "logback-classic-1.5.18.jar", "log4j-slf4j2-impl-2.24.3.jar")) {
            List<Jar> jars = goodBundle();
            jars.add(jar(denied));
            assertOneProblem(jars, denied + " must not be in the bundle");
        }
    }

    @Test
    void anSlf4jBindingIsReportedByItsContent() {
        List<Jar> jars = goodBundle();
        jars.add(new Jar("my-logging-bridge-1.0.jar", 1000, Set.of(), false, true));
        assertOneProblem(jars, "is an SLF4J binding");
    }

    @Test
    void missingRequiredArtifactsAreReported() {
        List<Jar> jars = goodBundle();
        jars.removeIf(j -> j.fileName().startsWith("debezium-connector-postgres"));
        assertOneProblem(jars, "required artifact debezium-connector-postgres is missing");
    }

    @Test
    void aBundleOver30MbIsReported() {
        List<Jar> jars = goodBundle();
        jars.add(new Jar("big-1.0.jar", PluginBundleRules.MAX_TOTAL_BYTES, Set.of(), false, false));
        assertOneProblem(jars, "more than 30000000");
    }

    @Test
    void filesOtherThanJarsAreReported() {
        List<Jar> jars = goodBundle();
        jars.add(jar("README.txt"));
        assertOneProblem(jars, "README.txt is not a jar");
    }
}
