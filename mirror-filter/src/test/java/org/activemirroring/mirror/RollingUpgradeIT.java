package org.activemirroring.mirror;

import static org.activemirroring.testsupport.SiteSql.count;
import static org.activemirroring.testsupport.SiteSql.describe;
import static org.activemirroring.testsupport.SiteSql.digest;
import static org.activemirroring.testsupport.SiteSql.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import org.activemirroring.testsupport.SiteSql;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/**
 * A release rolled out under load: three mirrors, a writer on each site database all along, and
 * each mirror in turn stopped, migrated with Flyway (a column with a default, an index, a new
 * table) and started again, its writer switching to the new release's writes (the new column and
 * table) right after. In the end every committed write is on every mirror, the mirrors are equal,
 * each migration is in each mirror's Flyway history once, and nothing is held or parked.
 */
class RollingUpgradeIT {
    private static final Duration CONVERGE = Duration.ofSeconds(120);

    @Test
    void aReleaseRolledOutMirrorByMirrorUnderLoadLosesNothing() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("rolling", 3)) {
            List<PgServer> servers = pgs.servers();
            migrate(servers.get(0), "3");
            List<Map<String, String>> settings = MirrorSettings.forServers("rolling", servers);
            List<MirrorNode> nodes = new ArrayList<>(TestMirrors.startAll(settings));
            List<Writer> writers = new ArrayList<>();
            try {
                ReplicationChecks.awaitMembers(nodes, 3, Duration.ofSeconds(30));
                for (int i = 0; i < 3; i++) {
                    Writer w = new Writer(servers.get(i), i);
                    writers.add(w);
                    w.start();
                }
                for (Writer w : writers) {
                    w.awaitWrites(20);
                }
                for (int i = 0; i < 3; i++) {
                    PgServer s = servers.get(i);
                    nodes.get(i).close(); // the site keeps writing into its database meanwhile
                    if (i > 0) {
                        // Mirror by mirror: the first mirror's release reached this one before it
                        // restarts, so its Flyway finds nothing left to do.
                        Await.until(CONVERGE, () -> count(s, "SELECT count(*) FROM flyway_schema_history"
                                + " WHERE version = '4'") == 1, () -> s.name() + " has not got release 4");
                    }
                    migrate(s, "4");
                    writers.get(i).upgraded = true;
                    nodes.set(i, MirrorNode.start(MirrorConfig.of(settings.get(i))));
                    ReplicationChecks.awaitMembers(nodes, 3, Duration.ofSeconds(60));
                    writers.get(i).awaitWrites(writers.get(i).count() + 20);
                }
                for (Writer w : writers) {
                    w.stop();
                }
                long items = 1; // release 1's seed row
                long reviews = 0;
                for (Writer w : writers) {
                    assertEquals(List.of(), w.errors(), "the site's own writes failed");
                    items += w.count();
                    reviews += w.reviews.get();
                }
                long expectedItems = items;
                long expectedReviews = reviews;
                Await.until(CONVERGE, () -> digest(servers.get(0)).equals(digest(servers.get(1)))
                                && digest(servers.get(0)).equals(digest(servers.get(2)))
                                && count(servers.get(0), "SELECT count(*) FROM items") == expectedItems
                                && count(servers.get(0), "SELECT count(*) FROM reviews") == expectedReviews,
                        () -> "mirrors differ: " + describe(servers.get(0)) + " / " + describe(servers.get(1))
                                + " / " + describe(servers.get(2)) + "; expected " + expectedItems + " items, "
                                + expectedReviews + " reviews");
                for (PgServer s : servers) {
                    for (Writer w : writers) {
                        assertEquals(w.count(), count(s, "SELECT count(*) FROM items WHERE name LIKE 'w" + w.index
                                + "-%'"), "writes of site " + w.index + " on " + s.name());
                    }
                    assertEquals(List.of("1:1:true", "2:1:true", "3:1:true", "4:1:true"), rows(s, "SELECT version"
                            + " || ':' || count(*) || ':' || bool_and(success) FROM flyway_schema_history"
                            + " GROUP BY version ORDER BY version"), "each migration once in " + s.name() + "'s history");
                    flyway(s, "4").validate();
                    assertEquals(1, count(s, "SELECT count(*) FROM pg_indexes WHERE indexname = 'items_added'"));
                    assertEquals(0, count(s, "SELECT count(*) FROM items WHERE stock IS NULL"));
                }
                for (MirrorNode n : nodes) {
                    assertTrue(n.isReady() && n.degraded() == null, n.nodeId() + ": " + n.status());
                }
            } finally {
                for (Writer w : writers) {
                    w.stop();
                }
                TestMirrors.closeAll(nodes);
            }
        }
    }

    private static Flyway flyway(PgServer s, String target) {
        return Flyway.configure().dataSource(s.jdbcUrl(), s.user(), s.password())
                .locations("classpath:db/site", "classpath:db/upgrade").target(target).load();
    }

    private static void migrate(PgServer s, String target) {
        flyway(s, target).migrate();
    }

    /** The site on one mirror: writes an item after another; after its upgrade, with a stock and a review. */
    private static final class Writer implements Runnable {
        final int index;
        final AtomicInteger reviews = new AtomicInteger();
        volatile boolean upgraded;
        private final PgServer server;
        private final AtomicInteger written = new AtomicInteger();
        private final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        private final Thread thread;
        private volatile boolean running = true;

        Writer(PgServer server, int index) {
            this.server = server;
            this.index = index;
            this.thread = new Thread(this, "site-writer-" + index);
        }

        void start() {
            thread.start();
        }

        int count() {
            return written.get();
        }

        List<String> errors() {
            return List.copyOf(errors);
        }

        void awaitWrites(int n) {
            Await.until(CONVERGE, () -> written.get() >= n, () -> "site " + index + " wrote only " + written.get());
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join(30_000);
        }

        @Override
        public void run() {
            int n = 0;
            try (Connection c = server.connect()) {
                while (running) {
                    n++;
                    boolean v4 = upgraded;
                    c.setAutoCommit(false);
                    try (PreparedStatement ps = c.prepareStatement(v4
                            ? "INSERT INTO items (name, stock) VALUES (?, 7) RETURNING id"
                            : "INSERT INTO items (name) VALUES (?) RETURNING id")) {
                        ps.setString(1, "w" + index + "-" + n);
                        long id;
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            id = rs.getLong(1);
                        }
                        if (v4) {
                            try (PreparedStatement r = c.prepareStatement(
                                    "INSERT INTO reviews (item_id, stars) VALUES (?, 4)")) {
                                r.setLong(1, id);
                                r.executeUpdate();
                            }
                        }
                        c.commit();
                        written.incrementAndGet();
                        if (v4) {
                            reviews.incrementAndGet();
                        }
                    } catch (SQLException e) {
                        c.rollback();
                        errors.add(e.getMessage());
                        running = false;
                    }
                    Thread.onSpinWait();
                    pace();
                }
            } catch (SQLException | RuntimeException e) {
                errors.add(e.toString());
            }
        }

        /** About 50 writes a second: a busy site, not a benchmark. */
        private static void pace() {
            java.util.concurrent.locks.LockSupport.parkNanos(20_000_000L);
        }
    }
}
