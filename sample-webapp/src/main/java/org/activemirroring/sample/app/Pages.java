package org.activemirroring.sample.app;

import java.io.IOException;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

import freemarker.template.Configuration;
import freemarker.template.TemplateException;
import freemarker.template.TemplateExceptionHandler;
import freemarker.template.TemplateMethodModelEx;
import freemarker.template.TemplateModel;
import freemarker.template.TemplateModelException;
import freemarker.template.utility.DeepUnwrap;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Server-rendered pages: FreeMarker templates ({@code src/main/resources/templates/*.ftlh}, HTML
 * auto-escaped) loaded from the class path. A template error is an exception (the error page
 * shows), never half a page with a stack trace in it.
 */
public final class Pages {
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")
            .withZone(ZoneOffset.UTC);

    private final Configuration cfg;

    public Pages() {
        cfg = new Configuration(Configuration.VERSION_2_3_34);
        cfg.setClassForTemplateLoading(Pages.class, "/templates");
        cfg.setDefaultEncoding("UTF-8");
        cfg.setOutputEncoding("UTF-8");
        cfg.setURLEscapingCharset("UTF-8");
        cfg.setTemplateExceptionHandler(TemplateExceptionHandler.RETHROW_HANDLER);
        cfg.setLogTemplateExceptions(false);
        cfg.setWrapUncheckedExceptions(true);
        cfg.setFallbackOnNullLoopVariable(false);
        cfg.setSharedVariable("when", (TemplateMethodModelEx) Pages::when);
    }

    /** {@code when(instant)} in a template: a short UTC date and time. */
    private static Object when(List<?> args) throws TemplateModelException {
        Object v = args.isEmpty() ? null : DeepUnwrap.unwrap((TemplateModel) args.get(0));
        return v instanceof Instant i ? DATE.format(i) : "";
    }

    /** Renders {@code template} with {@code model} as the whole response, with {@code status}. */
    public void render(HttpServletResponse resp, int status, String template, Map<String, Object> model)
            throws IOException {
        resp.setStatus(status);
        resp.setContentType("text/html;charset=UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        resp.setHeader("X-Content-Type-Options", "nosniff");
        try {
            // Into memory first: a failing template leaves the response untouched for the error page.
            StringWriter out = new StringWriter(4096);
            cfg.getTemplate(template).process(model, out);
            resp.getWriter().write(out.toString());
        } catch (TemplateException e) {
            throw new IOException("Page template " + template + " failed: " + e.getMessageWithoutStackTop(), e);
        }
    }
}
