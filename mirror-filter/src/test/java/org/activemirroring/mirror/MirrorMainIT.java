package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A mirror as its own process: ready line, clean stop, and the exit code of a bad configuration. */
class MirrorMainIT {

    private static Process launch(Path props, Path stderr) throws Exception {
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), MirrorMain.class.getName(), props.toString())
                .redirectError(stderr.toFile()).start();
    }

    @Test
    void startsPrintsReadyAndStopsCleanlyOnStop(@TempDir Path dir) throws Exception {
        try (PostgresServers pgs = PostgresServers.start("main", 1)) {
            PgServer pg = pgs.get(0);
            SiteSchema.create(pg);
            Map<String, String> settings = MirrorSettings.forServers("main", List.of(pg)).get(0);
            Path props = dir.resolve("mirror.properties");
            StringBuilder sb = new StringBuilder();
            settings.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
            Files.writeString(props, sb.toString());

            Process p = launch(props, dir.resolve("stderr.log"));
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
                assertEquals("READY main-1", out.readLine(), () -> "stderr: " + read(dir.resolve("stderr.log")));
                try (OutputStream in = p.getOutputStream()) {
                    in.write("STOP\n".getBytes(StandardCharsets.UTF_8));
                }
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "stopped within 60 s");
                assertEquals(0, p.exitValue());
            } finally {
                p.destroyForcibly().waitFor();
            }
        }
    }

    @Test
    void aBadConfigurationExitsWithTwoAndNamesTheProblem(@TempDir Path dir) throws Exception {
        Path props = dir.resolve("mirror.properties");
        Files.writeString(props, "mirror.node.id=Not Valid\n");
        Process p = launch(props, dir.resolve("stderr.log"));
        try {
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertEquals(2, p.exitValue());
            String err = read(dir.resolve("stderr.log"));
            assertTrue(err.contains("mirror.node.id") && err.contains("mirror.db.url"), err);
        } finally {
            p.destroyForcibly().waitFor();
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (Exception e) {
            return e.toString();
        }
    }
}
