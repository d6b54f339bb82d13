package org.activemirroring.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.imageio.ImageIO;

import org.activemirroring.sample.account.PasswordHasher;
import org.activemirroring.site.LostWrite;
import org.activemirroring.site.MirrorSite;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.testsupport.SiteBrowser;
import org.junit.jupiter.api.Test;

/**
 * The sample site's bare WAR in two embedded Tomcats on one real PostgreSQL (the second stands in
 * for another mirror: same database, its own upload folder), driven over HTTP like a browser.
 */
class SampleSiteIT {
    private static final Path WAR = Path.of(System.getProperty("site.bare.war", "target/sample-webapp-bare.war"));
    private static final Pattern IMAGE = Pattern.compile("/images/(items/\\d+/[0-9a-f]{32}\\.png)");

    @Test
    void aVisitorRegistersAddsAnItemWithAnImageAndGoesOnOnAnotherMirror() throws Exception {
        assertTrue(Files.isRegularFile(WAR), "build the WAR first (mvn verify runs package before this): " + WAR);
        try (PostgresServers pgs = PostgresServers.start("site", 1)) {
            PgServer pg = pgs.get(0);
            Path work = PostgresServers.workDir().resolve("sample-site-" + System.nanoTime());
            try (SiteTomcat a = SiteTomcat.start(work.resolve("a"), pg, WAR);
                 SiteTomcat b = SiteTomcat.start(work.resolve("b"), pg, WAR)) {
                assertEquals(1, count(pg, "SELECT count(*) FROM flyway_schema_history WHERE success"),
                        "the second start found the migration done");
                run(pg, a, b);
            }
        }
    }

