package org.activemirroring.mirror;

import static org.activemirroring.mirror.SiteHttp.body;
import static org.activemirroring.mirror.SiteHttp.get;
import static org.activemirroring.mirror.SiteHttp.liveThreads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.startup.ContextConfig;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;
import org.apache.tomcat.util.scan.StandardJarScanner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link MirrorInitializer} in a real embedded Tomcat that deploys each site the way Tomcat deploys
 * a war ({@link ContextConfig}: web.xml if there is one, initializers found through
 * {@code META-INF/services} on the class path; none is added by hand). Every test starts the same
 * one mirror (one PostgreSQL for the class), so a test that starts it also stops it.
 */
class MirrorInitializerIT {
    private static PostgresServers pgs;
    private static Map<String, String> settings;
    private static Path config;
    private static Path work;

    @BeforeAll
    static void startDatabase() throws Exception {
        pgs = PostgresServers.start("autoreg", 1);
        PgServer pg = pgs.get(0);
        SiteSchema.create(pg);
        work = PostgresServers.workDir().resolve("autoreg-" + System.nanoTime());
        settings = MirrorSettings.forServers("autoreg", List.of(pg)).get(0);
        config = SiteHttp.writeProperties(work.resolve("mirror.properties"), settings);
    }

    @AfterAll
    static void stopDatabase() {
        if (pgs != null) {
            pgs.close();
        }
    }

    @AfterEach
    void clearSwitches() {
        System.clearProperty(MirrorFilter.CONFIG_PROPERTY);
        System.clearProperty(MirrorInitializer.AUTO_PROPERTY);
    }

    /** (a) No web.xml, configuration by system property: the filter adds itself, first, and the mirror runs. */
    @Test
    void addsItselfFirstToAnApplicationWithoutWebXml() throws Exception {
        System.setProperty(MirrorFilter.CONFIG_PROPERTY, config.toString());
        Path docBase = Files.createDirectories(work.resolve("no-web-xml"));
        Tomcat tomcat = start(docBase, ctx -> {
            // What web.xml would declare, declared in code instead.
            FilterDef def = new FilterDef();
            def.setFilterName("site");
            def.setFilterClass(SiteFilter.class.getName());
            ctx.addFilterDef(def);
            FilterMap map = new FilterMap();
            map.setFilterName("site");
            map.addURLPattern("/*");
            ctx.addFilterMap(map);
            Tomcat.addServlet(ctx, "site", new SiteServlet());
            ctx.addServletMappingDecoded("/*", "site");
        });
        try {
            Context ctx = site(tomcat);
            assertEquals(List.of(MirrorInitializer.FILTER_NAME, "site"), filterOrder(ctx));
            assertEquals(List.of(MirrorInitializer.FILTER_NAME), mirrorFilters(ctx));
            String base = url(tomcat);
            awaitHealthy(base);
            HttpResponse<String> page = get(base + "/page");
            assertEquals(200, page.statusCode());
            assertEquals("site page", page.body());
            assertEquals("true", page.headers().firstValue("X-Mirror-Seen").orElse(null),
                    "the site's filter runs after the mirror filter");
        } finally {
            stop(tomcat);
        }
    }

    /** Configuration in /WEB-INF/mirror.properties; the filter goes before the filters of web.xml. */
    @Test
    void putsItselfBeforeTheFiltersOfWebXml() throws Exception {
        Path docBase = work.resolve("web-xml-site-filter");
        Files.createDirectories(docBase.resolve("WEB-INF"));
        Files.copy(config, docBase.resolve("WEB-INF/mirror.properties"));
        Files.writeString(docBase.resolve("WEB-INF/web.xml"), webXml(""));
        Tomcat tomcat = start(docBase, ctx -> { });
        try {
            Context ctx = site(tomcat);
            assertEquals(List.of(MirrorInitializer.FILTER_NAME, "site"), filterOrder(ctx));
            String base = url(tomcat);
            awaitHealthy(base);
            HttpResponse<String> page = get(base + "/page");
            assertEquals("site page", page.body());
            assertEquals("true", page.headers().firstValue("X-Mirror-Seen").orElse(null));
        } finally {
            stop(tomcat);
        }
    }

