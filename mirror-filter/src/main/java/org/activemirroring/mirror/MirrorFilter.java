package org.activemirroring.mirror;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.config.ConfigException;

/**
 * The plugin's entry point in a web site, in front of every other filter: {@link MirrorInitializer}
 * adds it by itself, or declare it first in {@code web.xml}.
 *
 * <p>It starts this Tomcat's mirror node from {@code mirror.properties}, answers
 * {@code /_mirror/health} (open to anyone: 200 "ready", else 503 with one word for the phase) and
 * the admin pages {@code /_mirror/status} and {@code /_mirror/conflicts} (JSON, behind credentials:
 * see {@link AdminEndpoints}), and holds site requests back with 503 and Retry-After while the node
 * is not ready. A request it let through carries the attribute {@link #SEEN_ATTRIBUTE}.
 *
 * <p>Where the configuration comes from, first match wins: the init-param {@code config-file},
 * the system property {@code mirror.config}, the environment variable {@code MIRROR_CONFIG},
 * {@code /WEB-INF/mirror.properties} in the web application. A bad configuration makes
 * {@code init()} throw, so the site never runs half-configured.
 */
public final class MirrorFilter implements Filter {
    /** The only init-param this filter accepts. */
    public static final String CONFIG_FILE_PARAM = "config-file";
    /** Set on every request this filter has seen, so that the site (and tests) can tell it ran first. */
    public static final String SEEN_ATTRIBUTE = "org.activemirroring.mirror.seen";
    static final String HEALTH_PATH = "/_mirror/health";
    private static final String MIRROR_PREFIX = "/_mirror";
    static final String CONFIG_PROPERTY = "mirror.config";
    static final String CONFIG_ENV = "MIRROR_CONFIG";
    static final String CONFIG_RESOURCE = "/WEB-INF/mirror.properties";

    private NodeLauncher launcher;
    private AdminEndpoints admin;
    private org.activemirroring.mirror.edge.EdgeGate edge;
    private org.activemirroring.mirror.siteapi.NodeSite site;
    /** This filter's use of the node it shares with every filter of the same configuration file. */
    private SharedNodes.Lease lease;
    /** True when the plugin's classes are this web application's own (WEB-INF/lib), not Tomcat's lib/. */
    private boolean pluginInWebApp;

    @Override
    public void init(FilterConfig filterConfig) throws ServletException {
        for (String name : Collections.list(filterConfig.getInitParameterNames())) {
            if (!CONFIG_FILE_PARAM.equals(name)) {
                throw new ServletException("Unknown init-param '" + name + "' on MirrorFilter: the only one is '"
                        + CONFIG_FILE_PARAM + "'; put mirror settings into mirror.properties.");
            }
        }
        MirrorConfig config;
        try {
            config = loadConfig(filterConfig);
        } catch (ConfigException e) {
            throw new ServletException(e.getMessage(), e);
        }
        pluginInWebApp = MirrorFilter.class.getClassLoader() == filterConfig.getServletContext().getClassLoader();
        lease = acquireNode(filterConfig, config);
        launcher = lease.launcher();
        admin = new AdminEndpoints(launcher);
        edge = new org.activemirroring.mirror.edge.EdgeGate(config);
        if (edge.floodStats() != null) {
            edge.floodStats().onLimit(launcher.metrics()::limitHit); // mirror_limits_hit_total{limit}
        }
        publishSiteApi(filterConfig, config);
    }

    /** The node of this configuration: started here, or shared with the filters already using it. */
    private static SharedNodes.Lease acquireNode(FilterConfig filterConfig, MirrorConfig config) {
        String path = configPath(filterConfig);
        String app = filterConfig.getServletContext().getContextPath();
        String user = "the filter of '" + (app.isEmpty() ? "/" : app) + "'";
        return SharedNodes.acquire(config, path == null ? null : Path.of(path), user,
                c -> new NodeLauncher(c, MirrorNode::start));
    }

    /** The configuration file's path, or null when the web application's own resource is used. */
    private static String configPath(FilterConfig filterConfig) {
        return firstNonBlank(filterConfig.getInitParameter(CONFIG_FILE_PARAM), System.getProperty(CONFIG_PROPERTY),
                System.getenv(CONFIG_ENV));
    }

    private static MirrorConfig loadConfig(FilterConfig filterConfig) throws ServletException {
        Map<String, String> env = System.getenv();
        String path = configPath(filterConfig);
        if (path != null) {
            return MirrorConfig.load(Path.of(path), env);
        }
        InputStream in = filterConfig.getServletContext().getResourceAsStream(CONFIG_RESOURCE);
        if (in == null) {
            throw new ServletException("No mirror configuration found: set the MirrorFilter init-param '"
                    + CONFIG_FILE_PARAM + "', the system property 'mirror.config' or MIRROR_CONFIG to the path of "
                    + "mirror.properties, or put it at /WEB-INF/mirror.properties.");
        }
        return MirrorConfig.load(in, CONFIG_RESOURCE, env);
    }

