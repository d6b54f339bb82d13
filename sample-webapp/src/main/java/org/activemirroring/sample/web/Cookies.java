package org.activemirroring.sample.web;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;

/** Reading and making the site's cookies: HttpOnly, SameSite=Lax, Secure over HTTPS, path = the site. */
final class Cookies {
    private Cookies() {
    }

    /** The value of cookie {@code name}, or null. */
    static String value(HttpServletRequest req, String name) {
        Cookie[] cookies = req.getCookies();
        if (cookies == null) {
            return null;
        }
        for (Cookie c : cookies) {
            if (c.getName().equals(name)) {
                return c.getValue();
            }
        }
        return null;
    }

    /** A cookie for this site; {@code maxAgeSeconds} -1 for the browser session, 0 to remove it. */
    static Cookie make(HttpServletRequest req, String name, String value, int maxAgeSeconds) {
        Cookie c = new Cookie(name, value);
        c.setHttpOnly(true);
        c.setSecure(req.isSecure());
        String path = req.getContextPath();
        c.setPath(path.isEmpty() ? "/" : path);
        c.setMaxAge(maxAgeSeconds);
        c.setAttribute("SameSite", "Lax");
        return c;
    }
}
