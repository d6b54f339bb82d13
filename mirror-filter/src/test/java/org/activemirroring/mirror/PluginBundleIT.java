package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.activemirroring.mirror.PluginBundleRules.Jar;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Checks the built plugin bundle (the package phase made it; failsafe passes its paths as
 * {@code bundle.dir} and {@code bundle.zip}): {@link PluginBundleRules} on its jars, the zip
 * holding the same files, and the tests' class path holding the same jars, so that every other
 * integration test of the build ran on what the operator installs.
 */
class PluginBundleIT {

    /** Built in this reactor: on the class path as target/classes or a jar, whatever the build ran. */
    private static final Set<String> OURS = Set.of("peer-transport", "cdc-capture", "mirror-filter");

    private static Path dir;
    private static Path zip;
    private static List<Jar> jars;

    @BeforeAll
    static void readBundle() throws IOException {
        dir = Path.of(System.getProperty("bundle.dir", "target/activemirroring-plugin"));
        zip = Path.of(System.getProperty("bundle.zip", "target/activemirroring-plugin-0.1.0-SNAPSHOT.zip"));
        assertTrue(Files.isDirectory(dir), dir + " is missing: run ./mvnw package first");
        jars = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                assertTrue(Files.isRegularFile(f), f + " is not a file: the bundle is flat");
                jars.add(Jar.read(f));
            }
        }
        assertTrue(jars.size() > PluginBundleRules.REQUIRED.size(), () -> "only " + jars.size() + " files in " + dir);
    }

    @Test
    void theBundleKeepsTheRules() {
        List<String> problems = PluginBundleRules.check(jars);
        assertEquals(List.of(), problems, () -> dir + " has problems:\n  " + String.join("\n  ", problems));
        long total = jars.stream().mapToLong(Jar::size).sum();
        System.out.printf("Plugin bundle: %d jars, %d bytes (%.1f MB)%n", jars.size(), total, total / 1e6);
    }

    @Test
    void theZipHoldsTheSameFilesAsTheDirectory() throws IOException {
        assertTrue(Files.isRegularFile(zip), zip + " is missing");
        Map<String, Long> inDir = new TreeMap<>();
        jars.forEach(j -> inDir.put(j.fileName(), j.size()));
        Map<String, Long> inZip = new TreeMap<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            for (ZipEntry e : z.stream().toList()) {
                assertTrue(!e.isDirectory() && !e.getName().contains("/"), () -> e.getName() + " in " + zip
                        + ": the zip is flat, its jars go straight into WEB-INF/lib");
                inZip.put(e.getName(), e.getSize());
            }
        }
        List<String> differences = new ArrayList<>();
        inDir.forEach((name, size) -> {
            if (!inZip.containsKey(name)) {
                differences.add(name + " is only in the directory");
            } else if (!inZip.get(name).equals(size)) {
                differences.add(name + " has " + size + " bytes in the directory, " + inZip.get(name) + " in the zip");
            }
        });
        inZip.keySet().stream().filter(name -> !inDir.containsKey(name))
                .forEach(name -> differences.add(name + " is only in the zip"));
        assertEquals(List.of(), differences, () -> zip + " differs from " + dir + ":\n" + String.join("\n", differences));
    }

    @Test
    void theTestsRanOnTheBundlesJars() {
        List<String> classPath = List.of(System.getProperty("java.class.path").split(File.pathSeparator));
        Set<String> onClassPath = new TreeSet<>();
        classPath.forEach(p -> onClassPath.add(Path.of(p).getFileName().toString()));
        List<String> problems = new ArrayList<>();
        for (Jar jar : jars) {
            if (!OURS.contains(PluginBundleRules.artifactName(jar.fileName())) && !onClassPath.contains(jar.fileName())) {
                problems.add(jar.fileName() + " is in the bundle but not on the tests' class path");
            }
        }
        for (String entry : onClassPath) {
            PluginBundleRules.denied(PluginBundleRules.artifactName(entry), PluginBundleRules.NOT_LOADED)
                    .ifPresent(why -> problems.add(entry + " is on the tests' class path, so they do not prove that"
                            + " the plugin runs without it (" + why + "): exclude it"));
        }
        assertEquals(List.of(), problems, () -> String.join("\n", problems));
    }
}