    static String firstNonBlank(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v.trim();
            }
        }
        return null;
    }

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
            throws IOException, ServletException {
        if (req.getAttribute(SEEN_ATTRIBUTE) != null) {
            // Already gated by a MirrorFilter (declared twice, or a dispatch mapped in web.xml): once is enough.
            chain.doFilter(req, res);
            return;
        }
        req.setAttribute(SEEN_ATTRIBUTE, Boolean.TRUE);
        HttpServletRequest request = (HttpServletRequest) req;
        HttpServletResponse response = (HttpServletResponse) res;
        String uri = request.getRequestURI();
        int from = request.getContextPath().length();
        // Only paths under /_mirror are the plugin's: the site's own pages skip building the path.
        String path = uri.startsWith(MIRROR_PREFIX, from) ? uri.substring(from) : null;
        MirrorNode node = launcher.node();
        boolean ready = node != null && node.isReady();
        if (HEALTH_PATH.equals(path)) {
            health(response, node, ready);
        } else if (AdminEndpoints.isAdminPath(path)) {
            admin.serve(path, request, response);
        } else if (!ready) {
            if (edge.forwardUnready(request, response)) {
                return;
            }
            unavailable(response, "This mirror is not ready yet (" + phaseWord(node) + "); try again in "
                    + launcher.config().retryAfterSeconds() + " seconds.\n");
        } else {
            edge.serve(request, response, chain, node);
        }
    }

    /** Open to anyone (load balancers), so it says nothing an attacker could use: no addresses, no error text. */
    private void health(HttpServletResponse response, MirrorNode node, boolean ready) throws IOException {
        if (ready) {
            // Still 200: the site is served; the body says a peer's changes are held back here.
            String degraded = node.degraded();
            if (degraded == null) {
                write(response, HttpServletResponse.SC_OK, "text/plain", "ready\n");
            } else {
                List<String> what = new ArrayList<>();
                if (node.deliveryStatus().heldBack() != null) {
                    what.add("held-back");
                }
                if (node.hasParked()) {
                    what.add("parked");
                }
                if (node.hasHeldOutTables()) {
                    what.add("held-out");
                }
                write(response, HttpServletResponse.SC_OK, "text/plain", "ready, degraded: " + String.join(", ", what)
                        + "\n");
            }
        } else {
            unavailable(response, "not ready: " + phaseWord(node) + "\n");
        }
    }

    private void unavailable(HttpServletResponse response, String body) throws IOException {
        response.setHeader("Retry-After", Integer.toString(launcher.config().retryAfterSeconds()));
        write(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE, "text/plain", body);
    }

    /**
     * One word for what a mirror that is not ready does. The launcher's phase and last failure can
     * hold host names, URLs and error text, so only their kind shows here; the status page has them.
     */
    private String phaseWord(MirrorNode node) {
        if (node != null) {
            return "degraded"; // running, but not replicating (capture, transport or sequences not ready)
        }
        if (launcher.lastFailure() != null) {
            return "retrying";
        }
        String phase = launcher.phase();
        if (phase.startsWith("joining") || phase.startsWith("copying")) {
            return "joining";
        }
        if (phase.startsWith("catching up")) {
            return "catching-up";
        }
        if (phase.startsWith("waiting for")) {
            return "waiting-for-peers"; // a new mirror before it knows where its data comes from
        }
        return phase.startsWith("restarting") ? "restarting" : "starting";
    }

    static void write(HttpServletResponse response, int code, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        response.setStatus(code);
        response.setContentType(type + ";charset=UTF-8");
        response.setHeader("Cache-Control", "no-store");
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }

    // ---- the site API (org.activemirroring.site.MirrorSite): in the context while the node runs ----

    private void publishSiteApi(FilterConfig filterConfig, MirrorConfig config) {
        NodeLauncher l = launcher;
        jakarta.servlet.ServletContext ctx = filterConfig.getServletContext();
        // Lost writes are acknowledged per application: applications sharing the node each hear of all of them.
        site = org.activemirroring.mirror.siteapi.NodeSite.start(config, l::node, ctx, "app:" + ctx.getContextPath());
    }

    private void closeSiteApi() {
        if (site != null) {
            site.close(); // before the node: a listener's round ends while the database is there
            site = null;
        }
    }

    /** Stops the node cleanly when the last web application using it is undeployed. */
    @Override
    public void destroy() {
        closeSiteApi();
        if (lease != null) {
            lease.close();
            lease = null;
            if (pluginInWebApp) {
                WebAppJdbcDrivers.deregisterLoadedBy(MirrorFilter.class.getClassLoader());
            }
            launcher = null;
            admin = null;
            edge.close();
            edge = null;
        }
    }

}
