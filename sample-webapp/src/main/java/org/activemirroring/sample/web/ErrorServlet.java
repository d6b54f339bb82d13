package org.activemirroring.sample.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code /error}: the page for any failure (web.xml's error pages point here), for example the
 * database being away. It says what happened in plain words and never shows a stack trace (the
 * container has logged it). Plain HTML, no template and no database, so it works when they fail.
 */
@WebServlet("/error")
public final class ErrorServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Object code = req.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        int status = code instanceof Integer i ? i : 500;
        String title;
        String text;
        if (status == 404) {
            title = "Not found";
            text = "There is no such page here.";
        } else if (status < 500) {
            title = "Request refused";
            text = "The request could not be handled (HTTP " + status + ").";
        } else {
            title = "Something went wrong";
            text = "The archive could not complete this request, perhaps because its database is not reachable"
                    + " right now. Nothing was half-saved. Please try again in a moment.";
        }
        resp.setStatus(status);
        resp.setContentType("text/html;charset=UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        String ctx = req.getContextPath();
        byte[] body = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + title
                + " - Community Heritage Archive</title></head><body><h1>" + title + "</h1><p>" + text
                + "</p><p><a href=\"" + ctx + "/\">Back to the archive</a></p></body></html>")
                .getBytes(StandardCharsets.UTF_8);
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }
}
