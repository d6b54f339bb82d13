package org.activemirroring.sample.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code /trivial}: a fixed short text, no database, no template. The filter-overhead benchmark's
 * "trivial servlet", beside the item page.
 */
@WebServlet("/trivial")
public final class TrivialServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final byte[] BODY = "ok\n".getBytes(StandardCharsets.US_ASCII);

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        resp.setContentType("text/plain;charset=US-ASCII");
        resp.setContentLength(BODY.length);
        resp.getOutputStream().write(BODY);
    }
}
