package org.activemirroring.testsupport.tomcat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntPredicate;

/**
 * One real Tomcat from the distribution, run as a child process ({@code bin/catalina.sh run}) over
 * its own {@link CatalinaBase}, listening on 127.0.0.1 only. Its output goes to
 * {@code logs/catalina.out} under the base.
 *
 * <pre>{@code
 * CatalinaBase base = CatalinaBase.create(dir).addLibJars(TomcatDistribution.libDir())
 *         .siteDatabase(url, user, password).mirrorConfig(props);
 * base.addWar("site", war);
 * try (TomcatInstance tomcat = new TomcatInstance("mirror-1", base)) {
 *     tomcat.start();
 *     tomcat.awaitHttp("/site/_mirror/health", s -> s == 200, Duration.ofSeconds(120));
 * }
 * }</pre>
 *
 * <p>{@link #close()} always stops the process (gracefully, then by force); a JVM shutdown hook
 * stops any instance still running when the JVM exits (SIGTERM, then SIGKILL after 30 s), so no
 * Tomcat outlives its test or launcher.
 */
public final class TomcatInstance implements AutoCloseable {
    /** How long a start may take until Tomcat answers HTTP; the plugin's start is not part of it. */
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration GRACEFUL_STOP = Duration.ofSeconds(90);
    private static final Set<Process> RUNNING = ConcurrentHashMap.newKeySet();

