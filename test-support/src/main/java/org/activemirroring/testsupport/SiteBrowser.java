package org.activemirroring.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.CookieManager;
import java.net.CookiePolicy;
import java.net.HttpCookie;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

/**
 * One visitor's browser on the sample site, for tests: java.net.http with its own cookie jar.
 * Cookies are kept per host, not per port, so a browser sends its login and CSRF cookies to every
 * mirror on 127.0.0.1, as a visitor whose load balancer moves them to another mirror would.
 * Redirects are not followed, so the tests see them. Forms carry the browser's CSRF token (the
 * sample site's double-submit cookie {@value #CSRF_COOKIE}) unless sent raw.
 */
public final class SiteBrowser {
    /** The sample site's CSRF cookie, whose value forms repeat in their {@code _csrf} field. */
    public static final String CSRF_COOKIE = "site_csrf";

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
    private final HttpClient http = HttpClient.newBuilder().cookieHandler(cookies)
            .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();

    public HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(request(url).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<byte[]> getBytes(String url) throws IOException, InterruptedException {
        return http.send(request(url).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** A form POST with this browser's CSRF token. */
    public HttpResponse<String> post(String url, Map<String, String> form) throws IOException, InterruptedException {
        return http.send(formRequest(url, withCsrf(form)), HttpResponse.BodyHandlers.ofString());
    }

    /** {@link #post}, sent without waiting for the answer. */
    public CompletableFuture<HttpResponse<String>> postAsync(String url, Map<String, String> form) {
        return http.sendAsync(formRequest(url, withCsrf(form)), HttpResponse.BodyHandlers.ofString());
    }

    /** A form POST exactly as given (no CSRF token added). */
    public HttpResponse<String> postRaw(String url, Map<String, String> form) throws IOException, InterruptedException {
        return http.send(formRequest(url, form), HttpResponse.BodyHandlers.ofString());
    }

    /** A multipart POST of {@code fields} and the CSRF token with one file in {@code fileField}. */
    public HttpResponse<String> postMultipart(String url, Map<String, String> fields, String fileField, String fileName,
                                              byte[] content, String contentType) throws IOException, InterruptedException {
        return postMultipart(url, fields, fileField, fileName, content, contentType, true);
    }

    /**
     * A multipart POST of {@code fields} (and the CSRF token when {@code withCsrf}) with one file
     * in {@code fileField}, or none when {@code fileField} is null.
     */
    public HttpResponse<String> postMultipart(String url, Map<String, String> fields, String fileField, String fileName,
                                              byte[] content, String contentType, boolean withCsrf)
            throws IOException, InterruptedException {
        String boundary = "----test" + UUID.randomUUID();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Map<String, String> all = withCsrf ? withCsrf(fields) : fields;
        for (Map.Entry<String, String> f : all.entrySet()) {
            out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.getKey()
                    + "\"\r\n\r\n" + f.getValue() + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        if (fileField != null) {
            out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + fileField
                    + "\"; filename=\"" + fileName + "\"\r\nContent-Type: " + contentType + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.writeBytes(content);
            out.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        }
        out.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return http.send(request(url).header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(out.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The value of this browser's cookie {@code name}, or null. */
    public String cookie(String name) {
        return cookies.getCookieStore().getCookies().stream().filter(c -> c.getName().equals(name))
                .map(HttpCookie::getValue).findFirst().orElse(null);
    }

    private Map<String, String> withCsrf(Map<String, String> form) {
        String token = cookie(CSRF_COOKIE);
        if (token == null) {
            throw new IllegalStateException("This browser has no CSRF cookie yet: open a page of the site first");
        }
        Map<String, String> all = new LinkedHashMap<>(form);
        all.put("_csrf", token);
        return all;
    }

    private static HttpRequest formRequest(String url, Map<String, String> form) {
        String body = form.entrySet().stream().map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
                .collect(Collectors.joining("&"));
        return request(url).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static HttpRequest.Builder request(String url) {
        return HttpRequest.newBuilder(URI.create(url)).timeout(TIMEOUT);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