    private static void run(PgServer pg, SiteTomcat a, SiteTomcat b) throws Exception {
        SiteBrowser mara = new SiteBrowser();
        HttpResponse<String> home = mara.get(a.base + "/");
        assertEquals(200, home.statusCode());
        assertTrue(home.body().contains("No items yet"), home.body());
        assertEquals("ok\n", mara.get(a.base + "/trivial").body());

        // Registration: every problem named, then an account and a login.
        HttpResponse<String> bad = mara.post(a.base + "/register", Map.of("userName", "m a", "email", "nope",
                "password", "short"));
        assertEquals(400, bad.statusCode());
        assertTrue(bad.body().contains("may hold only letters") && bad.body().contains("is not an e-mail address")
                && bad.body().contains("at least 8 characters"), bad.body());
        HttpResponse<String> reg = mara.post(a.base + "/register", Map.of("userName", "Mara", "email", "mara@example.org",
                "password", "mara-password"));
        assertEquals(302, reg.statusCode(), reg.body());
        assertNotNull(mara.cookie("site_session"));
        assertTrue(reg.headers().allValues("Set-Cookie").stream().anyMatch(c -> c.startsWith("site_session=")
                && c.contains("HttpOnly") && c.contains("SameSite=Lax")), reg.headers().toString());
        assertTrue(mara.get(a.base + "/").body().contains("Logged in as <b>mara</b>"));
        HttpResponse<String> taken = new SiteBrowser().get(a.base + "/register");
        assertEquals(200, taken.statusCode());

        // A new item with a real PNG.
        byte[] png = png(Color.ORANGE);
        HttpResponse<String> created = mara.postMultipart(a.base + "/new", Map.of("title", "Loom Weight",
                "description", "A pierced clay weight from a warp-weighted loom.", "place", "Ribe", "period", "Viking Age"),
                "image", "weight.png", png, "image/png", true);
        assertEquals(302, created.statusCode(), created.body());
        String itemUrl = created.headers().firstValue("Location").orElseThrow();
        assertTrue(itemUrl.matches(".*/items/\\d+"), itemUrl);
        long itemId = Long.parseLong(itemUrl.substring(itemUrl.lastIndexOf('/') + 1));
        String itemPath = "/items/" + itemId;
        HttpResponse<String> page = mara.get(a.base + itemPath);
        assertEquals(200, page.statusCode());
        assertTrue(page.body().contains("Loom Weight") && page.body().contains("Viking Age"), page.body());
        Matcher img = IMAGE.matcher(page.body());
        assertTrue(img.find(), page.body());
        String imagePath = img.group(1);
        HttpResponse<byte[]> image = mara.getBytes(a.base + "/images/" + imagePath);
        assertEquals(200, image.statusCode());
        assertArrayEquals(png, image.body());
        assertEquals("image/png", image.headers().firstValue("Content-Type").orElse(""));
        assertTrue(image.headers().firstValue("Cache-Control").orElse("").contains("max-age=31536000"));
        assertTrue(Files.isRegularFile(a.uploads.resolve(imagePath)), "stored under the upload folder");
        try (var files = Files.walk(a.uploads)) {
            assertFalse(files.anyMatch(f -> f.getFileName().toString().startsWith(".am-tmp-")), "no temp file left");
        }

        // Comments, validated.
        assertEquals(400, mara.post(a.base + itemPath + "/comments", Map.of("body", "  ")).statusCode());
        assertEquals(302, mara.post(a.base + itemPath + "/comments", Map.of("body", "Found near the hearth.")).statusCode());
        assertTrue(mara.get(a.base + itemPath).body().contains("Found near the hearth."));

        // Search, in any case; bad input gets a message.
        assertTrue(mara.get(a.base + "/search?q=loom+WEIGHT").body().contains("Loom Weight"));
        assertTrue(mara.get(a.base + "/search?q=CLAY").body().contains("Loom Weight"), "description too");
        assertTrue(mara.get(a.base + "/search?q=50%25").body().contains("No item matches"), "% is literal");
        assertEquals(400, mara.get(a.base + "/search?q=").statusCode());
        assertEquals(400, mara.get(a.base + "/?page=zero").statusCode());

        // Bad uploads and forms are refused with a message, and nothing is stored.
        HttpResponse<String> notImage = mara.postMultipart(a.base + "/new", Map.of("title", "Letter",
                "description", "x"), "image", "letter.png", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>"
                .getBytes(), "image/png", true);
        assertEquals(400, notImage.statusCode());
        assertTrue(notImage.body().contains("&#39;letter.png&#39; is not a PNG, JPEG, GIF or WebP image")
                || notImage.body().contains("'letter.png' is not a PNG, JPEG, GIF or WebP image"), notImage.body());
        HttpResponse<String> noTitle = mara.postMultipart(a.base + "/new", Map.of("title", " ", "description", "x"),
                "image", "w.png", png, "image/png", true);
        assertEquals(400, noTitle.statusCode());
        assertTrue(noTitle.body().contains("Title is required."), noTitle.body());
        assertEquals(1, count(pg, "SELECT count(*) FROM item"));

        // CSRF: a POST without the token, or with another, is refused.
        HttpResponse<String> forged = mara.postRaw(a.base + itemPath + "/delete", Map.of());
        assertEquals(403, forged.statusCode());
        assertTrue(forged.body().contains("security token"), forged.body());
        assertEquals(403, mara.postRaw(a.base + itemPath + "/comments",
                Map.of("body", "x", "_csrf", "A".repeat(43))).statusCode());
        assertEquals(403, mara.postMultipart(a.base + "/new", Map.of("title", "t", "description", "d"), "image",
                "w.png", png, "image/png", false).statusCode());
        assertEquals(1, count(pg, "SELECT count(*) FROM item"));

        // Another mirror: the same login goes on there; the image comes through the mirror's on-demand read.
        assertTrue(mara.get(b.base + "/").body().contains("Logged in as <b>mara</b>"), "session from the database");
        assertEquals(404, mara.getBytes(b.base + "/images/" + imagePath).statusCode(), "not on b, and no mirror");
        FakeMirror mirrorB = new FakeMirror("mirror-b", "uploads", a.uploads);
        b.servletContext().setAttribute(MirrorSite.ATTRIBUTE, mirrorB);
        HttpResponse<byte[]> fetched = mara.getBytes(b.base + "/images/" + imagePath);
        assertEquals(200, fetched.statusCode());
        assertArrayEquals(png, fetched.body());
        assertEquals(List.of(imagePath), mirrorB.reads);
        assertEquals(404, mara.getBytes(b.base + "/images/items/" + itemId + "/" + "0".repeat(32) + ".png").statusCode());
        assertEquals(404, mara.getBytes(b.base + "/images/../WEB-INF/web.xml").statusCode());

        // Someone else may not change or delete it.
        SiteBrowser ben = new SiteBrowser();
        ben.get(b.base + "/register");
        assertEquals(302, ben.post(b.base + "/register", Map.of("userName", "ben", "email", "ben@example.org",
                "password", "ben-password")).statusCode());
        assertEquals(403, ben.post(b.base + itemPath + "/delete", Map.of()).statusCode());
        assertEquals(403, ben.get(b.base + itemPath + "/edit").statusCode());
        assertEquals(403, ben.postMultipart(b.base + itemPath + "/edit", Map.of("title", "Mine now",
                "description", "d"), null, null, null, null, true).statusCode());
        assertFalse(ben.get(b.base + itemPath).body().contains("Mine now"));
        HttpResponse<String> dup = ben.post(b.base + "/register", Map.of("userName", "mara", "email", "x@example.org",
                "password", "another-password"));
        assertEquals(400, dup.statusCode());
        assertTrue(dup.body().contains("The user name &#39;mara&#39; is taken")
                || dup.body().contains("The user name 'mara' is taken"), dup.body());

        // The owner edits on mirror b and deletes on mirror a.
        assertEquals(302, mara.postMultipart(b.base + itemPath + "/edit", Map.of("title", "Loom weight (clay)",
                "description", "Pierced clay weight.", "place", "Ribe", "period", "9th century"), null, null, null, null,
                true).statusCode());
        assertTrue(mara.get(a.base + itemPath).body().contains("Loom weight (clay)"));
        assertEquals(302, mara.post(a.base + itemPath + "/delete", Map.of()).statusCode());
        assertEquals(404, mara.get(a.base + itemPath).statusCode());
        assertFalse(Files.exists(a.uploads.resolve(imagePath)), "the image went with its item");
        assertEquals(0, count(pg, "SELECT count(*) FROM item_comment"));

        // Paging.
        try (Connection c = pg.connect(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO item (owner_id, title, description, place, period, created_at, updated_at)"
                    + " SELECT (SELECT id FROM account WHERE user_name = 'mara'), 'Coin ' || g, 'Silver', '', '',"
                    + " now() - g * interval '1 minute', now() FROM generate_series(1, 11) g");
        }
        HttpResponse<String> first = mara.get(a.base + "/");
        assertTrue(first.body().contains("Coin 10") && !first.body().contains("Coin 11") && first.body().contains("page=2"));
        assertTrue(mara.get(a.base + "/?page=2").body().contains("Coin 11"));

        // Logout on a ends the session on b too.
        assertEquals(302, mara.post(a.base + "/logout", Map.of()).statusCode());
        assertNull(mara.cookie("site_session"));
        assertEquals(0, count(pg, "SELECT count(*) FROM user_session s JOIN account a ON a.id = s.account_id"
                + " WHERE a.user_name = 'mara'"));
        assertFalse(mara.get(b.base + "/").body().contains("Logged in as"));
        assertEquals(302, mara.post(b.base + "/login", Map.of("userName", "mara", "password", "mara-password")).statusCode());
        assertEquals(401, mara.post(a.base + "/login", Map.of("userName", "mara", "password", "wrong-password")).statusCode());

        lostRegistrationIsRestored(pg, a);
        databaseErrorsGetAFriendlyPage(pg, a);

        // Login state lives in the database, never in a container session.
        for (SiteBrowser br : List.of(mara, ben)) {
            assertNull(br.cookie("JSESSIONID"));
        }
    }

