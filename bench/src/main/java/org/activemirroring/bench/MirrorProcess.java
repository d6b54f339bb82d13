package org.activemirroring.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One mirror in a JVM of its own ({@code MirrorMain}), so that its heap is measured on its own: the
 * JVM writes a GC log, and the largest heap left after a collection is the live set it needed. The
 * catch-up benchmark also stops or kills one and times a new one from its spawn.
 */
final class MirrorProcess implements AutoCloseable {
    private static final Pattern AFTER_GC = Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)");

    private final String nodeId;
    private final Process process;
    private final Path gcLog;
    private final long spawnedAtNanos;
    private volatile long readyAtNanos;

    private MirrorProcess(String nodeId, Process process, Path gcLog, long spawnedAtNanos) {
        this.nodeId = nodeId;
        this.process = process;
        this.gcLog = gcLog;
        this.spawnedAtNanos = spawnedAtNanos;
    }

    /**
     * JVM options for every mirror process, from the environment's {@code BENCH_NODE_OPTS} (e.g. a
     * JFR recording while profiling); {@code {dir}} in them becomes the node's own directory.
     */
    private static List<String> nodeJavaOptions(Path dir) {
        String opts = System.getenv().getOrDefault("BENCH_NODE_OPTS", "").trim();
        List<String> out = new ArrayList<>();
        if (!opts.isEmpty()) {
            for (String o : opts.split("\\s+")) {
                out.add(o.replace("{dir}", dir.toString()));
            }
        }
        return out;
    }

    /** The mirror JVM's process id. */
    long pid() {
        return process.pid();
    }

    /** Starts the node and waits for its READY line. */
    static MirrorProcess start(Map<String, String> settings, Path dir, String maxHeap) throws Exception {
        return start(settings, dir, maxHeap, List.of());
    }

    /**
     * Starts the node with extra JVM options (e.g. a logger's level) and waits for its READY line.
     * {@link #spawnedAtNanos()} and {@link #readyAtNanos()} say when, on this JVM's nanoTime clock.
     */
    static MirrorProcess start(Map<String, String> settings, Path dir, String maxHeap, List<String> jvmOptions)
            throws Exception {
        Files.createDirectories(dir);
        Path props = dir.resolve("mirror.properties");
        StringBuilder sb = new StringBuilder();
        settings.forEach((k, v) -> sb.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
        Files.writeString(props, sb.toString());
        Path gcLog = dir.resolve("gc.log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + maxHeap, "-XX:+ExitOnOutOfMemoryError", "-Xlog:gc:file=" + gcLog, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"));
        cmd.addAll(jvmOptions);
        cmd.addAll(nodeJavaOptions(dir));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "org.activemirroring.mirror.MirrorMain", props.toString()));
        long spawnedAt = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("stderr.log").toFile()).start();
        String nodeId = settings.get("mirror.node.id");
        MirrorProcess mp = new MirrorProcess(nodeId, p, gcLog, spawnedAt);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("READY ")) {
                        mp.readyAtNanos = System.nanoTime();
                        return line;
                    }
                }
                return null;
            } catch (IOException e) {
                return null;
            }
        });
        try {
            if (ready.get(120, TimeUnit.SECONDS) == null) {
                throw new IllegalStateException("mirror process " + nodeId + " exited with " + p.waitFor()
                        + " before it was ready; see " + dir.resolve("stderr.log"));
            }
        } catch (TimeoutException e) {
            mp.close();
            throw new IllegalStateException("mirror process " + nodeId + " not ready within 120 s; see "
                    + dir.resolve("stderr.log"), e);
        }
        return mp;
    }

    String nodeId() {
        return nodeId;
    }

    /** When the JVM was spawned ({@link System#nanoTime()}, just before the fork). */
    long spawnedAtNanos() {
        return spawnedAtNanos;
    }

    /** When its READY line was read ({@link System#nanoTime()}); 0 before. */
    long readyAtNanos() {
        return readyAtNanos;
    }

    /** CPU time the process has used so far (user and system), in seconds; -1 where the OS does not say. */
    double cpuSeconds() {
        return process.info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(-1.0);
    }

    /** Fails with the reason when the process has exited (e.g. out of memory), so a run stops at once. */
    void checkAlive() {
        if (!process.isAlive()) {
            throw new IllegalStateException("mirror process " + nodeId + " exited with " + process.exitValue()
                    + "; see " + gcLog.resolveSibling("stderr.log"));
        }
    }

    /** The largest heap in use right after a garbage collection so far, in MiB (0 before any GC). */
    long peakLiveHeapMb() throws IOException {
        long peak = 0;
        if (!Files.exists(gcLog)) {
            return 0;
        }
        for (String line : Files.readAllLines(gcLog)) {
            Matcher m = AFTER_GC.matcher(line);
            if (m.find()) {
                peak = Math.max(peak, Long.parseLong(m.group(2)));
            }
        }
        return peak;
    }

    /** Kills the node at once (SIGKILL): a crash, with no clean stop of capture or transport. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    /** Asks the node to stop (STOP on stdin), waits, and kills it if it does not. */
    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            try (OutputStream in = process.getOutputStream()) {
                in.write("STOP\n".getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // Already gone.
            }
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroy();
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor();
                }
            }
        }
    }
}
