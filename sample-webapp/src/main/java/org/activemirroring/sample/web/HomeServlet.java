package org.activemirroring.sample.web;

import java.io.IOException;
import java.util.Map;
import java.util.OptionalInt;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.sample.app.Site;

/** {@code /}: the newest items, a page at a time ({@code ?page=2}). */
@WebServlet("")
public final class HomeServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        OptionalInt page = Views.page(req, resp);
        if (page.isEmpty()) {
            return;
        }
        Map<String, Object> m = Views.model(req, resp);
        m.put("page", Site.of(req.getServletContext()).items().list(page.getAsInt()));
        m.put("query", null);
        Views.render(req, resp, 200, "list.ftlh", m);
    }
}