    /** The mirror tells the site (through the listener it registered) that a registration of "mara" lost. */
    private static void lostRegistrationIsRestored(PgServer pg, SiteTomcat a) throws Exception {
        FakeMirror mirrorA = new FakeMirror("mirror-a", "uploads", a.uploads);
        a.servletContext().setAttribute(MirrorSite.ATTRIBUTE, mirrorA);
        assertNotNull(mirrorA.listener, "the site registered its listener when the mirror appeared");
        String hash = new PasswordHasher(PasswordHasher.DEFAULT_ITERATIONS, new SecureRandom()).hash("loser-password");
        String row = "{\"id\":\"990001\",\"user_name\":\"mara\",\"email\":\"other.mara@example.org\",\"password_hash\":\""
                + hash.replace("\\", "\\\\") + "\",\"created_at\":\"2026-12-06 10:00:00.123+00\"}";
        LostWrite lost = new LostWrite(41, Instant.now(), "unique", "public.account", Map.of("id", "990001"), row,
                "{\"id\":\"1\",\"user_name\":\"mara\"}", "mirror-b");
        mirrorA.listener.lost(lost);
        mirrorA.listener.lost(lost);
        assertEquals(1, count(pg, "SELECT count(*) FROM account WHERE id = 990001 AND user_name = 'mara-2'"
                + " AND email = 'other.mara@example.org'"), "restored once, under the first free name, with its id");
        assertEquals(1, count(pg, "SELECT count(*) FROM restored_account"));

        SiteBrowser other = new SiteBrowser();
        other.get(a.base + "/login");
        HttpResponse<String> in = other.post(a.base + "/login", Map.of("userName", "mara", "password", "loser-password"));
        assertEquals(200, in.statusCode(), in.body());
        assertTrue(in.body().contains("Your user name mara was taken at the same moment on another mirror;"
                + " your account is now mara-2."), in.body());
        assertTrue(other.get(a.base + "/").body().contains("Logged in as <b>mara-2</b>"));
        assertEquals(302, other.post(a.base + "/login", Map.of("userName", "mara-2", "password", "loser-password"))
                .statusCode(), "told once; the new name works");

        a.servletContext().removeAttribute(MirrorSite.ATTRIBUTE);
        assertTrue(mirrorA.closed, "the listener is closed when the mirror goes");
    }

