package org.activemirroring.mirror;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;

/**
 * The demo: three local mirrors, each with its own embedded PostgreSQL. Every second one of them
 * (in turn) writes a message into its own database; the demo prints when the row appears in the
 * other two. Run it with {@code ./mvnw -B -q -Pdemo -DskipTests verify}; {@code -Ddemo.seconds=N}
 * sets how long it writes (default 20).
 */
public final class LocalMirrorsDemo {
    private LocalMirrorsDemo() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = Integer.getInteger("demo.seconds", 20);
        say("Starting three PostgreSQL servers and three mirrors on 127.0.0.1 ...");
        try (PostgresServers pgs = PostgresServers.start("demo", 3)) {
            List<PgServer> servers = pgs.servers();
            for (PgServer s : servers) {
                try (Connection c = s.connect(); Statement st = c.createStatement()) {
                    st.execute("CREATE TABLE messages (id bigint PRIMARY KEY, author text NOT NULL, body text NOT NULL,"
                            + " written timestamptz NOT NULL DEFAULT now())");
                }
            }
            List<MirrorNode> nodes = TestMirrors.startAll(MirrorSettings.forServers("demo", servers));
            try {
                ReplicationChecks.awaitMembers(nodes, 3, Duration.ofSeconds(30));
                say("Mirrors " + nodes.get(0).status().members() + " are up. Writing one message a second for "
                        + seconds + " s.\n");
                for (int i = 1; i <= seconds; i++) {
                    int writer = (i - 1) % 3;
                    String author = nodes.get(writer).nodeId();
                    String body = "hello #" + i + " from " + author;
                    long start = System.nanoTime();
                    try (Connection c = servers.get(writer).connect();
                         PreparedStatement ps = c.prepareStatement("INSERT INTO messages (id, author, body) VALUES (?, ?, ?)")) {
                        ps.setLong(1, i);
                        ps.setString(2, author);
                        ps.setString(3, body);
                        ps.executeUpdate();
                    }
                    say(author + " wrote  \"" + body + "\"");
                    List<Integer> pending = new ArrayList<>(List.of(0, 1, 2));
                    pending.remove(Integer.valueOf(writer));
                    long deadline = start + Duration.ofSeconds(30).toNanos();
                    while (!pending.isEmpty() && System.nanoTime() < deadline) {
                        for (int p : new ArrayList<>(pending)) {
                            String seen = read(servers.get(p), i);
                            if (seen != null) {
                                say("    -> on " + nodes.get(p).nodeId() + " after "
                                        + (System.nanoTime() - start) / 1_000_000 + " ms: \"" + seen + "\"");
                                pending.remove(Integer.valueOf(p));
                            }
                        }
                        LockSupport.parkNanos(1_000_000);
                    }
                    for (int p : pending) {
                        say("    !! not on " + nodes.get(p).nodeId() + " after 30 s");
                    }
                    LockSupport.parkNanos(Math.max(0, start + 1_000_000_000L - System.nanoTime()));
                }
                say("\nDone. Each mirror now holds " + count(servers.get(0)) + "/" + count(servers.get(1)) + "/"
                        + count(servers.get(2)) + " messages.");
            } finally {
                TestMirrors.closeAll(nodes);
            }
        }
    }

    private static String read(PgServer server, long id) throws Exception {
        try (Connection c = server.connect();
             PreparedStatement ps = c.prepareStatement("SELECT body FROM messages WHERE id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static long count(PgServer server) throws Exception {
        return SiteSchema.count(server, "messages");
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
