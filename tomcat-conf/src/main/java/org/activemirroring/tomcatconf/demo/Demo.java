package org.activemirroring.tomcatconf.demo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.tomcatconf.Install;
import org.activemirroring.tomcatconf.MirrorTomcat;

/**
 * The demo: three mirrors of the sample site, each a real Tomcat from the distribution
 * ({@link MirrorTomcat}) with its own embedded PostgreSQL and upload folder, all on 127.0.0.1.
 * It prints the three URLs, adds a first item with an image on mirror 1 ({@link DemoVisitor}),
 * then prints a line for every change a mirror applies from another, every upload arriving in a
 * mirror's folder and every mirror that goes away, until Ctrl-C (or SIGTERM), which stops every
 * Tomcat and database it started.
 *
 * <p>Run by {@code ./mvnw -B -q -Pdemo -DskipTests verify} (tomcat-conf's profile {@code demo},
 * which passes the distribution's paths as {@code -Dtomcat.home} etc.). System properties:
 * {@code demo.seconds} (0, the default: until Ctrl-C; N: stop after N seconds, for a smoke check),
 * {@code demo.war} (the site, sample-webapp.war), {@code demo.dir} (where the mirrors' files go),
 * {@code demo.visit} (false: do not add the first item).
 */
public final class Demo {
    private static final int MIRRORS = 3;
    private static final Duration READY_TIMEOUT = Duration.ofMinutes(5);
    private static final long POLL_NANOS = 200_000_000L;

    private final List<MirrorTomcat> mirrors = new ArrayList<>();
    private final AtomicBoolean stopping = new AtomicBoolean();
    private volatile PostgresServers databases;

    private Demo() {
    }