    /**
     * (b) web.xml declares MirrorFilter itself (and a configuration is given, so the initializer
     * would add one): exactly one filter, one node. This also shows that web.xml's filters are
     * registered by the time the initializer runs.
     */
    @Test
    void leavesAnExplicitWebXmlDeclarationAlone() throws Exception {
        System.setProperty(MirrorFilter.CONFIG_PROPERTY, config.toString());
        Path docBase = work.resolve("web-xml-mirror-filter");
        Files.createDirectories(docBase.resolve("WEB-INF"));
        Files.writeString(docBase.resolve("WEB-INF/web.xml"), webXml("""
                  <filter>
                    <filter-name>mirror</filter-name>
                    <filter-class>org.activemirroring.mirror.MirrorFilter</filter-class>
                  </filter>
                  <filter-mapping><filter-name>mirror</filter-name><url-pattern>/*</url-pattern></filter-mapping>
                """));
        Tomcat tomcat = start(docBase, ctx -> { });
        try {
            Context ctx = site(tomcat);
            assertEquals(List.of("mirror"), mirrorFilters(ctx));
            assertEquals(List.of("mirror", "site"), filterOrder(ctx));
            String base = url(tomcat);
            awaitHealthy(base);
            assertEquals(1, liveThreads("am-launcher-" + settings.get("mirror.node.id")).size(), "one node");
            assertEquals("true", get(base + "/page").headers().firstValue("X-Mirror-Seen").orElse(null));
        } finally {
            stop(tomcat);
        }
    }

    /** (c) Switched off: no filter, no node, even with a configuration given. */
    @Test
    void staysOutWhenSwitchedOff() throws Exception {
        System.setProperty(MirrorFilter.CONFIG_PROPERTY, config.toString());
        System.setProperty(MirrorInitializer.AUTO_PROPERTY, "false");
        assertStaysOut(work.resolve("switched-off"));
    }

    @Test
    void staysOutWithoutConfiguration() throws Exception {
        assertStaysOut(work.resolve("no-config"));
    }

    /** A switch that is neither true nor false stops the deployment rather than being guessed at. */
    @Test
    void anInvalidSwitchFailsTheDeployment() throws Exception {
        System.setProperty(MirrorInitializer.AUTO_PROPERTY, "maybe");
        Tomcat tomcat = start(Files.createDirectories(work.resolve("bad-switch")), ctx -> { });
        try {
            Context ctx = site(tomcat);
            assertFalse(ctx.getState().isAvailable(), "state " + ctx.getState());
            assertEquals(List.of(), mirrorFilters(ctx));
        } finally {
            stop(tomcat);
        }
    }

    /**
     * With the jars in Tomcat's lib/, every application sees the initializer: the configuration
     * given by property goes to one of them, never to two (one node per configuration).
     */
    @Test
    void oneApplicationPerConfiguration() throws Exception {
        System.setProperty(MirrorFilter.CONFIG_PROPERTY, config.toString());
        Tomcat tomcat = start(Files.createDirectories(work.resolve("first")), ctx -> siteServlet(ctx));
        Path other = Files.createDirectories(work.resolve("other"));
        try {
            // A second application (think of Tomcat's manager) deployed into the running Tomcat.
            Context second = addWebapp(tomcat, "/other", other);
            siteServlet(second);
            assertEquals(LifecycleState.STARTED, second.getState());
            assertEquals(List.of(MirrorInitializer.FILTER_NAME), mirrorFilters(site(tomcat)));
            assertEquals(List.of(), mirrorFilters(second));
            awaitHealthy(url(tomcat));
            assertEquals(1, liveThreads("am-launcher-").size(), "one node: " + liveThreads("am-launcher-"));
        } finally {
            stop(tomcat);
        }
    }

    private static void assertStaysOut(Path docBase) throws Exception {
        Files.createDirectories(docBase);
        Tomcat tomcat = start(docBase, MirrorInitializerIT::siteServlet);
        try {
            assertEquals(List.of(), mirrorFilters(site(tomcat)));
            HttpResponse<String> health = get(url(tomcat) + "/_mirror/health");
            assertEquals("site page", health.body(), "the site's servlet answers: no mirror filter");
            assertEquals("false", health.headers().firstValue("X-Mirror-Seen").orElse(null));
            assertEquals(List.of(), liveThreads("am-"), "no node started");
        } finally {
            stop(tomcat);
        }
    }

