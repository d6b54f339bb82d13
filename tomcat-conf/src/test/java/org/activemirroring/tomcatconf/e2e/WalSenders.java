package org.activemirroring.tomcatconf.e2e;

import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.activemirroring.testsupport.SiteSql;
import org.activemirroring.testsupport.PgServer;

/**
 * Pauses a site database's WAL senders with {@code SIGSTOP} and resumes them with {@code SIGCONT}.
 * A mirror captures its site's commits through such a sender (logical decoding), so while it is
 * paused the site keeps committing and serving, but no commit of it reaches the other mirrors yet:
 * two commits made meanwhile on two mirrors are "at the same moment" for the network, however far
 * apart the test made them. The JVMs and the network are left alone.
 */
final class WalSenders implements AutoCloseable {
    private final List<Long> paused = new ArrayList<>();

    /** Pauses every WAL sender of {@code db}'s server; fails unless there is at least one. */
    void pause(PgServer db) throws SQLException, IOException, InterruptedException {
        List<Long> pids = SiteSql.rows(db, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'walsender'")
                .stream().map(Long::parseLong).toList();
        if (pids.isEmpty()) {
            throw new AssertionError("No WAL sender runs on " + db.name() + ": is its mirror capturing?");
        }
        for (long pid : pids) {
            signal("STOP", pid);
            paused.add(pid);
        }
    }

    /** Resumes every sender paused so far. */
    void resumeAll() throws IOException, InterruptedException {
        List<Long> pids = new ArrayList<>(paused);
        paused.clear();
        for (long pid : pids) {
            signal("CONT", pid);
        }
    }

    private static void signal(String signal, long pid) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("kill -" + signal + " " + pid + " failed: " + out);
        }
    }

    /** Resumes whatever is still paused, so that no server is left stopped after a failure. */
    @Override
    public void close() throws IOException, InterruptedException {
        resumeAll();
    }
}
