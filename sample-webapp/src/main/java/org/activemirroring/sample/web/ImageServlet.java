package org.activemirroring.sample.web;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import org.activemirroring.sample.app.Site;
import org.activemirroring.sample.item.ImageStore;
import org.activemirroring.sample.item.ImageType;
import org.activemirroring.site.MirrorSite;

/**
 * {@code /images/items/<id>/<name>.<ext>}: an item's image. From this mirror's upload folder when
 * it is there; else, when the site runs in a mirror, through the mirror's on-demand read (an item
 * whose row arrived before its file), waiting at most {@link #MAX_WAIT}; else 404. Image names are
 * random and never reused, so browsers may keep them for a year.
 */
@WebServlet("/images/*")
public final class ImageServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    /** How long a page's image may wait for the mirror to fetch it from a peer. */
    static final Duration MAX_WAIT = Duration.ofSeconds(5);

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String info = req.getPathInfo();
        String path = info == null ? "" : info.substring(1);
        if (!ImageStore.isValidPath(path)) {
            resp.sendError(404);
            return;
        }
        Site site = Site.of(req.getServletContext());
        Optional<Path> file = site.images().local(path);
        if (file.isEmpty()) {
            file = fromMirror(req, site, path);
        }
        if (file.isEmpty()) {
            resp.sendError(404);
            return;
        }
        ImageType type = ImageType.ofExtension(path.substring(path.lastIndexOf('.') + 1)).orElseThrow();
        try {
            long size = Files.size(file.get());
            resp.setContentType(type.contentType());
            resp.setContentLengthLong(size);
            resp.setHeader("Cache-Control", "public, max-age=31536000, immutable");
            resp.setHeader("X-Content-Type-Options", "nosniff");
            resp.setDateHeader("Last-Modified", Files.getLastModifiedTime(file.get()).toMillis());
            Files.copy(file.get(), resp.getOutputStream());
        } catch (NoSuchFileException e) {
            // Deleted between the look and the read (its item was deleted).
            if (!resp.isCommitted()) {
                resp.reset();
                resp.sendError(404);
            }
        }
    }

    private static Optional<Path> fromMirror(HttpServletRequest req, Site site, String path) throws IOException {
        Optional<MirrorSite> mirror = MirrorSite.of(req.getServletContext());
        if (mirror.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(mirror.get().openFile(site.config().uploadFolderName(), path, MAX_WAIT));
        } catch (FileNotFoundException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("Interrupted while waiting for image " + path + " from another mirror", e);
        }
    }
}