    static {
        // SIGTERM runs Tomcat's own graceful stop; whatever still runs 30 s later is killed.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            RUNNING.forEach(Process::destroy);
            RUNNING.forEach(p -> {
                if (!waitFor(p, Duration.ofSeconds(30))) {
                    killTree(p);
                }
            });
        }, "tomcat-instances-stop"));
    }

    private final String name;
    private final CatalinaBase base;
    private final TomcatLog log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private volatile Process process;

    /** @param name for logs and failure messages ("mirror-1") */
    public TomcatInstance(String name, CatalinaBase base) {
        this.name = name;
        this.base = base;
        this.log = new TomcatLog(base.dir().resolve("logs"));
    }

    /** Starts Tomcat and waits until it answers HTTP (any status on "/"), up to {@link #DEFAULT_START_TIMEOUT}. */
    public TomcatInstance start() {
        return start(DEFAULT_START_TIMEOUT);
    }

    /**
     * Starts Tomcat and waits until it answers HTTP.
     *
     * @throws IllegalStateException if it is running already, exits, or does not answer in time,
     *                               with the tail of its log
     */
    public TomcatInstance start(Duration timeout) {
        if (isRunning()) {
            throw new IllegalStateException("Tomcat " + name + " runs already (pid " + pid() + ")");
        }
        Path home = base.home();
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", home.resolve("bin/catalina.sh").toString(), "run")
                .directory(base.dir().toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.catalinaOut().toFile()));
        Map<String, String> env = pb.environment();
        // Nothing of the test's own environment may reach Tomcat's or the plugin's settings.
        env.keySet().removeIf(k -> k.startsWith("CATALINA_") || k.startsWith("MIRROR_") || k.equals("JAVA_OPTS")
                || k.equals("JRE_HOME") || k.equals("JAVA_HOME"));
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("CATALINA_HOME", home.toString());
        env.put("CATALINA_BASE", base.dir().toString());
        env.put("CATALINA_TMPDIR", base.dir().resolve("temp").toString());
        env.putAll(base.environment());
        try {
            Files.writeString(log.catalinaOut(), "==== " + Instant.now() + " test harness: starting Tomcat " + name
                    + " (HTTP 127.0.0.1:" + base.httpPort() + ")\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start Tomcat " + name + " from " + home + ": " + e.getMessage(), e);
        }
        RUNNING.add(process);
        try {
            awaitHttp("/", status -> true, timeout);
        } catch (RuntimeException | AssertionError e) {
            killTree(process);
            RUNNING.remove(process);
            throw e;
        }
        return this;
    }

    /**
     * Waits until GET {@code path} answers with a status {@code accept} takes, and returns that
     * status.
     *
     * @throws IllegalStateException when Tomcat exits meanwhile or the deadline passes, with the last
     *                               answer and the tail of the log
     */
    public int awaitHttp(String path, IntPredicate accept, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer yet";
        long pause = 10_000_000L;
        while (true) {
            Process p = process;
            if (p == null || !p.isAlive()) {
                throw new IllegalStateException("Tomcat " + name + " is not running"
                        + (p != null ? " (exit code " + p.exitValue() + ")" : "") + " while waiting for " + path
                        + ". Last lines of " + log.catalinaOut() + ":\n" + log.tail(60));
            }
            try {
                HttpResponse<String> r = get(path);
                if (accept.test(r.statusCode())) {
                    return r.statusCode();
                }
                last = "HTTP " + r.statusCode() + ": " + abbreviate(r.body());
            } catch (IOException e) {
                last = e.toString();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Tomcat " + name + " did not answer " + url(path) + " as expected within "
                        + timeout + " (last: " + last + "). Last lines of " + log.catalinaOut() + ":\n" + log.tail(60));
            }
            // The polling interval of a condition wait with a deadline, not a guess at a duration.
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, 250_000_000L);
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for " + url(path));
            }
        }
    }

    /** GET {@code path} on this Tomcat. */
    public HttpResponse<String> get(String path) throws IOException {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(30)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** {@code http://127.0.0.1:<port><path>}. */
    public String url(String path) {
        return "http://127.0.0.1:" + base.httpPort() + (path.startsWith("/") ? path : "/" + path);
    }

    /**
     * Deploys {@code war} (a file or a web application directory) as {@code /<context>} ("ROOT"
     * for "/") into the running Tomcat, and waits until {@code readyPath} answers anything but 404.
     */
    public void deploy(String context, Path war, String readyPath, Duration timeout) {
        base.addWar(context, war);
        awaitHttp(readyPath, status -> status != 404, timeout);
    }

    /**
     * Undeploys {@code /<context>} by removing its WAR, and returns once Tomcat has stopped it and
     * deleted its expanded directory (it does so after the application's class loader is stopped,
     * so Tomcat's leak checks for it are in the log by then).
     */
    public void undeploy(String context, Duration timeout) {
        Path expanded = base.expandedDir(context);
        if (!Files.isDirectory(expanded)) {
            throw new IllegalStateException(context + " is not deployed in " + name + " (no " + expanded + ")");
        }
        base.removeWar(context);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (Files.exists(expanded)) {
            if (!isRunning() || System.nanoTime() > deadline) {
                throw new IllegalStateException("Tomcat " + name + " did not undeploy " + context + " within " + timeout
                        + " (" + expanded + " is still there). Last lines of the log:\n" + log.tail(40));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
    }

    /**
     * Stops Tomcat gracefully (its shutdown port), then with SIGTERM, then SIGKILL, each after a
     * deadline; returns once the process is gone. Does nothing if it does not run.
     */
    public void stop() {
        Process p = process;
        if (p == null) {
            return;
        }
        try {
            if (p.isAlive()) {
                sendShutdown();
                if (!waitFor(p, GRACEFUL_STOP)) {
                    p.destroy();
                    if (!waitFor(p, Duration.ofSeconds(20))) {
                        killTree(p);
                    }
                }
            }
        } finally {
            RUNNING.remove(p);
            process = null;
        }
    }

    /** Kills Tomcat with SIGKILL ({@code kill -9}): no shutdown hooks, no clean stop of anything. */
    public void kill9() {
        Process p = process;
        if (p == null) {
            return;
        }
        killTree(p);
        RUNNING.remove(p);
        process = null;
    }

    /** {@link #stop()}, then {@link #start()} on the same base and ports. */
    public TomcatInstance restart() {
        stop();
        return start();
    }

    /** Stops Tomcat if it runs; never throws for a process that is gone already. */
    @Override
    public void close() {
        try {
            stop();
        } catch (RuntimeException e) {
            kill9();
            throw e;
        }
    }

    private void sendShutdown() {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), base.shutdownPort())) {
            OutputStream out = s.getOutputStream();
            out.write(base.shutdownCommand().getBytes(StandardCharsets.US_ASCII));
            out.flush();
        } catch (IOException e) {
            // Not listening (yet, or any more): SIGTERM runs the same shutdown through Tomcat's hook.
            process.destroy();
        }
    }

    private static boolean waitFor(Process p, Duration timeout) {
        try {
            return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void killTree(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        waitFor(p, Duration.ofSeconds(30));
    }

    private static String abbreviate(String s) {
        String one = s.replace('\n', ' ');
        return one.length() > 200 ? one.substring(0, 200) + "..." : one;
    }

    public boolean isRunning() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /** The JVM's process id (catalina.sh {@code exec}s java, so it is the child's own). */
    public long pid() {
        Process p = process;
        if (p == null) {
            throw new IllegalStateException("Tomcat " + name + " is not running");
        }
        return p.pid();
    }

    /** The threads of the running Tomcat's JVM. */
    public ThreadDump threadDump() {
        return ThreadDump.of(pid());
    }

    /** The TCP addresses the running Tomcat's JVM listens on (HTTP, shutdown, the mirror's ports). */
    public java.util.List<java.net.InetSocketAddress> listeningAddresses() {
        return ListeningSockets.of(pid());
    }

    public String name() {
        return name;
    }

    public CatalinaBase base() {
        return base;
    }

    public TomcatLog log() {
        return log;
    }

    public int httpPort() {
        return base.httpPort();
    }
}
