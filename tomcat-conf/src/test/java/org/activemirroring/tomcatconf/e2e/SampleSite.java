package org.activemirroring.tomcatconf.e2e;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.SiteBrowser;
import org.activemirroring.tomcatconf.Install;
import org.activemirroring.tomcatconf.MirrorTomcat;

/**
 * The sample site as the end-to-end tests run it: its WARs (built by the sample-webapp module),
 * one mirror of it as a real Tomcat with a small heap, and what its pages say.
 */
final class SampleSite {
    /** The site's context path in every Tomcat. */
    static final String CONTEXT = "site";
    /** How long a Tomcat may take until its mirror is ready (start, join or catch-up included). */
    static final Duration READY = Duration.ofMinutes(3);
    /** The heap each Tomcat gets: the site, Hibernate and a mirror node fit in it. */
    static final String HEAP = "384m";

    private static final Pattern ITEM_LOCATION = Pattern.compile("/" + CONTEXT + "/items/(\\d+)$");
    private static final Pattern IMAGE = Pattern.compile("src=\"/" + CONTEXT + "/images/(items/\\d+/[0-9a-f]{32}\\.[a-z]+)\"");
    /** The sample site's error page (ErrorServlet) for failures. */
    private static final String ERROR_PAGE = "Something went wrong";

    private SampleSite() {
    }

    /** sample-webapp.war: the plugin's jars in WEB-INF/lib and the filter in its web.xml (install a). */
    static Path war() {
        return warFrom("site.war", "sample-webapp.war");
    }

    private static Path warFrom(String property, String fileName) {
        String value = System.getProperty(property);
        Path war = value == null || value.isBlank() || value.startsWith("${")
                ? Path.of("..", "sample-webapp", "target", fileName) : Path.of(value);
        if (!Files.isRegularFile(war)) {
            throw new IllegalStateException("The sample site's WAR " + war.toAbsolutePath() + " is missing: build it with"
                    + " ./mvnw -B -DskipTests install -pl sample-webapp -am (or run tomcat-conf's tests through the"
                    + " reactor, which packages sample-webapp first; -D" + property + "=... points at another file).");
        }
        return war.toAbsolutePath();
    }

    /** One mirror of the sample site (install a), laid out but not started. */
    static MirrorTomcat mirror(String name, Path dir, PgServer db, Map<String, String> settings) {
        MirrorTomcat m = MirrorTomcat.create(name, dir, db, settings, Install.WAR).addWar(CONTEXT, war());
        m.tomcat().base().heap(HEAP);
        return m;
    }

    /** Waits until the mirror's {@code /_mirror/health} answers 200. */
    static void awaitReady(MirrorTomcat m) {
        m.tomcat().awaitHttp("/" + CONTEXT + "/_mirror/health", s -> s == 200, READY);
    }

    /**
     * Waits until the mirror's Tomcat log holds {@code line} (a line of the plugin's own log, which
     * reaches Tomcat's log through the SLF4J binding in the WAR).
     */
    static void awaitLogged(MirrorTomcat m, String line) {
        org.activemirroring.testsupport.Await.until(Duration.ofSeconds(30),
                () -> !m.tomcat().log().containing(line).isEmpty(),
                () -> m.tomcat().name() + "'s log has no line with \"" + line + "\": the plugin's log does not reach"
                        + " Tomcat's log. Last lines:\n" + m.tomcat().log().tail(30));
    }

    /** {@code http://127.0.0.1:<port>/site}. */
    static String base(MirrorTomcat m) {
        return m.url("/" + CONTEXT);
    }

    /** The new item's id when {@code r} is the redirect to its page that creating an item answers. */
    static Optional<Long> createdItem(HttpResponse<?> r) {
        if (r.statusCode() != 302) {
            return Optional.empty();
        }
        Matcher m = ITEM_LOCATION.matcher(r.headers().firstValue("Location").orElse(""));
        return m.find() ? Optional.of(Long.parseLong(m.group(1))) : Optional.empty();
    }

    /** The image path (under the upload folder) an item page shows, if any. */
    static Optional<String> imagePath(String itemPage) {
        Matcher m = IMAGE.matcher(itemPage);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /** Whether an answer is an error: a status of 500 or more, or the site's error page. */
    static boolean isError(HttpResponse<String> r) {
        return r.statusCode() >= 500 || r.body().contains(ERROR_PAGE);
    }

    /** A new browser that opened the site's home page on {@code base} (so it holds a CSRF cookie). */
    static SiteBrowser browserAt(String base) throws IOException, InterruptedException {
        SiteBrowser b = new SiteBrowser();
        HttpResponse<String> home = b.get(base + "/");
        if (home.statusCode() != 200) {
            throw new AssertionError("home page of " + base + ": HTTP " + home.statusCode() + " " + home.body());
        }
        return b;
    }
}
