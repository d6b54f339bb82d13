package org.activemirroring.mirror;

import java.io.IOException;
import java.security.Principal;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Who may see the admin pages: a user the servlet container authenticated who has
 * {@code mirror.admin.role}, or whoever sends {@code mirror.admin.user} and the password of
 * {@code mirror.admin.password-hash} with HTTP Basic. With neither configured the pages are off
 * (403 saying how to turn them on). Never logs a password or an Authorization header.
 */
final class AdminAccess {
    static final String CHALLENGE = "Basic realm=\"ActiveMirroring\", charset=\"UTF-8\"";

    /** Null when no password hash is configured. */
    private final AdminCredentials credentials;
    /** Null when no container role is configured. */
    private final String role;

    AdminAccess(MirrorConfig config) {
        this(config.adminPasswordHash() == null ? null
                : new AdminCredentials(config.adminUser(), config.adminPasswordHash()), config.adminRole());
    }

    AdminAccess(AdminCredentials credentials, String role) {
        this.credentials = credentials;
        this.role = role;
    }

    /** True when neither a password hash nor a role is configured: every admin page answers 403. */
    boolean off() {
        return credentials == null && role == null;
    }

    /**
     * True if the request may see an admin page; otherwise the response has been written (401 with
     * a challenge, or 403) and the caller writes nothing more.
     */
    boolean admit(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (off()) {
            MirrorFilter.write(response, HttpServletResponse.SC_FORBIDDEN, "text/plain", "The admin pages are off:"
                    + " neither mirror.admin.password-hash nor mirror.admin.role is set. To turn them on, make a hash"
                    + " with java -cp mirror-filter-VERSION.jar org.activemirroring.mirror.AdminPassword and put the line"
                    + " it prints (mirror.admin.password-hash=...) into mirror.properties, or name a role of the"
                    + " container's realm in mirror.admin.role, then restart the web application.\n");
            return false;
        }
        Principal user = request.getUserPrincipal();
        if (role != null && user != null) {
            if (request.isUserInRole(role)) {
                return true;
            }
            if (credentials == null) {
                MirrorFilter.write(response, HttpServletResponse.SC_FORBIDDEN, "text/plain", "The admin pages need"
                        + " the role named by mirror.admin.role; the user you logged in as does not have it.\n");
                return false;
            }
        }
        if (credentials != null) {
            if (credentials.accepts(request.getHeader("Authorization"))) {
                return true;
            }
            response.setHeader("WWW-Authenticate", CHALLENGE);
            MirrorFilter.write(response, HttpServletResponse.SC_UNAUTHORIZED, "text/plain",
                    "Log in as mirror.admin.user with the admin password.\n");
            return false;
        }
        // Only a role: let the container ask for the login it is configured for (its login-config).
        try {
            if (request.authenticate(response)) {
                if (request.isUserInRole(role)) {
                    return true;
                }
                MirrorFilter.write(response, HttpServletResponse.SC_FORBIDDEN, "text/plain", "The admin pages need"
                        + " the role named by mirror.admin.role; the user you logged in as does not have it.\n");
            }
            if (!response.isCommitted() && response.getStatus() < 400) {
                noLogin(response); // the container has no login to ask for
            }
            return false; // not authenticated: the container wrote its challenge
        } catch (ServletException e) {
            if (!response.isCommitted()) {
                noLogin(response);
            }
            return false;
        }
    }

    private static void noLogin(HttpServletResponse response) throws IOException {
        MirrorFilter.write(response, HttpServletResponse.SC_FORBIDDEN, "text/plain", "The admin pages need a user with"
                + " the role named by mirror.admin.role, and the container cannot ask for a login here: protect"
                + " /_mirror/* with a security-constraint and a login-config in web.xml.\n");
    }
}
