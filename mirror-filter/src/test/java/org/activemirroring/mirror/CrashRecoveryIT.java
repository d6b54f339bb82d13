package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.activemirroring.testsupport.PgServer;
import org.junit.jupiter.api.Test;

/**
 * Crash recovery: three mirrors, each a JVM of its own ({@link MirrorMain}) over its own
 * PostgreSQL, while every site writes continuously. One test kills mirror JVMs with SIGKILL at
 * random moments (right after a burst on other sites, so its applier is busy; right after a burst
 * on its own site, so its capture is; at any moment; during its start) and restarts them; the
 * other restarts a site database under load. In the end every committed write is on every mirror
 * and nothing else, each ChangeSet was journaled once by its origin and applied once by each peer,
 * the row-version store matches the rows, and the conflict log is empty (keys are private per
 * site, so there is nothing to decide).
 *
 * <p>The fault schedule comes from a seeded Random: the seed is printed; repeat a run with
 * {@code -Dcrash.seed=<seed>}. {@code -Dcrash.rounds=N} sets the number of kills (default 10,
 * 50 with {@code -Dsoak}); {@code -Dcrash.db.rounds=N} the database restarts (default 2).
 */
class CrashRecoveryIT {
    private static final int SITES = 3;
    private static final Duration READY = CrashCluster.READY;
    private static final long WRITE_PAUSE_MS = 25;

    private static long seed(String test) {
        return CrashCluster.seed("CrashRecoveryIT." + test);
    }

    private static void faultDelay(long ms) {
        CrashCluster.faultDelay(ms);
    }

    @Test
    void killNineAtRandomMomentsLosesNothingAndAppliesEverythingOnce() throws Exception {
        long seed = seed("killNine");
        Random random = new Random(seed);
        int rounds = Integer.getInteger("crash.rounds", Boolean.getBoolean("soak") ? 50 : 10);
        try (CrashCluster cluster = startCluster("crash", seed)) {
            for (int round = 1; round <= rounds; round++) {
                int victim = random.nextInt(SITES);
                MirrorJvm jvm = cluster.jvms.get(victim);
                int mode = random.nextInt(4);
                String when;
                long delay;
                switch (mode) {
                    case 0 -> {
                        for (int i = 0; i < SITES; i++) {
                            if (i != victim) {
                                cluster.writers.get(i).burst(40);
                            }
                        }
                        delay = random.nextInt(400);
                        when = "during apply (burst on the other sites)";
                    }
                    case 1 -> {
                        cluster.writers.get(victim).burst(40);
                        delay = random.nextInt(400);
                        when = "during capture (burst on its own site)";
                    }
                    case 2 -> {
                        delay = random.nextInt(1500);
                        when = "at a random moment";
                    }
                    default -> {
                        // A kill during start (catch-up, capture starting), then the round's
                        // restart follows as in the other modes.
                        int exit = jvm.kill();
                        assertEquals(MirrorJvm.KILLED_BY_SIGKILL, exit, jvm.nodeId() + " exit value after SIGKILL");
                        jvm.start();
                        delay = random.nextInt(3000);
                        when = "during start";
                    }
                }
                faultDelay(delay);
                long t0 = System.nanoTime();
                long killedAt = System.currentTimeMillis();
                int exit = jvm.kill();
                assertEquals(MirrorJvm.KILLED_BY_SIGKILL, exit, jvm.nodeId() + " exit value after SIGKILL");
                long down = 200 + random.nextInt(1500);
                faultDelay(down);
                jvm.start();
                jvm.awaitReady(READY);
                System.out.printf("%s round %d: killed %s %s after %d ms, down %d ms, READY again after %d ms%n",
                        java.time.Instant.ofEpochMilli(killedAt), round, jvm.nodeId(), when, delay, down, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
                cluster.assertWritersRunning();
            }
            cluster.stopWritersAndCheck();
        }
    }

    @Test
    void siteDatabaseRestartUnderLoadResumesCaptureAndApply() throws Exception {
        long seed = seed("dbRestart");
        Random random = new Random(seed);
        int rounds = Integer.getInteger("crash.db.rounds", 2);
        try (CrashCluster cluster = startCluster("pgrestart", seed)) {
            for (int round = 1; round <= rounds; round++) {
                faultDelay(500 + random.nextInt(1500));
                int site = random.nextInt(SITES);
                cluster.writers.get(site).burst(30);
                for (int i = 0; i < SITES; i++) {
                    if (i != site) {
                        cluster.writers.get(i).burst(30);
                    }
                }
                faultDelay(random.nextInt(300));
                long t0 = System.nanoTime();
                // Immediate mode, a database crash: a fast shutdown waits until every WAL sender's client
                // confirmed the shutdown checkpoint, and with capture connected it hung for over 60 s
                // in one of two runs (reported; see the commit message).
                cluster.pgs.stopServer(site, true);
                long down = 500 + random.nextInt(2500);
                faultDelay(down);
                cluster.pgs.startServer(site);
                System.out.printf("round %d: restarted the database of site %d, down %d ms (%d ms in all)%n", round,
                        site + 1, down, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
                cluster.assertWritersRunning();
            }
            for (MirrorJvm jvm : cluster.jvms) {
                assertTrue(jvm.isAlive(), jvm.nodeId() + " exited while a site database restarted; log " + jvm.log()
                        + ":\n" + jvm.tail());
            }
            cluster.stopWritersAndCheck();
        }
    }

    /** Three mirrors over the same schema (each site starts from its own data) and a writer on each. */
    private static CrashCluster startCluster(String label, long seed) throws Exception {
        CrashCluster c = CrashCluster.create(label, SITES, seed, WRITE_PAUSE_MS, i -> Map.of());
        try {
            for (PgServer s : c.servers) {
                SiteWriter.createSchema(s, SITES);
            }
            for (MirrorJvm jvm : c.jvms) {
                jvm.start();
            }
            for (MirrorJvm jvm : c.jvms) {
                jvm.awaitReady(READY);
            }
            for (int i = 0; i < SITES; i++) {
                c.startWriter(i);
            }
            return c;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }
}
