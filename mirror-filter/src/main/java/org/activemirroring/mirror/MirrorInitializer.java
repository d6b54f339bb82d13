package org.activemirroring.mirror;

import java.net.MalformedURLException;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContainerInitializer;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.ServletException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds {@link MirrorFilter} in front of a web application's filters, so that a site needs no
 * {@code web.xml} edit: the container finds this class through
 * {@code META-INF/services/jakarta.servlet.ServletContainerInitializer} when the plugin's jars are
 * in the application's {@code WEB-INF/lib} or in Tomcat's {@code lib/}.
 *
 * <p>It adds the filter when a configuration is given (system property {@code mirror.config},
 * environment {@code MIRROR_CONFIG}, or a {@code /WEB-INF/mirror.properties} resource), and stays
 * out when the application declares MirrorFilter itself (web.xml or a fragment: that way keeps
 * working as before), when no configuration is given (one INFO line says how to enable it), or when
 * switched off with the system property {@code mirror.filter.auto=false} or the environment
 * variable {@code MIRROR_FILTER_AUTO=false}. Those two are not {@code mirror.properties} options
 * because they decide whether that file is read at all, and they must also work when it is missing
 * or broken.
 *
 * <p>The filter is mapped to {@code /*} for REQUEST dispatches, as the web.xml example does: the
 * gate and the mirror's pages are about what clients ask; a forward, include, error page or async
 * dispatch belongs to a request that has passed already. It is mapped before the filters of
 * web.xml; of filters other initializers add "before" as well, the earlier-registered runs first.
 *
 * <p>One JVM runs one node per configuration. With the jars in Tomcat's {@code lib/} every
 * application sees this initializer, so a configuration given by property or environment goes to
 * the first application that starts; the others log a warning and run without the filter.
 */
public final class MirrorInitializer implements ServletContainerInitializer {
    static final String FILTER_NAME = "activemirroring";
    static final String AUTO_PROPERTY = "mirror.filter.auto";
    static final String AUTO_ENV = "MIRROR_FILTER_AUTO";
    private static final Logger LOG = LoggerFactory.getLogger(MirrorInitializer.class);
    /** Configuration path from property or environment, to the application that runs it. */
    private static final ConcurrentMap<String, String> CLAIMED = new ConcurrentHashMap<>();

    @Override
    public void onStartup(Set<Class<?>> classes, ServletContext ctx) throws ServletException {
        String app = name(ctx);
        if (!autoEnabled()) {
            LOG.debug("ActiveMirroring: not adding the filter to {}: {}=false", app, AUTO_PROPERTY);
            return;
        }
        if (declaresMirrorFilter(ctx)) {
            LOG.debug("ActiveMirroring: {} declares MirrorFilter itself", app);
            return;
        }
        String path = MirrorFilter.firstNonBlank(System.getProperty(MirrorFilter.CONFIG_PROPERTY),
                System.getenv(MirrorFilter.CONFIG_ENV));
        if (path == null && !hasConfigResource(ctx)) {
            LOG.info("ActiveMirroring is not enabled for {}: to enable it, set the system property {} or the"
                    + " environment variable {} to the path of mirror.properties, or put it at {}", app,
                    MirrorFilter.CONFIG_PROPERTY, MirrorFilter.CONFIG_ENV, MirrorFilter.CONFIG_RESOURCE);
            return;
        }
        if (path != null) {
            String owner = CLAIMED.putIfAbsent(path, app);
            if (owner != null) {
                LOG.warn("ActiveMirroring: not adding the filter to {}: the mirror of {} runs in {} already (one per"
                        + " configuration). Put the plugin's jars into the site's WEB-INF/lib rather than Tomcat's"
                        + " lib/, or set -D{}=false and declare MirrorFilter in the site's web.xml.", app, path, owner,
                        AUTO_PROPERTY);
                return;
            }
            ctx.addListener(new Release(path, app));
        }
        FilterRegistration.Dynamic filter = ctx.addFilter(FILTER_NAME, MirrorFilter.class);
        if (filter == null) {
            throw new ServletException("The application " + app + " has a filter named '" + FILTER_NAME
                    + "' already, so ActiveMirroring cannot add its own: rename that filter, or set -D" + AUTO_PROPERTY
                    + "=false and declare MirrorFilter in web.xml.");
        }
        filter.setAsyncSupported(true);
        filter.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
        LOG.info("ActiveMirroring: added MirrorFilter to {} in front of its filters (configuration {})", app,
                path != null ? path : MirrorFilter.CONFIG_RESOURCE);
    }

    /** @throws ServletException for a value other than true or false: never guess at a switch */
    private static boolean autoEnabled() throws ServletException {
        String property = System.getProperty(AUTO_PROPERTY);
        String value = MirrorFilter.firstNonBlank(property, System.getenv(AUTO_ENV));
        if (value == null || value.toLowerCase(Locale.ROOT).equals("true")) {
            return true;
        }
        if (value.toLowerCase(Locale.ROOT).equals("false")) {
            return false;
        }
        throw new ServletException("Invalid value '" + value + "' for " + (property != null && !property.isBlank()
                ? "the system property " + AUTO_PROPERTY : "the environment variable " + AUTO_ENV)
                + ": use true (ActiveMirroring adds its filter by itself) or false (declare it in web.xml).");
    }

    /** Filters of web.xml and fragments are registered by the time initializers run (Servlet spec 8.2.4; tested). */
    private static boolean declaresMirrorFilter(ServletContext ctx) {
        return ctx.getFilterRegistrations().values().stream()
                .anyMatch(r -> MirrorFilter.class.getName().equals(r.getClassName()));
    }

    private static boolean hasConfigResource(ServletContext ctx) {
        try {
            return ctx.getResource(MirrorFilter.CONFIG_RESOURCE) != null;
        } catch (MalformedURLException e) {
            return false; // cannot happen for a constant path that starts with '/'
        }
    }

    private static String name(ServletContext ctx) {
        String path = ctx.getContextPath();
        return "'" + (path.isEmpty() ? "/" : path) + "' on " + ctx.getVirtualServerName();
    }

    /** Frees the configuration for the next application when this one is undeployed. */
    private record Release(String path, String app) implements ServletContextListener {
        @Override
        public void contextDestroyed(ServletContextEvent event) {
            CLAIMED.remove(path, app);
        }
    }
}
