package org.activemirroring.tomcatconf.e2e;

import static org.activemirroring.tomcatconf.e2e.SampleSite.base;
import static org.activemirroring.tomcatconf.e2e.SampleSite.browserAt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.activemirroring.testsupport.SiteBrowser;
import org.activemirroring.testsupport.SiteSql;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.tomcatconf.MirrorTomcat;
import org.junit.jupiter.api.Test;

/**
 * The sample site mirrored end to end: each mirror a real Tomcat 11 from the distribution with
 * sample-webapp.war (the plugin in its WEB-INF/lib, install a), its own PostgreSQL and its own
 * upload folder, driven over HTTP as visitors would:
 * <ol>
 *   <li>three mirrors: visitors register and log in on different mirrors, add items with PNG and
 *       JPEG images on different mirrors, and read each item and its image (same bytes) on the
 *       others; a login made on one mirror goes on on another once its session row arrived;</li>
 *   <li>one user name registered on two mirrors at the same moment: both accounts end up on every
 *       mirror, the losing one as {@code name-2}, and its owner is told at the next login;</li>
 *   <li>under a load of items with images on all three, one Tomcat killed with {@code kill -9} and
 *       restarted catches up, then a fourth Tomcat with an empty database and upload folder joins;</li>
 * </ol>
 * and at the end every table is equal by digest on all four databases, every acknowledged item is
 * on every mirror with its image (in every upload folder and over HTTP, same bytes), and the load
 * saw no error page but from the killed mirror while it was down.
 */
class SampleSiteMirrorsIT {
    static final Duration REPLICATED = Duration.ofSeconds(60);
    private static final Duration CONVERGED = Duration.ofMinutes(2);

    @Test
    void visitorsOnThreeMirrorsThenAKillAndAJoinUnderLoad() throws Exception {
        long started = System.nanoTime();
        Path work = Files.createDirectories(PostgresServers.workDir().resolve("sample-mirrors-" + System.nanoTime()));
        List<MirrorTomcat> mirrors = new ArrayList<>();
        try (PostgresServers pgs = PostgresServers.start("e2e", 4)) {
            List<Map<String, String>> settings = MirrorSettings.forServers("e2e", pgs.servers());
            // ItemLoad writes from one address as fast as the site answers: a load generator, not a
            // visitor, so flood control (which would answer it 429) is off here.
            settings.forEach(m -> m.put("mirror.flood.enabled", "false"));
            for (int i = 0; i < 3; i++) {
                mirrors.add(SampleSite.mirror("mirror-" + (i + 1), work.resolve("m" + (i + 1)), pgs.get(i),
                        settings.get(i)));
            }
            try {
                mirrors.get(0).start();
                SampleSite.awaitReady(mirrors.get(0));
                mirrors.get(1).start();
                mirrors.get(2).start();
                SampleSite.awaitReady(mirrors.get(1));
                SampleSite.awaitReady(mirrors.get(2));
                for (int i = 0; i < 3; i++) {
                    SampleSite.awaitLogged(mirrors.get(i), "This mirror is replicating");
                }
                log(started, "three mirrors ready");

                new VisitorFlows(mirrors).run();
                log(started, "visitors' flows checked");
                sameUserNameOnTwoMirrorsAtOnce(mirrors, pgs.servers().subList(0, 3));
                log(started, "concurrent registration checked");

                MirrorTomcat fourth = SampleSite.mirror("mirror-4", work.resolve("m4"), pgs.get(3), settings.get(3));
                mirrors.add(fourth);
                List<ItemLoad.Ack> acked = killAndJoinUnderLoad(mirrors, started);
                log(started, acked.size() + " items acknowledged under load");

                EndChecks.assertConverged(pgs.servers(), mirrors, acked, CONVERGED);
                log(started, "all four mirrors equal");
            } finally {
                MirrorCloser.closeAll(mirrors);
            }
        }
    }

