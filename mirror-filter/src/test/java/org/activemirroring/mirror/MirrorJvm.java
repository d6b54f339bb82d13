package org.activemirroring.mirror;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One mirror node as a JVM of its own ({@link MirrorMain}), for tests that kill it: start, wait for
 * {@code READY}, kill -9, stop cleanly. Each start ("incarnation") logs to its own file in the
 * mirror's directory, so a failure can point at the log of the JVM that misbehaved.
 */
final class MirrorJvm implements AutoCloseable {
    /** What Process.exitValue() reports for a JVM ended by SIGKILL (128 + 9). */
    static final int KILLED_BY_SIGKILL = 137;

    private final String nodeId;
    private final Path props;
    private final Path dir;
    private Process process;
    private CompletableFuture<String> ready;
    private int incarnation;

    MirrorJvm(Map<String, String> settings, Path dir) throws IOException {
        this.nodeId = settings.get("mirror.node.id");
        this.dir = dir;
        Files.createDirectories(dir);
        this.props = dir.resolve("mirror.properties");
        StringBuilder sb = new StringBuilder();
        settings.forEach((k, v) -> sb.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
        Files.writeString(props, sb.toString());
    }

    String nodeId() {
        return nodeId;
    }

    /** Launches a new JVM; {@link #awaitReady} waits for its READY line. */
    synchronized void start() throws IOException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(nodeId + " is already running");
        }
        incarnation++;
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:+ExitOnOutOfMemoryError",
                "-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
                "-cp", System.getProperty("java.class.path"), MirrorMain.class.getName(), props.toString()));
        Process p = new ProcessBuilder(cmd).redirectError(log().toFile()).start();
        process = p;
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> r = new CompletableFuture<>();
        ready = r;
        Thread reader = new Thread(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("READY ")) {
                        r.complete(line);
                    }
                }
            } catch (IOException e) {
                // The process went away; handled below.
            }
            r.complete(null);
        }, "stdout-" + nodeId + "-" + incarnation);
        reader.setDaemon(true);
        reader.start();
    }

    /** Waits for READY; fails with the exit code and the log when the JVM exits or is too slow. */
    void awaitReady(Duration timeout) throws InterruptedException {
        CompletableFuture<String> r;
        Process p;
        synchronized (this) {
            r = ready;
            p = process;
        }
        try {
            String line = r.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (line == null) {
                throw new AssertionError(nodeId + " (start " + incarnation + ") exited with " + p.waitFor()
                        + " before READY; log " + log() + ":\n" + tail());
            }
        } catch (TimeoutException e) {
            throw new AssertionError(nodeId + " (start " + incarnation + ") not READY within " + timeout + "; log "
                    + log() + ":\n" + tail());
        } catch (ExecutionException e) {
            throw new AssertionError(e.getCause());
        }
    }

    /**
     * kill -9: {@link Process#destroyForcibly()} sends SIGKILL on Linux, checked by the exit value.
     *
     * @return the exit value (137 for SIGKILL)
     */
    synchronized int kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError(nodeId + " still alive 30 s after SIGKILL");
        }
        return process.exitValue();
    }

    synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** Asks for a clean stop (STOP on stdin) and waits; kills the JVM if it does not stop. */
    @Override
    public synchronized void close() throws InterruptedException {
        if (process == null || !process.isAlive()) {
            return;
        }
        try (OutputStream in = process.getOutputStream()) {
            in.write("STOP\n".getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            // Already going away.
        }
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    Path log() {
        return dir.resolve("stderr-" + incarnation + ".log");
    }

    /** The last lines of the current incarnation's log, for failure messages. */
    String tail() {
        try {
            List<String> lines = Files.readAllLines(log());
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return e.toString();
        }
    }
}
