package org.activemirroring.bench;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The reference for the files benchmark: rsync pushing a folder to an rsync daemon on 127.0.0.1,
 * the usual way to keep upload folders of several web servers alike. Both ends run on this machine,
 * like the mirrors they are compared with, and over TCP (not a local copy, which would skip
 * rsync's delta algorithm: rsync copies whole files when both paths are local).
 *
 * <p>{@link #start(Path, Path)} runs {@code rsync --daemon --no-detach} with a config of one
 * writable module {@code dst} (no chroot, as the owner of the destination, so it also works as
 * root); {@link #push(Path)} runs {@code rsync -a --delete --stats --no-inc-recursive <src>/
 * rsync://127.0.0.1:<port>/dst/} and returns its wall time and the byte counts from
 * {@code --stats}; {@link #close()} stops the daemon and waits for it. rsync must be on the
 * {@code PATH}; without it the benchmark fails (it is never skipped).
 */
final class RsyncReference implements AutoCloseable {
    private static final Pattern SENT = Pattern.compile("Total bytes sent: ([\\d,.]+)");
    private static final Pattern RECEIVED = Pattern.compile("Total bytes received: ([\\d,.]+)");
    private static final long READY_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(15);
    private static final int START_ATTEMPTS = 3;

    /** One push: wall time from spawn to exit, and the client's {@code --stats} byte counts. */
    record Run(long millis, long bytesSent, long bytesReceived) {
    }

    private final String rsync;
    private final Process daemon;
    private final int port;
    private final Path log;

    private RsyncReference(String rsync, Process daemon, int port, Path log) {
        this.rsync = rsync;
        this.daemon = daemon;
        this.port = port;
        this.log = log;
    }

    /**
     * Starts a daemon whose module {@code dst} is {@code dstDir} (created if missing), with its
     * config and log in {@code workDir}, and waits until it accepts connections.
     *
     * @throws IllegalStateException when rsync is not installed or the daemon does not come up
     */
    /**
     * With {@code -Dbench.rsync.fsync=true} rsync forces every file it writes to disk
     * ({@code --fsync}), the durability a mirror gives each file; by default it does not.
     */
    static final boolean FSYNC = Boolean.getBoolean("bench.rsync.fsync");

    static RsyncReference start(Path workDir, Path dstDir) throws IOException, InterruptedException {
        String rsync = rsyncOnPath();
        Files.createDirectories(workDir);
        Files.createDirectories(dstDir);
        Path log = workDir.resolve("rsyncd.log");
        Path config = workDir.resolve("rsyncd.conf");
        // The module runs as the destination's owner: root when the benchmark runs as root, so the
        // daemon keeps the ownership rsync -a sends (rsync's default, nobody, could not write).
        // Not run as root, the daemon ignores uid/gid.
        Files.writeString(config, "# rsync daemon of the files benchmark's reference run; written by RsyncReference\n"
                + "use chroot = no\n"
                + "log file = " + log.toAbsolutePath() + "\n"
                + "[dst]\n"
                + "    path = " + dstDir.toAbsolutePath() + "\n"
                + "    read only = no\n"
                + "    munge symlinks = no\n"
                + "    uid = " + Files.getAttribute(dstDir, "unix:uid") + "\n"
                + "    gid = " + Files.getAttribute(dstDir, "unix:gid") + "\n", StandardCharsets.UTF_8);
        String lastFailure = null;
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            // The port is free now; another process may take it before rsync binds, hence the retry.
            int port = freePort();
            Process p = new ProcessBuilder(rsync, "--daemon", "--no-detach", "--config=" + config.toAbsolutePath(),
                    "--port=" + port, "--address=127.0.0.1")
                    .redirectErrorStream(true).redirectOutput(workDir.resolve("rsyncd.out").toFile()).start();
            boolean listening = false;
            try {
                lastFailure = awaitListening(p, port);
                listening = lastFailure == null;
            } finally {
                if (!listening) {
                    stop(p);
                }
            }
            if (listening) {
                return new RsyncReference(rsync, p, port, log);
            }
        }
        throw new IllegalStateException("The rsync daemon did not start after " + START_ATTEMPTS + " attempts: "
                + lastFailure + "; see " + workDir.resolve("rsyncd.out") + " and " + log);
    }

    /** The daemon's TCP port on 127.0.0.1. */
    int port() {
        return port;
    }

    /**
     * Pushes {@code srcDir}'s content into the module: afterwards it holds exactly the same files
     * ({@code --delete}). Timed from the client's spawn to its exit.
     *
     * @throws IllegalStateException when rsync fails or its output has no {@code --stats} totals
     */
    Run push(Path srcDir) throws IOException, InterruptedException {
        if (!Files.isDirectory(srcDir)) {
            throw new IllegalArgumentException("Cannot push " + srcDir + ": it is not a directory; create the tree first");
        }
        List<String> cmd = new java.util.ArrayList<>(List.of(rsync, "-a", "--delete", "--stats", "--no-inc-recursive"));
        if (FSYNC) {
            cmd.add("--fsync"); // the receiver forces each file to disk, as a mirror does
        }
        cmd.add(srcDir.toAbsolutePath() + "/");
        cmd.add("rsync://127.0.0.1:" + port + "/dst/");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        // The C locale prints the totals with ',' as thousands separator, whatever the machine's locale.
        pb.environment().put("LC_ALL", "C");
        long start = System.nanoTime();
        Process p = pb.start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(2, TimeUnit.HOURS)) {
                throw new IllegalStateException("rsync did not finish pushing " + srcDir + " in 2 hours");
            }
        } finally {
            if (p.isAlive()) {
                stop(p);
            }
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        if (p.exitValue() != 0) {
            throw new IllegalStateException("rsync push of " + srcDir + " failed (exit " + p.exitValue() + "): "
                    + tail(out) + "; the daemon's log is " + log);
        }
        return new Run(millis, bytesSent(out), bytesReceived(out));
    }

    /** Stops the daemon and waits for it to exit. Idempotent. */
    @Override
    public void close() throws InterruptedException {
        stop(daemon);
    }

    /** The {@code Total bytes sent} of rsync's {@code --stats} output, e.g. 1234 for {@code 1,234}. */
    static long bytesSent(String statsOutput) {
        return total(SENT, "Total bytes sent", statsOutput);
    }

    /** The {@code Total bytes received} of rsync's {@code --stats} output. */
    static long bytesReceived(String statsOutput) {
        return total(RECEIVED, "Total bytes received", statsOutput);
    }

    private static long total(Pattern pattern, String label, String statsOutput) {
        Matcher m = pattern.matcher(statsOutput);
        if (!m.find()) {
            throw new IllegalStateException("rsync --stats printed no '" + label + ": <n>' line; is the rsync on PATH"
                    + " Debian's rsync 3.x (apt-get install -y rsync)? Its output: " + tail(statsOutput));
        }
        // Thousands separators: ',' in the C locale the push runs in, '.' in some others.
        return Long.parseLong(m.group(1).replaceAll("[,.]", ""));
    }

    private static String rsyncOnPath() {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty()) {
                Path candidate = Path.of(dir, "rsync");
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return candidate.toString();
                }
            }
        }
        throw new IllegalStateException("The files benchmark needs rsync for its reference run, and there is no rsync"
                + " on PATH (" + path + "). Install Debian's rsync package: apt-get install -y rsync");
    }

    /** Null once the daemon accepts connections on {@code port}, else why not. */
    private static String awaitListening(Process p, int port) {
        long deadline = System.nanoTime() + READY_TIMEOUT_NANOS;
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                return "it exited with " + p.exitValue() + " (port " + port + " taken, or a bad config)";
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                return null;
            } catch (IOException notYet) {
                // Polling interval of the readiness wait; the loop re-checks until the deadline.
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
        }
        return "it did not listen on 127.0.0.1:" + port + " within " + TimeUnit.NANOSECONDS.toSeconds(READY_TIMEOUT_NANOS) + " s";
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** SIGTERM, then SIGKILL if it lingers; always waits, so no rsync outlives the benchmark. */
    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    private static String tail(String out) {
        List<String> lines = out.lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
    }
}
