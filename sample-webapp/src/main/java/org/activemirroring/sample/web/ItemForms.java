package org.activemirroring.sample.web;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.Part;

import org.activemirroring.sample.FieldErrors;
import org.activemirroring.sample.item.ImageStore;
import org.activemirroring.sample.item.ImageType;
import org.activemirroring.sample.item.ItemFields;
import org.activemirroring.sample.item.Items.Upload;

/** Reading the item form (new and edit): its fields and its image, each checked. */
final class ItemForms {
    static final String IMAGE = "image";

    private ItemForms() {
    }

    static ItemFields fields(HttpServletRequest req) {
        return new ItemFields(req.getParameter("title"), req.getParameter("description"), req.getParameter("place"),
                req.getParameter("period"));
    }

    /**
     * The uploaded image, its type found from its first bytes; null when none was sent (an error
     * too when {@code required}). Problems go to {@code errors}.
     */
    static Upload image(HttpServletRequest req, boolean required, FieldErrors errors)
            throws IOException, ServletException {
        Part part = req.getPart(IMAGE);
        if (part == null || part.getSize() == 0) {
            if (required) {
                errors.add(IMAGE, "Choose an image (PNG, JPEG, GIF or WebP, at most "
                        + ImageStore.MAX_BYTES / (1024 * 1024) + " MiB).");
            }
            return null;
        }
        String name = part.getSubmittedFileName() == null ? "the file" : "'" + part.getSubmittedFileName() + "'";
        if (part.getSize() > ImageStore.MAX_BYTES) {
            errors.add(IMAGE, name + " has " + part.getSize() + " bytes; an image may have at most "
                    + ImageStore.MAX_BYTES / (1024 * 1024) + " MiB.");
            return null;
        }
        byte[] head;
        try (InputStream in = part.getInputStream()) {
            head = in.readNBytes(ImageType.SNIFF_BYTES);
        }
        ImageType type = ImageType.sniff(head).orElse(null);
        if (type == null) {
            errors.add(IMAGE, name + " is not a PNG, JPEG, GIF or WebP image.");
            return null;
        }
        return new Upload() {
            @Override
            public ImageType type() {
                return type;
            }

            @Override
            public InputStream open() throws IOException {
                return part.getInputStream();
            }
        };
    }

    /** Shows the form again with what was sent and what is wrong, with 400. */
    static void again(HttpServletRequest req, HttpServletResponse resp, Long itemId, ItemFields fields,
                      FieldErrors errors) throws IOException {
        Map<String, Object> m = Views.model(req, resp);
        m.put("itemId", itemId);
        m.put("fields", fields);
        m.put("errors", errors.asMap());
        Views.render(req, resp, 400, "item-form.ftlh", m);
    }
}
