package org.activemirroring.sample.web;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.sample.account.CurrentUser;
import org.activemirroring.sample.app.Site;

/** What every page's model holds (the user, the CSRF token, the site's path), and the common answers. */
final class Views {
    /** The request attribute {@link SiteFilter} puts the logged-in {@link CurrentUser} in. */
    static final String USER = "org.activemirroring.sample.user";
    static final String CSRF = "org.activemirroring.sample.csrf";

    private Views() {
    }

    /** The logged-in user of this request, or null. */
    static CurrentUser user(HttpServletRequest req) {
        return (CurrentUser) req.getAttribute(USER);
    }

    /** A fresh model with {@code user}, {@code csrf} and {@code ctx}. */
    static Map<String, Object> model(HttpServletRequest req, HttpServletResponse resp) {
        Map<String, Object> m = new HashMap<>();
        m.put("user", user(req));
        m.put("csrf", ((Csrf) req.getServletContext().getAttribute(CSRF)).token(req, resp));
        m.put("ctx", req.getContextPath());
        return m;
    }

    static void render(HttpServletRequest req, HttpServletResponse resp, int status, String template,
                       Map<String, Object> model) throws IOException {
        Site.of(req.getServletContext()).pages().render(resp, status, template, model);
    }

    /** A page that only says {@code message}, with {@code status}. */
    static void message(HttpServletRequest req, HttpServletResponse resp, int status, String title, String message)
            throws IOException {
        Map<String, Object> m = model(req, resp);
        m.put("title", title);
        m.put("message", message);
        render(req, resp, status, "message.ftlh", m);
    }

    static void notFound(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        message(req, resp, 404, "Not found", "There is no such page or item here.");
    }

    static void forbidden(HttpServletRequest req, HttpServletResponse resp, String why) throws IOException {
        message(req, resp, 403, "Not allowed", why);
    }

    /** Sends a browser that is not logged in to the login page; true if it did. */
    static boolean requireLogin(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (user(req) != null) {
            return false;
        }
        resp.sendRedirect(req.getContextPath() + "/login");
        return true;
    }

    /**
     * The {@code page} parameter (1 when absent); empty after answering 400 when it is not a
     * number from 1 to 100000.
     */
    static OptionalInt page(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String p = req.getParameter("page");
        if (p == null || p.isEmpty()) {
            return OptionalInt.of(1);
        }
        try {
            int n = Integer.parseInt(p);
            if (n >= 1 && n <= 100_000) {
                return OptionalInt.of(n);
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        message(req, resp, 400, "Bad page number", "'" + p + "' is not a page number: use page=1, 2, 3, ...");
        return OptionalInt.empty();
    }
}
