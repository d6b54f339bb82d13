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
import java.util.regex.Pattern;

import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.testsupport.tomcat.TomcatInstance;
import org.activemirroring.tomcatconf.fixture.FixtureWar;
import org.junit.jupiter.api.Test;

/**
 * Install (b) in two real Tomcats from the distribution: the plugin's jars in
 * {@code $CATALINA_BASE/lib}, MirrorFilter pasted into Tomcat's global {@code conf/web.xml} from
 * tomcat-conf/global-web-filter.xml, two web applications built without the plugin. Both
 * applications are mirrored and gated, one node runs per Tomcat, and it stops only with the last
 * application; undeploy and redeploy leave no thread and no leak warning behind.
 */
class GlobalFilterInstallIT {
    private static final Pattern LAUNCHER = Pattern.compile("^am-launcher-");

    @Test
    void everyAppSharesOneNodePerTomcat() throws Exception {
        Path work = Files.createDirectories(PostgresServers.workDir().resolve("lib-install-" + System.nanoTime()));
        Path war = FixtureWar.build(work, "bare", false);
        try (PostgresServers pgs = PostgresServers.start("libinst", 2)) {
            RealTomcatChecks.createSchema(pgs.get(0));
            List<Map<String, String>> settings = MirrorSettings.forServers("lib", pgs.servers());
            try (MirrorTomcat one = MirrorTomcat.create("lib-1", work.resolve("m1"), pgs.get(0), settings.get(0),
                    Install.TOMCAT_LIB).addWar("site", war).addWar("other", war).start();
                 MirrorTomcat two = MirrorTomcat.create("lib-2", work.resolve("m2"), pgs.get(1), settings.get(1),
                         Install.TOMCAT_LIB).addWar("site", war).addWar("other", war).start()) {
                for (MirrorTomcat m : List.of(one, two)) {
                    awaitHealthy(m, "site");
                    awaitHealthy(m, "other");
                    assertEquals("filter=true", m.tomcat().get("/other/note?filter").body().strip(),
                            "the global filter runs in front of an application built without it");
                    assertEquals(1, launchers(m.tomcat()), "one node per Tomcat, however many applications");
                    assertEquals(1, m.tomcat().log().containing("uses the running mirror").size(),
                            "the second application's filter used the first one's node");
                    assertLoopbackOnly(m.tomcat());
                }

                addNote(one, "site", "site-on-1");
                addNote(two, "other", "other-on-2");
                awaitNote(pgs.get(1), "site-on-1");
                awaitNote(pgs.get(0), "other-on-2");

                // One application goes: the node stays for the other.
                two.tomcat().undeploy("other", Duration.ofSeconds(60));
                assertNoLeakWarnings(two.tomcat());
                assertEquals(1, launchers(two.tomcat()), "the node runs on while an application uses it");
                awaitHealthy(two, "site");
                addNote(one, "site", "after-other-left");
                awaitNote(pgs.get(1), "after-other-left");

                // The last application goes: the node stops, nothing of it is left.
                two.tomcat().undeploy("site", Duration.ofSeconds(60));
                awaitNoMirrorThreads(two.tomcat());
                assertNoLeakWarnings(two.tomcat());

                // Redeployed: the node starts again and catches up.
                addNote(one, "site", "while-undeployed");
                two.tomcat().deploy("site", war, "/site/_mirror/health", Duration.ofSeconds(60));
                awaitHealthy(two, "site");
                awaitNote(pgs.get(1), "while-undeployed");
                addNote(two, "site", "after-redeploy");
                awaitNote(pgs.get(0), "after-redeploy");
                assertEquals(1, launchers(two.tomcat()));

                assertNoLeakWarnings(one.tomcat());
                assertNoLeakWarnings(two.tomcat());
            }
        }
    }

    private static int launchers(TomcatInstance tomcat) {
        return tomcat.threadDump().names(LAUNCHER).size();
    }
}
