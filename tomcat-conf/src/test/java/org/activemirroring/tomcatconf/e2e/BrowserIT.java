package org.activemirroring.tomcatconf.e2e;

import static org.activemirroring.tomcatconf.e2e.SampleSite.base;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.imageio.ImageIO;

import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.testsupport.SiteBrowser;
import org.activemirroring.tomcatconf.MirrorTomcat;
import org.junit.jupiter.api.Test;

/**
 * What a visitor sees: an item with its image uploaded on mirror 1 (a real Tomcat with the sample
 * site), opened on mirror 2 in a headless Chromium. The DOM shows the item's title and an
 * {@code <img>} whose source mirror 2 serves with the uploaded bytes, and the screenshot (kept as
 * {@code target/item-page.png}) shows the image's colour. Then mirror 2's admin dashboard, in
 * Chromium too (screenshot {@code target/dashboard.png}). Runs only with {@code -Dbrowser=true}
 * and needs Debian's {@code chromium} ({@code apt-get install -y chromium}).
 */
class BrowserIT {
    private static final Path SCREENSHOT = Path.of("target", "item-page.png");
    private static final Color IMAGE_COLOUR = new Color(0xC8, 0x28, 0x7D);
    private static final Pattern IMG = Pattern.compile("<img[^>]*\\ssrc=\"([^\"]+)\"");
    private static final Path DASHBOARD_SCREENSHOT = Path.of("target", "dashboard.png");
    private static final String ADMIN_PASSWORD = java.util.UUID.randomUUID().toString();
    private static final String ADMIN_HASH = org.activemirroring.mirror.AdminPassword.hashOf(
            ADMIN_PASSWORD.toCharArray());

    @Test
    void anItemUploadedOnOneMirrorShowsInChromiumOnAnother() throws Exception {
        Path work = Files.createDirectories(PostgresServers.workDir().resolve("browser-" + System.nanoTime()));
        Chromium chromium = Chromium.find(work.resolve("chromium"));
        List<MirrorTomcat> mirrors = new ArrayList<>();
        try (PostgresServers pgs = PostgresServers.start("browser", 2)) {
            List<Map<String, String>> settings = new ArrayList<>();
            for (Map<String, String> m : MirrorSettings.forServers("browser", pgs.servers())) {
                Map<String, String> withAdmin = new java.util.LinkedHashMap<>(m);
                withAdmin.put("mirror.admin.password-hash", ADMIN_HASH);
                settings.add(withAdmin);
            }
            for (int i = 0; i < 2; i++) {
                mirrors.add(SampleSite.mirror("browser-" + (i + 1), work.resolve("m" + (i + 1)), pgs.get(i),
                        settings.get(i)));
            }
            try {
                mirrors.get(0).start();
                SampleSite.awaitReady(mirrors.get(0));
                mirrors.get(1).start();
                SampleSite.awaitReady(mirrors.get(1));
                check(chromium, mirrors.get(0), mirrors.get(1));
                checkDashboard(chromium, mirrors.get(1));
            } finally {
                MirrorCloser.closeAll(mirrors);
            }
        }
    }

