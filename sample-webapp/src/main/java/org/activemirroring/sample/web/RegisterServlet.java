package org.activemirroring.sample.web;

import java.io.IOException;
import java.util.Map;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.sample.account.Accounts.Registration;
import org.activemirroring.sample.app.Site;

/** {@code /register}: the form, and creating the account (then logged in). */
@WebServlet("/register")
public final class RegisterServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Map<String, Object> m = Views.model(req, resp);
        m.put("errors", Map.of());
        m.put("userName", "");
        m.put("email", "");
        Views.render(req, resp, 200, "register.ftlh", m);
    }

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Site site = Site.of(req.getServletContext());
        Registration r = site.accounts().register(req.getParameter("userName"), req.getParameter("email"),
                req.getParameter("password"));
        if (r.accountId() == null) {
            Map<String, Object> m = Views.model(req, resp);
            m.put("errors", r.errors().asMap());
            m.put("userName", r.userName());
            m.put("email", req.getParameter("email") == null ? "" : req.getParameter("email"));
            Views.render(req, resp, 400, "register.ftlh", m);
            return;
        }
        SessionCookie.set(req, resp, site.sessions().create(r.accountId()));
        resp.sendRedirect(req.getContextPath() + "/");
    }
}