    /**
     * Two visitors register "carla" on mirrors 1 and 2 while both sites' WAL senders are paused, so
     * neither registration reaches the other mirror before both committed: the network sees them
     * at the same moment, whatever the machine's timing.
     */
    private static void sameUserNameOnTwoMirrorsAtOnce(List<MirrorTomcat> mirrors, List<PgServer> dbs) throws Exception {
        String b1 = base(mirrors.get(0));
        String b2 = base(mirrors.get(1));
        String b3 = base(mirrors.get(2));
        SiteBrowser one = browserAt(b1);
        SiteBrowser two = browserAt(b2);
        Map<String, String> formOne = Map.of("userName", "carla", "email", "carla@one.example.org", "password",
                "carla-one-password");
        Map<String, String> formTwo = Map.of("userName", "carla", "email", "carla@two.example.org", "password",
                "carla-two-password");
        try (WalSenders senders = new WalSenders()) {
            senders.pause(dbs.get(0));
            senders.pause(dbs.get(1));
            CompletableFuture<HttpResponse<String>> r1 = one.postAsync(b1 + "/register", formOne);
            CompletableFuture<HttpResponse<String>> r2 = two.postAsync(b2 + "/register", formTwo);
            assertEquals(302, r1.get().statusCode(), "registration on mirror 1: " + r1.get().body());
            assertEquals(302, r2.get().statusCode(), "registration on mirror 2: " + r2.get().body());
            senders.resumeAll();
        }
        for (PgServer db : dbs) {
            Await.until(REPLICATED, () -> SiteSql.count(db, "SELECT count(*) FROM account WHERE"
                            + " (user_name, email) IN (('carla', 'carla@one.example.org'), ('carla-2', 'carla@two.example.org'),"
                            + " ('carla', 'carla@two.example.org'), ('carla-2', 'carla@one.example.org'))") == 2
                            && SiteSql.count(db, "SELECT count(*) FROM restored_account WHERE original_name = 'carla'") == 1,
                    () -> "both registrations of carla on " + db.name() + ": " + rowsOrError(db,
                            "SELECT user_name || ' ' || email FROM account WHERE user_name LIKE 'carla%'"));
        }
        String loserEmail = SiteSql.scalar(dbs.get(0), "SELECT email FROM account WHERE user_name = 'carla-2'");
        Map<String, String> loser = loserEmail.equals("carla@one.example.org") ? formOne : formTwo;
        Map<String, String> winner = loser == formOne ? formTwo : formOne;

        // The loser logs in on the third mirror with the name and password they registered.
        SiteBrowser loserAgain = browserAt(b3);
        HttpResponse<String> in = loserAgain.post(b3 + "/login", Map.of("userName", "carla", "password",
                loser.get("password")));
        assertEquals(200, in.statusCode(), in.body());
        assertTrue(in.body().contains("Your user name carla was taken at the same moment on another mirror;"
                + " your account is now carla-2."), in.body());
        assertTrue(loserAgain.get(b3 + "/").body().contains("Logged in as <b>carla-2</b>"));
        SiteBrowser winnerAgain = browserAt(b3);
        assertEquals(302, winnerAgain.post(b3 + "/login", Map.of("userName", "carla", "password",
                winner.get("password"))).statusCode(), "the winner logs in as ever");
        assertTrue(winnerAgain.get(b3 + "/").body().contains("Logged in as <b>carla</b>"));
        // Told once, network-wide: the notice's "shown" mark replicates.
        for (PgServer db : dbs) {
            Await.until(REPLICATED, () -> SiteSql.count(db, "SELECT count(*) FROM restored_account"
                    + " WHERE original_name = 'carla' AND notice_shown_at IS NOT NULL") == 1, () -> "notice shown on " + db.name());
        }
        assertEquals(302, browserAt(b1).post(b1 + "/login", Map.of("userName", "carla", "password",
                loser.get("password"))).statusCode(), "no second notice on another mirror");
    }

    private static List<ItemLoad.Ack> killAndJoinUnderLoad(List<MirrorTomcat> mirrors, long started) throws Exception {
        MirrorTomcat killed = mirrors.get(1);
        MirrorTomcat fourth = mirrors.get(3);
        try (ItemLoad load = new ItemLoad()) {
            for (int i = 0; i < 3; i++) {
                String b = base(mirrors.get(i));
                load.addMirror(b);
                load.addWriter(VisitorFlows.registered(b, "writer" + (i + 1)), i);
            }
            awaitAcks(load, 15, "before the kill");
            load.markDown(1);
            killed.tomcat().kill9();
            log(started, "mirror-2 killed with kill -9 after " + load.acknowledged().size() + " items");
            awaitAcks(load, load.acknowledged().size() + 10, "while mirror-2 is down");
            killed.start();
            SampleSite.awaitReady(killed);
            load.markUp(1);
            long beforeRestart = load.acknowledgedBy(base(killed));
            log(started, "mirror-2 restarted and ready");
            Await.until(REPLICATED, () -> load.acknowledgedBy(base(killed)) >= beforeRestart + 5,
                    () -> "mirror-2 takes no items after its restart; errors: " + load.errors());

            fourth.start();
            SampleSite.awaitReady(fourth);
            SampleSite.awaitLogged(fourth, "This mirror joined from");
            log(started, "mirror-4 joined under load");
            int index = load.addMirror(base(fourth));
            load.addWriter(VisitorFlows.registered(base(fourth), "writer4"), index);
            Await.until(REPLICATED, () -> load.acknowledgedBy(base(fourth)) >= 5,
                    () -> "mirror-4 takes no items; errors: " + load.errors());
            load.close();
            assertTrue(load.errors().isEmpty(), load.errors().size() + " error(s) from mirrors that were up:\n"
                    + String.join("\n", load.errors()));
            log(started, "load: " + load.acknowledged().size() + " items acknowledged, " + load.downtimeFailures()
                    + " request(s) failed on the killed mirror while it was down (sent on to another mirror)");
            return load.acknowledged();
        }
    }

    private static void awaitAcks(ItemLoad load, int atLeast, String when) {
        Await.until(REPLICATED, () -> load.acknowledged().size() >= atLeast,
                () -> "fewer than " + atLeast + " items acknowledged " + when + ": " + load.acknowledged().size()
                        + "; errors: " + load.errors());
    }

    private static String rowsOrError(PgServer db, String sql) {
        try {
            return SiteSql.rows(db, sql).toString();
        } catch (Exception e) {
            return e.toString();
        }
    }

    static void log(long started, String what) {
        System.out.printf("[SampleSiteMirrorsIT +%ds] %s%n", (System.nanoTime() - started) / 1_000_000_000L, what);
    }
}