    private static void check(Chromium chromium, MirrorTomcat one, MirrorTomcat two) throws Exception {
        String title = "Carved antler comb";
        byte[] png = solidPng(IMAGE_COLOUR, 320, 200);
        SiteBrowser visitor = VisitorFlows.registered(base(one), "dora");
        HttpResponse<String> created = visitor.postMultipart(base(one) + "/new", Map.of("title", title,
                "description", "A double-sided comb with ring-and-dot ornament.", "place", "Birka", "period",
                "10th century"), "image", "comb.png", png, "image/png");
        long id = SampleSite.createdItem(created).orElseThrow(() -> new AssertionError("adding the item on mirror 1: HTTP "
                + created.statusCode() + " " + created.body()));
        ItemCheck.await(two, new ItemLoad.Ack(id, title, new TestImages.Image(png, "comb.png", "image/png"), base(one)),
                SampleSiteMirrorsIT.REPLICATED);

        String url = base(two) + "/items/" + id;
        String dom = chromium.dumpDom(url);
        assertTrue(dom.contains(title), "the page in chromium shows the title: " + dom);
        Matcher img = IMG.matcher(dom);
        assertTrue(img.find(), "the page has an <img>: " + dom);
        String src = img.group(1);
        assertTrue(src.matches("/" + SampleSite.CONTEXT + "/images/items/" + id + "/[0-9a-f]{32}\\.png"), src);
        HttpResponse<byte[]> image = new SiteBrowser().getBytes(two.url(src));
        assertEquals(200, image.statusCode(), "mirror 2 serves " + src);
        assertArrayEquals(png, image.body());

        chromium.screenshot(url, SCREENSHOT, 1280, 900);
        BufferedImage shot = ImageIO.read(SCREENSHOT.toFile());
        assertEquals(1280, shot.getWidth());
        assertEquals(900, shot.getHeight());
        long coloured = countNear(shot, IMAGE_COLOUR);
        assertTrue(coloured > 320L * 200 / 2, "the screenshot " + SCREENSHOT.toAbsolutePath() + " shows the image ("
                + coloured + " pixels of its colour)");
    }

    /**
     * Mirror 2's dashboard in Chromium, logged in as the admin: both mirrors ready, the site
     * survives losing either (every table and folder held by both), the chart drawn; and a
     * screenshot of it kept as {@code target/dashboard.png}.
     */
    private static void checkDashboard(Chromium chromium, MirrorTomcat two) throws Exception {
        String url = base(two).replace("http://", "http://admin:" + ADMIN_PASSWORD + "@") + "/_mirror/";
        String[] dom = new String[1];
        org.activemirroring.testsupport.Await.until(java.time.Duration.ofSeconds(120), () -> {
            dom[0] = chromium.dumpDomAfterScripts(url, 6000);
            return dom[0].contains("id=\"banner\" class=\"ok\"");
        }, () -> "the dashboard never said the site survives losing either mirror: " + dom[0]);
        String page = dom[0];
        assertTrue(page.contains("data-loaded=\"true\""), page);
        for (String m : List.of("browser-1", "browser-2")) {
            assertTrue(page.contains("data-mirror=\"" + m + "\""), m + " in the mirrors table: " + page);
        }
        assertTrue(page.contains("data-item=\"table:public.item\""), "survivability of the items table: " + page);
        assertTrue(page.contains("data-item=\"folder:"), "survivability of the upload folder: " + page);
        assertTrue(page.contains("2 of 2 (browser-1, browser-2)"), page);
        assertTrue(page.contains("<polyline"), "the lag chart has its lines: " + page);
        assertTrue(!page.contains(">loses writes<"), page);

        chromium.screenshot(url, DASHBOARD_SCREENSHOT, 1400, 1100, 6000);
        BufferedImage shot = ImageIO.read(DASHBOARD_SCREENSHOT.toFile());
        assertEquals(1400, shot.getWidth());
        long green = countNear(shot, new Color(0xDA, 0xFB, 0xE1)); // the "survives" banner's background
        assertTrue(green > 10_000, "the screenshot " + DASHBOARD_SCREENSHOT.toAbsolutePath() + " shows the green"
                + " banner (" + green + " pixels)");
    }

    private static long countNear(BufferedImage img, Color c) {
        long n = 0;
        for (int x = 0; x < img.getWidth(); x++) {
            for (int y = 0; y < img.getHeight(); y++) {
                Color p = new Color(img.getRGB(x, y));
                if (Math.abs(p.getRed() - c.getRed()) + Math.abs(p.getGreen() - c.getGreen())
                        + Math.abs(p.getBlue() - c.getBlue()) < 24) {
                    n++;
                }
            }
        }
        return n;
    }

    private static byte[] solidPng(Color c, int width, int height) throws Exception {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int x = 0; x < width; x++) {
            for (int y = 0; y < height; y++) {
                img.setRGB(x, y, c.getRGB());
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, "png", out));
        return out.toByteArray();
    }
}
