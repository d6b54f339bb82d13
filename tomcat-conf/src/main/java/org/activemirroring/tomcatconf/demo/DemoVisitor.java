package org.activemirroring.tomcatconf.demo;

import java.awt.Color;
import java.awt.image.BufferedImage;
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
import java.util.stream.Collectors;

import javax.imageio.ImageIO;

/**
 * The demo's own first visit, as a person in a browser would make it: registers an account on one
 * mirror and adds an item with an image there, so that there is something replicated to watch and
 * to open on the other mirrors. Plain HTTP against the site's forms (its CSRF cookie and field
 * included); redirects are not followed, so the item's address comes from the Location header.
 */
final class DemoVisitor {
    /** The demo account's name and password, printed so the user can log in on any mirror. */
    static final String USER = "demo";
    static final String PASSWORD = "demo-password";

    private final CookieManager cookies = new CookieManager(null, CookiePolicy.ACCEPT_ALL);
    private final HttpClient http = HttpClient.newBuilder().cookieHandler(cookies)
            .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    /** @param base the site's URL on one mirror, without a trailing slash */
    DemoVisitor(String base) {
        this.base = base;
    }

    /**
     * Registers {@link #USER} and adds an item with a generated PNG; returns the item's URL path
     * ({@code /items/<id>}).
     *
     * @throws IOException when a page answers other than a browser would expect, with its status and body
     */
    String registerAndAddItem() throws IOException, InterruptedException {
        expect(200, get("/register"), "the registration page");
        expect(302, postForm("/register", Map.of("userName", USER, "email", "demo@example.org", "password", PASSWORD)),
                "registering '" + USER + "'");
        HttpResponse<String> created = postItem(Map.of("title", "Loom weight",
                "description", "A pierced clay weight from a warp-weighted loom, added by the demo on one mirror.",
                "place", "Ribe", "period", "Viking Age"), "loom-weight.png", png());
        expect(302, created, "adding an item");
        String location = created.headers().firstValue("Location")
                .orElseThrow(() -> new IOException("adding an item answered 302 without a Location header"));
        return URI.create(location).getPath();
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> postForm(String path, Map<String, String> fields) throws IOException, InterruptedException {
        Map<String, String> all = new LinkedHashMap<>(fields);
        all.put("_csrf", csrf());
        String body = all.entrySet().stream().map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
                .collect(Collectors.joining("&"));
        return http.send(request(path).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> postItem(Map<String, String> fields, String fileName, byte[] image)
            throws IOException, InterruptedException {
        String boundary = "----demo" + UUID.randomUUID();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Map<String, String> all = new LinkedHashMap<>(fields);
        all.put("_csrf", csrf());
        for (Map.Entry<String, String> f : all.entrySet()) {
            out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.getKey() + "\"\r\n\r\n"
                    + f.getValue() + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        out.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" + fileName
                + "\"\r\nContent-Type: image/png\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        out.writeBytes(image);
        out.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return http.send(request("/new").header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(out.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String csrf() throws IOException {
        return cookies.getCookieStore().getCookies().stream().filter(c -> c.getName().equals("site_csrf"))
                .map(HttpCookie::getValue).findFirst()
                .orElseThrow(() -> new IOException("the site set no CSRF cookie (site_csrf) on its registration page"));
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    }

    private static void expect(int status, HttpResponse<String> r, String what) throws IOException {
        if (r.statusCode() != status) {
            String body = r.body().replaceAll("\\s+", " ");
            throw new IOException(what + " answered HTTP " + r.statusCode() + " instead of " + status + ": "
                    + (body.length() > 300 ? body.substring(0, 300) + "..." : body));
        }
    }

    /** A small checkered PNG (64 x 48), made here so the demo needs no image file. */
    static byte[] png() throws IOException {
        BufferedImage img = new BufferedImage(64, 48, BufferedImage.TYPE_INT_RGB);
        Color clay = new Color(0xB5, 0x65, 0x1D);
        for (int x = 0; x < 64; x++) {
            for (int y = 0; y < 48; y++) {
                img.setRGB(x, y, ((x / 8) + (y / 8)) % 2 == 0 ? clay.getRGB() : Color.DARK_GRAY.getRGB());
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(img, "png", out)) {
            throw new IOException("this JDK has no PNG writer (javax.imageio)");
        }
        return out.toByteArray();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
