package org.activemirroring.sample.web;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.sample.account.Sessions;

/** The login cookie: the session token, HttpOnly, SameSite=Lax, as long as the session lasts. */
final class SessionCookie {
    static final String NAME = "site_session";

    private SessionCookie() {
    }

    static void set(HttpServletRequest req, HttpServletResponse resp, String token) {
        resp.addCookie(Cookies.make(req, NAME, token, (int) Sessions.LIFETIME.toSeconds()));
    }

    static void clear(HttpServletRequest req, HttpServletResponse resp) {
        resp.addCookie(Cookies.make(req, NAME, "", 0));
    }
}