    public static void main(String[] args) {
        int seconds;
        Path war;
        Path dir;
        try {
            seconds = Integer.parseInt(System.getProperty("demo.seconds", "0").trim());
            if (seconds < 0) {
                throw new NumberFormatException("negative");
            }
            war = Path.of(required("demo.war")).toAbsolutePath();
            if (!Files.isRegularFile(war)) {
                throw new IllegalArgumentException("No site WAR at " + war + " (-Ddemo.war): build it with"
                        + " ./mvnw -B -q -DskipTests install -pl sample-webapp -am");
            }
            dir = Path.of(System.getProperty("demo.dir", "target/demo")).toAbsolutePath();
        } catch (NumberFormatException e) {
            System.err.println("Invalid value '" + System.getProperty("demo.seconds") + "' for demo.seconds: give the"
                    + " seconds to run (0 runs until Ctrl-C)");
            System.exit(2);
            return;
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        Demo demo = new Demo();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            demo.stop();
            // Ctrl-C or SIGTERM is how this demo is meant to end: everything it started is stopped,
            // so it exits 0 (else Maven, which ran it, reports a failed build).
            Runtime.getRuntime().halt(0);
        }, "demo-stop"));
        int code = 0;
        try {
            demo.run(seconds, war, dir);
        } catch (Exception | AssertionError e) {
            if (!demo.stopping.get()) {
                System.err.println("The demo failed: " + e.getMessage());
                code = 1;
            }
        } finally {
            demo.stop();
        }
        System.exit(code);
    }

    private void run(int seconds, Path war, Path dir) throws Exception {
        Path run = Files.createDirectories(dir.resolve("run-" + System.currentTimeMillis()));
        System.setProperty("it.work.dir", run.toString());
        if (System.getProperty("it.db") == null) {
            System.setProperty("it.db", "embedded");
        }
        say("Starting three PostgreSQL servers, then three Tomcats with the sample site (files under " + run + ") ...");
        databases = PostgresServers.start("demo", MIRRORS);
        List<Map<String, String>> settings = MirrorSettings.forServers("mirror", databases.servers());
        // The dashboards at /_mirror/ are admin-only: this run's admin password, new each run.
        String adminPassword = java.util.HexFormat.of().formatHex(new java.security.SecureRandom().generateSeed(6));
        String adminHash = org.activemirroring.mirror.AdminPassword.hashOf(adminPassword.toCharArray());
        Map<String, MirrorTomcat> byName = new LinkedHashMap<>();
        for (int i = 0; i < MIRRORS; i++) {
            String name = "mirror-" + (i + 1);
            Map<String, String> mine = new LinkedHashMap<>(settings.get(i));
            mine.put("mirror.admin.password-hash", adminHash);
            MirrorTomcat m = MirrorTomcat.create(name, run.resolve(name), databases.get(i), mine, Install.WAR);
            m.addWar("ROOT", war);
            synchronized (mirrors) {
                if (stopping.get()) {
                    return;
                }
                mirrors.add(m);
            }
            byName.put(name, m);
        }
        for (MirrorTomcat m : mirrors) {
            m.start();
        }
        // Node ids are the Tomcats' names (mirror-1..3), so the lines name each mirror once.
        // Mirror 1 starts the network from its database; 2 and 3 join from it, then answer 200.
        for (MirrorTomcat m : mirrors) {
            m.tomcat().awaitHttp("/_mirror/health", s -> s == 200, READY_TIMEOUT);
        }
        say("");
        for (MirrorTomcat m : mirrors) {
            say(m.tomcat().name() + ": " + m.url("/") + "   (Tomcat pid " + m.tomcat().pid() + ", log "
                    + m.tomcat().log().catalinaOut() + ", uploads " + m.uploadDir() + ")");
        }
        say("Dashboard (on every mirror at /_mirror/): " + mirrors.get(0).url("/_mirror/") + "   (user admin,"
                + " password " + adminPassword + ")");
        say("");

        Map<String, Path> folders = new LinkedHashMap<>();
        List<AppliedChanges> applied = new ArrayList<>();
        byName.forEach((name, m) -> {
            folders.put(name, m.uploadDir());
            applied.add(new AppliedChanges(name, m.database()));
        });
        UploadArrivals uploads = new UploadArrivals(folders);
        MirrorPresence presence = new MirrorPresence(byName);
        poll(applied, uploads, presence);

        if (!"false".equals(System.getProperty("demo.visit"))) {
            visit(mirrors.get(0), mirrors.get(1));
        }
        say(seconds == 0 ? "Watching the mirrors; Ctrl-C stops them all." : "Watching the mirrors for " + seconds + " s.");
        long end = seconds == 0 ? Long.MAX_VALUE : System.nanoTime() + seconds * 1_000_000_000L;
        while (!stopping.get() && System.nanoTime() < end) {
            poll(applied, uploads, presence);
            if (!presence.anyRunning()) {
                say("Every Tomcat stopped; the demo ends.");
                break;
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
        applied.forEach(AppliedChanges::close);
    }

    private void visit(MirrorTomcat first, MirrorTomcat second) {
        try {
            String item = new DemoVisitor(first.url("").replaceAll("/$", "")).registerAndAddItem();
            say("The demo registered '" + DemoVisitor.USER + "' (password " + DemoVisitor.PASSWORD + ") on "
                    + first.tomcat().name() + " and added an item with an image: " + first.url(item));
            say("Open it on " + second.tomcat().name() + ": " + second.url(item) + "   (log in there with the same"
                    + " name and password, add your own items on any mirror)");
        } catch (Exception e) {
            say("The demo could not add its first item on " + first.tomcat().name() + ": " + e.getMessage());
        }
    }

    private void poll(List<AppliedChanges> applied, UploadArrivals uploads, MirrorPresence presence) {
        if (stopping.get()) {
            return;
        }
        presence.poll().forEach(Demo::say);
        for (AppliedChanges a : applied) {
            a.poll().forEach(Demo::say);
        }
        uploads.poll().forEach(Demo::say);
    }

    /** Stops every Tomcat (side by side) and then every database this demo started; runs once. */
    private void stop() {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        List<MirrorTomcat> started;
        synchronized (mirrors) {
            started = List.copyOf(mirrors);
        }
        PostgresServers pgs = databases;
        say("Stopping " + started.stream().filter(m -> m.tomcat().isRunning()).count() + " Tomcat(s) and "
                + (pgs == null ? 0 : pgs.servers().size()) + " PostgreSQL server(s) ...");
        List<Thread> closers = new ArrayList<>();
        for (MirrorTomcat m : started) {
            Thread t = new Thread(() -> {
                try {
                    m.close();
                } catch (RuntimeException e) {
                    System.err.println("Stopping " + m.tomcat().name() + ": " + e.getMessage());
                }
            }, "demo-stop-" + m.tomcat().name());
            t.start();
            closers.add(t);
        }
        for (Thread t : closers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (pgs != null) {
            pgs.close();
        }
        say("Stopped.");
    }

    private static String required(String property) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("The system property " + property + " is not set");
        }
        return value;
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