    private static void databaseErrorsGetAFriendlyPage(PgServer pg, SiteTomcat a) throws Exception {
        try (Connection c = pg.connect(); Statement st = c.createStatement()) {
            st.execute("ALTER TABLE item RENAME TO item_away");
            try {
                HttpResponse<String> r = new SiteBrowser().get(a.base + "/");
                assertEquals(500, r.statusCode());
                assertTrue(r.body().contains("Something went wrong"), r.body());
                for (String leak : List.of("Exception", "at org.", "item_away", "SQL")) {
                    assertFalse(r.body().contains(leak), "the page shows '" + leak + "': " + r.body());
                }
            } finally {
                st.execute("ALTER TABLE item_away RENAME TO item");
            }
        }
        assertEquals(200, new SiteBrowser().get(a.base + "/").statusCode());
    }

    private static byte[] png(Color color) throws Exception {
        BufferedImage img = new BufferedImage(16, 12, BufferedImage.TYPE_INT_RGB);
        for (int x = 0; x < 16; x++) {
            for (int y = 0; y < 12; y++) {
                img.setRGB(x, y, (x + y) % 2 == 0 ? color.getRGB() : Color.DARK_GRAY.getRGB());
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, "png", out));
        return out.toByteArray();
    }

    private static long count(PgServer pg, String sql) throws Exception {
        try (Connection c = pg.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
