package org.activemirroring.sample.web;

import java.io.IOException;
import java.util.Map;
import java.util.OptionalInt;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.sample.app.Site;
import org.activemirroring.sample.item.Items;

/** {@code /search?q=...}: items whose title or description contains the text, in any case. */
@WebServlet("/search")
public final class SearchServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String q = req.getParameter("q") == null ? "" : req.getParameter("q").strip();
        if (q.isEmpty()) {
            Views.message(req, resp, 400, "Nothing to search for", "Type a word to look for in titles and descriptions.");
            return;
        }
        if (q.length() > Items.MAX_QUERY) {
            Views.message(req, resp, 400, "Search text too long", "The search text has " + q.length()
                    + " characters; use at most " + Items.MAX_QUERY + ".");
            return;
        }
        OptionalInt page = Views.page(req, resp);
        if (page.isEmpty()) {
            return;
        }
        Map<String, Object> m = Views.model(req, resp);
        m.put("page", Site.of(req.getServletContext()).items().search(q, page.getAsInt()));
        m.put("query", q);
        Views.render(req, resp, 200, "list.ftlh", m);
    }
}
