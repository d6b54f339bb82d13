package org.activemirroring.sample.web;

import java.io.IOException;
import java.security.SecureRandom;
import java.util.Locale;

import jakarta.servlet.FilterChain;
import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.sample.app.Site;
import org.activemirroring.sample.item.ImageStore;

/**
 * Runs before every page: refuses a POST without its CSRF token (403) or with an upload above the
 * limit (413), and finds the logged-in user from the session cookie in the database. The trivial
 * servlet and images skip the session lookup: they show nothing personal. Declared in web.xml
 * (not annotated) so that it runs after the mirror filter.
 */
public final class SiteFilter extends HttpFilter {
    private static final long serialVersionUID = 1L;

    @Override
    public void init(FilterConfig config) throws ServletException {
        super.init(config);
        config.getServletContext().setAttribute(Views.CSRF, new Csrf(new SecureRandom()));
    }

    @Override
    protected void doFilter(HttpServletRequest req, HttpServletResponse resp, FilterChain chain)
            throws IOException, ServletException {
        String path = req.getServletPath();
        if (path.equals("/trivial") || path.equals("/images")) {
            chain.doFilter(req, resp);
            return;
        }
        Site site = Site.of(req.getServletContext());
        String token = Cookies.value(req, SessionCookie.NAME);
        if (token != null) {
            site.sessions().find(token).ifPresent(u -> req.setAttribute(Views.USER, u));
        }
        if ("POST".equals(req.getMethod())) {
            String type = req.getContentType();
            if (type != null && type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
                try {
                    req.getParts();
                } catch (IllegalStateException e) {
                    Views.message(req, resp, 413, "Upload too large", "The upload was refused: an image may have"
                            + " at most " + ImageStore.MAX_BYTES / (1024 * 1024) + " MiB. Choose a smaller one.");
                    return;
                }
            }
            if (!Csrf.check(req)) {
                Views.forbidden(req, resp, "This form was not sent from this site's own page (its security token"
                        + " is missing or does not match). Reload the page and send it again.");
                return;
            }
        }
        chain.doFilter(req, resp);
    }
}
