package org.activemirroring.sample.web;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * CSRF protection by double submit: each browser gets a random token in a cookie, every form
 * carries it in a hidden field {@value #FIELD}, and a POST whose field does not equal its cookie
 * is refused. Another site can make a browser send the cookie but cannot read it to fill in the
 * field. It needs no server state, so it works on every mirror alike.
 */
public final class Csrf {
    /** The cookie holding the browser's token. */
    public static final String COOKIE = "site_csrf";
    /** The form field that must repeat it. */
    public static final String FIELD = "_csrf";
    private static final String REQUEST_ATTRIBUTE = Csrf.class.getName();
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]{43}");

    private final SecureRandom random;

    public Csrf(SecureRandom random) {
        this.random = random;
    }

    /** The browser's token, made and set as a cookie when it has none yet. */
    public String token(HttpServletRequest req, HttpServletResponse resp) {
        Object known = req.getAttribute(REQUEST_ATTRIBUTE);
        if (known instanceof String s) {
            return s;
        }
        String token = Cookies.value(req, COOKIE);
        if (token == null || !TOKEN.matcher(token).matches()) {
            byte[] bytes = new byte[32];
            random.nextBytes(bytes);
            token = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
            Cookie c = Cookies.make(req, COOKIE, token, -1);
            resp.addCookie(c);
        }
        req.setAttribute(REQUEST_ATTRIBUTE, token);
        return token;
    }

    /** Whether a form's {@code submitted} token matches the browser's {@code cookie}, in constant time. */
    public static boolean matches(String cookie, String submitted) {
        if (cookie == null || submitted == null || !TOKEN.matcher(cookie).matches()) {
            return false;
        }
        return MessageDigest.isEqual(cookie.getBytes(StandardCharsets.US_ASCII),
                submitted.getBytes(StandardCharsets.US_ASCII));
    }

    /** Whether {@code req}, a POST, carries its browser's token. */
    public static boolean check(HttpServletRequest req) {
        return matches(Cookies.value(req, COOKIE), req.getParameter(FIELD));
    }
}
