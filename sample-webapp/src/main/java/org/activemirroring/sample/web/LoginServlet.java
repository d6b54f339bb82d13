package org.activemirroring.sample.web;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.sample.account.Accounts.Login;
import org.activemirroring.sample.account.CurrentUser;
import org.activemirroring.sample.app.Site;

/**
 * {@code /login}: the form, and logging in. A login that has a notice for its owner (an account
 * restored under a new name) answers with the notice page instead of going to the list.
 */
@WebServlet("/login")
public final class LoginServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        form(req, resp, 200, "", null);
    }

    private static void form(HttpServletRequest req, HttpServletResponse resp, int status, String userName,
                             String error) throws IOException {
        Map<String, Object> m = Views.model(req, resp);
        m.put("userName", userName);
        m.put("error", error);
        Views.render(req, resp, status, "login.ftlh", m);
    }

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Site site = Site.of(req.getServletContext());
        String name = req.getParameter("userName");
        Optional<Login> login = site.accounts().login(name, req.getParameter("password"));
        if (login.isEmpty()) {
            form(req, resp, 401, name == null ? "" : name, "Wrong user name or password.");
            return;
        }
        Login l = login.get();
        String token = site.sessions().create(l.accountId());
        SessionCookie.set(req, resp, token);
        if (l.notice().isPresent()) {
            req.setAttribute(Views.USER, new CurrentUser(l.accountId(), l.userName(), token));
            Views.message(req, resp, 200, "Your account has a new name", l.notice().get());
            return;
        }
        resp.sendRedirect(req.getContextPath() + "/");
    }
}
