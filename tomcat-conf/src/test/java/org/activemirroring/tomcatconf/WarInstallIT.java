package org.activemirroring.tomcatconf;

import static org.activemirroring.tomcatconf.RealTomcatChecks.addNote;
import static org.activemirroring.tomcatconf.RealTomcatChecks.assertLoopbackOnly;
import static org.activemirroring.tomcatconf.RealTomcatChecks.assertNoLeakWarnings;
import static org.activemirroring.tomcatconf.RealTomcatChecks.awaitHealthy;
import static org.activemirroring.tomcatconf.RealTomcatChecks.awaitNoMirrorThreads;
import static org.activemirroring.tomcatconf.RealTomcatChecks.awaitNote;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.tomcatconf.fixture.FixtureWar;
import org.junit.jupiter.api.Test;

/**
 * Install (a) in two real Tomcats from the distribution: the plugin's jars in the site's
 * {@code WEB-INF/lib}, MirrorFilter in its {@code web.xml}, the site database as the JNDI pool of
 * tomcat-conf/context.xml. Rows written through either Tomcat reach the other's database; undeploy
 * and redeploy leave no thread and no leak warning behind.
 */
class WarInstallIT {

    @Test
    void mirrorsBetweenTwoTomcatsAndUndeploysCleanly() throws Exception {
        Path work = Files.createDirectories(PostgresServers.workDir().resolve("war-install-" + System.nanoTime()));
        Path war = FixtureWar.build(work, "site", true);
        try (PostgresServers pgs = PostgresServers.start("warinst", 2)) {
            RealTomcatChecks.createSchema(pgs.get(0));
            List<Map<String, String>> settings = MirrorSettings.forServers("war", pgs.servers());
            try (MirrorTomcat one = MirrorTomcat.create("war-1", work.resolve("m1"), pgs.get(0), settings.get(0), Install.WAR)
                    .addWar("site", war).start();
                 MirrorTomcat two = MirrorTomcat.create("war-2", work.resolve("m2"), pgs.get(1), settings.get(1), Install.WAR)
                         .addWar("site", war).start()) {
                awaitHealthy(one, "site");
                awaitHealthy(two, "site");

                addNote(one, "site", "from-1");
                awaitNote(pgs.get(1), "from-1");
                addNote(two, "site", "from-2");
                awaitNote(pgs.get(0), "from-2");
                assertLoopbackOnly(one.tomcat());
                assertLoopbackOnly(two.tomcat());
                assertEquals(1, two.tomcat().threadDump().names(java.util.regex.Pattern.compile("^am-launcher-")).size(),
                        "one node in the Tomcat");

                two.tomcat().undeploy("site", Duration.ofSeconds(60));
                awaitNoMirrorThreads(two.tomcat());
                assertNoLeakWarnings(two.tomcat());

                two.tomcat().deploy("site", war, "/site/_mirror/health", Duration.ofSeconds(60));
                awaitHealthy(two, "site");
                addNote(one, "site", "after-redeploy");
                awaitNote(pgs.get(1), "after-redeploy");

                assertNoLeakWarnings(one.tomcat());
                assertNoLeakWarnings(two.tomcat());
            }
        }
    }
}
