package org.activemirroring.sample.web;

import java.io.IOException;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.sample.account.CurrentUser;
import org.activemirroring.sample.app.Site;

/** {@code POST /logout}: ends the session on every mirror (its row is deleted) and clears the cookie. */
@WebServlet("/logout")
public final class LogoutServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        CurrentUser user = Views.user(req);
        if (user != null) {
            Site.of(req.getServletContext()).sessions().end(user.token());
        }
        SessionCookie.clear(req, resp);
        resp.sendRedirect(req.getContextPath() + "/");
    }
}
