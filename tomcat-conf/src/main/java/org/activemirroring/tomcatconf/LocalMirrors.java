package org.activemirroring.tomcatconf;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PostgresServers;

/**
 * The launcher behind {@code tomcat-conf/start-mirrors.sh}: N local mirrors of a site, each a real
 * Tomcat ({@link MirrorTomcat}: its own CATALINA_BASE, mirror.properties and upload folder from the
 * tomcat-conf templates) over its own embedded PostgreSQL, all on 127.0.0.1. Prints each mirror's
 * URL once its site answers, runs until Ctrl-C, then stops every Tomcat and database it started.
 *
 * <pre>
 * LocalMirrors N [--war [context=]file.war]... [--install war|lib] [--dir work-dir]
 * </pre>
 * A WAR's context is its file name without {@code .war} unless given; {@code --install war}
 * (default) expects WARs that carry the plugin (as the sample site does), {@code --install lib}
 * puts the plugin into each Tomcat's lib/ and its filter into conf/web.xml.
 */
public final class LocalMirrors {
    private LocalMirrors() {
    }

    public static void main(String[] args) throws Exception {
        int count;
        Map<String, Path> wars = new LinkedHashMap<>();
        Install install = Install.WAR;
        Path dir = Path.of("tomcat-conf/target/local-mirrors");
        try {
            count = Integer.parseInt(args.length > 0 ? args[0] : "");
            if (count < 1 || count > 15) {
                throw new IllegalArgumentException("N must be 1 to 15 (one key-allocation slot each), not " + count);
            }
            for (int i = 1; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--war" -> addWar(wars, require(args[i], value));
                    case "--install" -> install = switch (require(args[i], value).toLowerCase(Locale.ROOT)) {
                        case "war" -> Install.WAR;
                        case "lib" -> Install.TOMCAT_LIB;
                        default -> throw new IllegalArgumentException("--install takes war or lib, not " + value);
                    };
                    case "--dir" -> dir = Path.of(require(args[i], value));
                    default -> throw new IllegalArgumentException("Unknown argument '" + args[i] + "'");
                }
                i++;
            }
            if (wars.isEmpty()) {
                throw new IllegalArgumentException("No site given: add --war path/to/site.war (the sample site is"
                        + " sample-webapp/target/sample-webapp.war once built)");
            }
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println("Usage: start-mirrors.sh N [--war [context=]file.war]... [--install war|lib] [--dir work-dir]");
            System.exit(2);
            return;
        }
        run(count, wars, install, dir.toAbsolutePath());
    }

    private static void run(int count, Map<String, Path> wars, Install install, Path dir) throws Exception {
        Path run = Files.createDirectories(dir.resolve("run-" + System.currentTimeMillis()));
        System.setProperty("it.work.dir", run.toString());
        List<MirrorTomcat> mirrors = new ArrayList<>();
        PostgresServers pgs = PostgresServers.start("mirror", count);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("Stopping " + mirrors.size() + " Tomcat(s) and " + count + " database(s)...");
            for (MirrorTomcat m : mirrors) {
                try {
                    m.close();
                } catch (RuntimeException e) {
                    System.err.println("Stopping " + m.tomcat().name() + ": " + e.getMessage());
                }
            }
            pgs.close();
            stopped.countDown();
        }, "local-mirrors-stop"));

        List<Map<String, String>> settings = MirrorSettings.forServers("mirror", pgs.servers());
        for (int i = 0; i < count; i++) {
            MirrorTomcat m = MirrorTomcat.create("mirror-" + (i + 1), run.resolve("mirror-" + (i + 1)), pgs.get(i),
                    settings.get(i), install);
            wars.forEach(m::addWar);
            mirrors.add(m);
        }
        String firstContext = wars.keySet().iterator().next();
        String prefix = firstContext.equals("ROOT") ? "" : "/" + firstContext;
        for (MirrorTomcat m : mirrors) {
            m.start();
        }
        for (MirrorTomcat m : mirrors) {
            m.tomcat().awaitHttp(prefix + "/_mirror/health", s -> s == 200, Duration.ofMinutes(5));
            System.out.println(m.tomcat().name() + ": " + m.url(prefix + "/") + "   (log " + m.tomcat().log().catalinaOut()
                    + ", uploads " + m.uploadDir() + ", database " + m.database().jdbcUrl() + ")");
        }
        System.out.println(count + " mirror(s) run. Ctrl-C stops them all.");
        stopped.await();
    }

    private static void addWar(Map<String, Path> wars, String spec) {
        int eq = spec.indexOf('=');
        Path war = Path.of(eq > 0 ? spec.substring(eq + 1) : spec);
        if (!Files.exists(war)) {
            throw new IllegalArgumentException("No WAR at " + war.toAbsolutePath());
        }
        String name = war.getFileName().toString().replaceFirst("\\.war$", "");
        wars.put(eq > 0 ? spec.substring(0, eq) : name, war.toAbsolutePath());
    }

    private static String require(String option, String value) {
        if (value == null) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return value;
    }
}
