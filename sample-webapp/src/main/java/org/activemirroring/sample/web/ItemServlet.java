package org.activemirroring.sample.web;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.servlet.ServletException;
import jakarta.servlet.annotation.MultipartConfig;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.sample.FieldErrors;
import org.activemirroring.sample.account.CurrentUser;
import org.activemirroring.sample.app.Site;
import org.activemirroring.sample.item.ImageStore;
import org.activemirroring.sample.item.Item;
import org.activemirroring.sample.item.ItemComment;
import org.activemirroring.sample.item.ItemFields;
import org.activemirroring.sample.item.Items;
import org.activemirroring.sample.item.Items.Outcome;
import org.activemirroring.sample.item.Items.Upload;

/**
 * An item: {@code GET /items/<id>} shows it with its comments; {@code POST /items/<id>/comments}
 * adds a comment; {@code GET|POST /items/<id>/edit} and {@code POST /items/<id>/delete} are for
 * its owner only (403 for anyone else).
 */
@WebServlet("/items/*")
@MultipartConfig(maxFileSize = ImageStore.MAX_BYTES, maxRequestSize = ImageStore.MAX_BYTES + 64 * 1024,
        fileSizeThreshold = 256 * 1024)
public final class ItemServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Pattern PATH = Pattern.compile("/([1-9][0-9]{0,17})(?:/(edit|delete|comments))?");
    private static final String NOT_OWNER = "Only the person who added this item may change or delete it.";

    private record Target(long id, String action) {
    }

    private static Optional<Target> target(HttpServletRequest req) {
        String info = req.getPathInfo();
        Matcher m = info == null ? null : PATH.matcher(info);
        if (m == null || !m.matches()) {
            return Optional.empty();
        }
        return Optional.of(new Target(Long.parseLong(m.group(1)), m.group(2) == null ? "" : m.group(2)));
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Optional<Target> t = target(req);
        if (t.isEmpty() || !(t.get().action().isEmpty() || t.get().action().equals("edit"))) {
            Views.notFound(req, resp);
            return;
        }
        Site site = Site.of(req.getServletContext());
        Optional<Item> item = site.items().find(t.get().id());
        if (item.isEmpty()) {
            Views.notFound(req, resp);
            return;
        }
        Item it = item.get();
        if (t.get().action().equals("edit")) {
            if (Views.requireLogin(req, resp)) {
                return;
            }
            if (it.getOwnerId() != Views.user(req).id()) {
                Views.forbidden(req, resp, NOT_OWNER);
                return;
            }
            Map<String, Object> m = Views.model(req, resp);
            m.put("itemId", it.getId());
            m.put("fields", new ItemFields(it.getTitle(), it.getDescription(), it.getPlace(), it.getPeriod()));
            m.put("errors", Map.of());
            Views.render(req, resp, 200, "item-form.ftlh", m);
            return;
        }
        show(req, resp, 200, it, "", Map.of());
    }

    private static void show(HttpServletRequest req, HttpServletResponse resp, int status, Item item,
                             String commentText, Map<String, String> errors) throws IOException {
        Map<String, Object> m = Views.model(req, resp);
        m.put("item", item);
        List<ItemComment> comments = Site.of(req.getServletContext()).items().comments(item.getId());
        m.put("comments", comments);
        CurrentUser u = Views.user(req);
        m.put("mine", u != null && u.id() == item.getOwnerId());
        m.put("commentText", commentText);
        m.put("errors", errors);
        Views.render(req, resp, status, "item.ftlh", m);
    }

    @Override
    protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException, ServletException {
        Optional<Target> t = target(req);
        if (t.isEmpty() || t.get().action().isEmpty()) {
            Views.notFound(req, resp);
            return;
        }
        if (Views.requireLogin(req, resp)) {
            return;
        }
        long id = t.get().id();
        long userId = Views.user(req).id();
        Items items = Site.of(req.getServletContext()).items();
        Outcome outcome;
        switch (t.get().action()) {
            case "comments" -> {
                String body = req.getParameter("body") == null ? "" : req.getParameter("body").strip();
                FieldErrors errors = new FieldErrors().text("body", "A comment", body, true, ItemComment.MAX_BODY);
                if (!errors.isEmpty()) {
                    Optional<Item> item = items.find(id);
                    if (item.isEmpty()) {
                        Views.notFound(req, resp);
                    } else {
                        show(req, resp, 400, item.get(), body, errors.asMap());
                    }
                    return;
                }
                outcome = items.comment(id, userId, body);
            }
            case "delete" -> outcome = items.delete(id, userId);
            default -> {
                ItemFields fields = ItemForms.fields(req);
                FieldErrors errors = fields.validate();
                Upload image = ItemForms.image(req, false, errors);
                if (!errors.isEmpty()) {
                    Optional<Item> item = items.find(id);
                    if (item.isEmpty()) {
                        Views.notFound(req, resp);
                    } else if (item.get().getOwnerId() != userId) {
                        Views.forbidden(req, resp, NOT_OWNER);
                    } else {
                        ItemForms.again(req, resp, id, fields, errors);
                    }
                    return;
                }
                outcome = items.update(id, userId, fields, image);
            }
        }
        switch (outcome) {
            case NOT_FOUND -> Views.notFound(req, resp);
            case NOT_OWNER -> Views.forbidden(req, resp, NOT_OWNER);
            case DONE -> resp.sendRedirect(req.getContextPath()
                    + (t.get().action().equals("delete") ? "/" : "/items/" + id));
        }
    }
}