    /** A site that is one servlet, declared in code. */
    private static void siteServlet(Context ctx) {
        Tomcat.addServlet(ctx, "site", new SiteServlet());
        ctx.addServletMappingDecoded("/*", "site");
    }

    private static String webXml(String filters) {
        return """
                <?xml version="1.0" encoding="UTF-8"?>
                <web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0">
                %s  <filter>
                    <filter-name>site</filter-name>
                    <filter-class>org.activemirroring.mirror.MirrorInitializerIT$SiteFilter</filter-class>
                  </filter>
                  <filter-mapping><filter-name>site</filter-name><url-pattern>/*</url-pattern></filter-mapping>
                  <servlet>
                    <servlet-name>site</servlet-name>
                    <servlet-class>org.activemirroring.mirror.MirrorInitializerIT$SiteServlet</servlet-class>
                  </servlet>
                  <servlet-mapping><servlet-name>site</servlet-name><url-pattern>/*</url-pattern></servlet-mapping>
                </web-app>
                """.formatted(filters);
    }

    /** The site's own filter: tells (in a header) whether the mirror filter had the request before it. */
    public static final class SiteFilter implements Filter {
        @Override
        public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
                throws IOException, ServletException {
            ((HttpServletResponse) res).setHeader("X-Mirror-Seen",
                    String.valueOf(req.getAttribute(MirrorFilter.SEEN_ATTRIBUTE) != null));
            chain.doFilter(req, res);
        }
    }

    public static final class SiteServlet extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            if (!resp.containsHeader("X-Mirror-Seen")) {
                resp.setHeader("X-Mirror-Seen", String.valueOf(req.getAttribute(MirrorFilter.SEEN_ATTRIBUTE) != null));
            }
            resp.getWriter().write("site page");
        }
    }

    /** Deploys {@code docBase} at /site as Tomcat deploys a war, after {@code setup} added what the site declares in code. */
    private static Tomcat start(Path docBase, Consumer<Context> setup) throws Exception {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(work.resolve("tomcat-" + System.nanoTime()).toString());
        tomcat.setPort(0);
        tomcat.getConnector();
        tomcat.setAddDefaultWebXmlToWebapp(false);
        Context ctx = addWebapp(tomcat, "/site", docBase);
        setup.accept(ctx);
        tomcat.start();
        return tomcat;
    }

    private static Context addWebapp(Tomcat tomcat, String path, Path docBase) {
        ContextConfig contextConfig = new ContextConfig();
        contextConfig.setDefaultWebXml(tomcat.noDefaultWebXmlPath());
        Context ctx = tomcat.addWebapp(tomcat.getHost(), path, docBase.toString(), contextConfig);
        // Do not scan the test class path for web fragments and TLDs: slow, and beside the point.
        // Initializers are found through the class loader's META-INF/services either way.
        StandardJarScanner scanner = new StandardJarScanner();
        scanner.setScanClassPath(false);
        ctx.setJarScanner(scanner);
        return ctx;
    }

    private static void stop(Tomcat tomcat) throws Exception {
        tomcat.stop();
        tomcat.destroy();
        Await.until(Duration.ofSeconds(60), () -> liveThreads("am-").isEmpty(),
                () -> "mirror threads left after undeploy: " + liveThreads("am-"));
    }

    private static Context site(Tomcat tomcat) {
        return (Context) tomcat.getHost().findChild("/site");
    }

    private static String url(Tomcat tomcat) {
        return "http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + "/site";
    }

    /** Filter names in the order Tomcat runs them for a request. */
    private static List<String> filterOrder(Context ctx) {
        return Arrays.stream(ctx.findFilterMaps()).map(FilterMap::getFilterName).distinct().toList();
    }

    /** Names of the registered filters whose class is MirrorFilter. */
    private static List<String> mirrorFilters(Context ctx) {
        return ctx.getServletContext().getFilterRegistrations().values().stream()
                .filter(r -> MirrorFilter.class.getName().equals(r.getClassName()))
                .map(FilterRegistration::getName).toList();
    }

    private static void awaitHealthy(String base) {
        Await.until(Duration.ofSeconds(60), () -> get(base + "/_mirror/health").statusCode() == 200,
                () -> "the mirror never became ready; health says " + body(base + "/_mirror/health"));
    }




}
