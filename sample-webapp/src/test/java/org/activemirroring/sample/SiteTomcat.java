package org.activemirroring.sample;

import java.nio.file.Files;
import java.nio.file.Path;

import jakarta.servlet.ServletContext;

import org.activemirroring.testsupport.PgServer;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.startup.Tomcat;
import org.apache.naming.factory.ResourceLinkFactory;
import org.apache.tomcat.util.descriptor.web.ContextEnvironment;
import org.apache.tomcat.util.descriptor.web.ContextResource;

/**
 * The sample site's bare WAR in an embedded Tomcat on 127.0.0.1 with JNDI on, configured the way
 * tomcat-conf's context.xml does it: {@code jdbc/site} a HikariCP pool made by
 * {@code HikariJNDIFactory}, {@code site/uploadDir} an environment entry. No mirror filter.
 */
final class SiteTomcat implements AutoCloseable {
    final Tomcat tomcat;
    final Context context;
    final Path uploads;
    /** {@code http://127.0.0.1:<port>}, once started. */
    String base;

    private SiteTomcat(Tomcat tomcat, Context context, Path uploads) {
        this.tomcat = tomcat;
        this.context = context;
        this.uploads = uploads;
    }

    /** Starts the WAR {@code war} in a Tomcat of its own under {@code dir}, on {@code pg}'s database. */
    static SiteTomcat start(Path dir, PgServer pg, Path war) throws Exception {
        Path uploads = dir.resolve("uploads");
        Path appBase = Files.createDirectories(dir.resolve("webapps"));
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(dir.resolve("tomcat").toString());
        tomcat.setPort(0);
        tomcat.getConnector().setProperty("address", "127.0.0.1");
        tomcat.getHost().setAppBase(appBase.toString());
        tomcat.enableNaming();
        // Naming contexts are keyed by engine, host and context name: two Tomcats in one JVM need
        // engines of their own names, or the second one's context is read-only.
        tomcat.getEngine().setName("site-" + dir.getFileName());
        // No JSP: the site has none, and tomcat-embed-core has no Jasper.
        tomcat.setAddDefaultWebXmlToWebapp(false);
        Context ctx = tomcat.addWebapp("", war.toAbsolutePath().toString());

        ContextResource pool = new ContextResource();
        pool.setName("jdbc/site");
        pool.setType("javax.sql.DataSource");
        pool.setProperty("factory", "com.zaxxer.hikari.HikariJNDIFactory");
        pool.setProperty("jdbcUrl", pg.jdbcUrl());
        pool.setProperty("username", pg.user());
        pool.setProperty("password", pg.password());
        pool.setProperty("maximumPoolSize", "4");
        pool.setProperty("poolName", "site-" + dir.getFileName());
        pool.setCloseMethod("close");
        ctx.getNamingResources().addResource(pool);

        ContextEnvironment uploadDir = new ContextEnvironment();
        uploadDir.setName("site/uploadDir");
        uploadDir.setType("java.lang.String");
        uploadDir.setValue(uploads.toString());
        uploadDir.setOverride(false);
        ctx.getNamingResources().addEnvironment(uploadDir);

        SiteTomcat site = new SiteTomcat(tomcat, ctx, uploads);
        try {
            tomcat.start();
            site.base = "http://127.0.0.1:" + tomcat.getConnector().getLocalPort();
            if (ctx.getState() != LifecycleState.STARTED) {
                throw new IllegalStateException("The sample site did not start in " + dir + " (state " + ctx.getState()
                        + "); its listener's exception is in the log above");
            }
        } catch (Exception | AssertionError e) {
            site.close();
            throw e;
        }
        return site;
    }

    ServletContext servletContext() {
        return context.getServletContext();
    }

    @Override
    public void close() throws LifecycleException {
        // Tomcat keeps one JVM-wide global naming context, the last started server's, and a context
        // stopping under another server's is refused: hand it this server's before stopping.
        if (tomcat.getServer().getGlobalNamingContext() != null) {
            ResourceLinkFactory.setGlobalContext(tomcat.getServer().getGlobalNamingContext());
        }
        tomcat.stop();
        tomcat.destroy();
    }
}
