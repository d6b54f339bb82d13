package org.activemirroring.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.zonky.test.db.postgres.util.LinuxUtils;

/**
 * Stops and starts one embedded PostgreSQL server in place (same data directory, same port), for
 * tests of what the mirror does while its site database restarts.
 *
 * <p>zonky has no restart, so this runs {@code pg_ctl} the way zonky itself does: the binary next
 * to the {@code postgres} named in {@code postmaster.opts}, under {@code unshare -U} where zonky
 * uses it (as root), and on start with the options the server was first started with, which
 * {@code postmaster.opts} keeps after a stop.
 */
final class EmbeddedServerControl implements PostgresServers.ServerControl {
    private static final long TIMEOUT_SECONDS = 60;

    private final Path dataDir;
    private final Path pgCtl;
    private final String options;

    private EmbeddedServerControl(Path dataDir, Path pgCtl, String options) {
        this.dataDir = dataDir;
        this.pgCtl = pgCtl;
        this.options = options;
    }

    /** Reads how the running server at {@code dataDir} was started. */
    static EmbeddedServerControl of(Path dataDir) throws IOException {
        // Format: /path/bin/postgres "-D" "/data" "-p" "5432" "-c" "k=v" ...
        String opts = Files.readString(dataDir.resolve("postmaster.opts")).strip();
        int firstSpace = opts.indexOf(' ');
        Path postgres = Path.of(opts.substring(0, firstSpace));
        String args = opts.substring(firstSpace + 1);
        String dataArg = "\"-D\" \"" + dataDir + "\"";
        args = args.replace(dataArg, "").strip();
        return new EmbeddedServerControl(dataDir, postgres.resolveSibling("pg_ctl"), args);
    }

    @Override
    public void stop(boolean immediate) throws IOException, InterruptedException {
        pgCtl("-D", dataDir.toString(), "-m", immediate ? "immediate" : "fast", "-w", "-t", Long.toString(TIMEOUT_SECONDS), "stop");
    }

    @Override
    public void start() throws IOException, InterruptedException {
        pgCtl("-D", dataDir.toString(), "-o", options, "-w", "-t", Long.toString(TIMEOUT_SECONDS),
                "-l", dataDir.resolveSibling(dataDir.getFileName() + ".log").toString(), "start");
    }

    private void pgCtl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        if (LinuxUtils.isUnshareAvailable()) {
            cmd.addAll(List.of("unshare", "-U"));
        }
        cmd.add(pgCtl.toString());
        cmd.addAll(List.of(args));
        Path log = dataDir.resolveSibling(dataDir.getFileName() + ".pg_ctl.log");
        // Output to a file, not a pipe: the postmaster inherits it and outlives pg_ctl.
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        if (!p.waitFor(TIMEOUT_SECONDS + 10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("pg_ctl " + String.join(" ", args) + " did not finish; see " + log);
        }
        if (p.exitValue() != 0) {
            throw new IOException("pg_ctl " + String.join(" ", args) + " exited with " + p.exitValue() + "; see " + log);
        }
    }
}
