package org.activemirroring.sample.web;

import java.io.IOException;
import java.util.Map;

import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.MultipartConfig;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.sample.FieldErrors;
import org.activemirroring.sample.app.Site;
import org.activemirroring.sample.item.ImageStore;
import org.activemirroring.sample.item.ItemFields;
import org.activemirroring.sample.item.Items.Upload;

/** {@code /new}: the form for a new item, and creating it with its image. */
@WebServlet("/new")
@MultipartConfig(maxFileSize = ImageStore.MAX_BYTES, maxRequestSize = ImageStore.MAX_BYTES + 64 * 1024,
        fileSizeThreshold = 256 * 1024)
public final class NewItemServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (Views.requireLogin(req, resp)) {
            return;
        }
        Map<String, Object> m = Views.model(req, resp);
        m.put("itemId", null);
        m.put("fields", new ItemFields("", "", "", ""));
        m.put("errors", Map.of());
        Views.render(req, resp, 200, "item-form.ftlh", m);
    }

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
        if (Views.requireLogin(req, resp)) {
            return;
        }
        ItemFields fields = ItemForms.fields(req);
        FieldErrors errors = fields.validate();
        Upload image = ItemForms.image(req, true, errors);
        if (!errors.isEmpty()) {
            ItemForms.again(req, resp, null, fields, errors);
            return;
        }
        long id = Site.of(req.getServletContext()).items().create(Views.user(req).id(), fields, image);
        resp.sendRedirect(req.getContextPath() + "/items/" + id);
    }
}
