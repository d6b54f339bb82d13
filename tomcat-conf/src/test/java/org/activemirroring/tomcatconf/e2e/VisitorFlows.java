package org.activemirroring.tomcatconf.e2e;

import static org.activemirroring.tomcatconf.e2e.SampleSite.base;
import static org.activemirroring.tomcatconf.e2e.SampleSite.browserAt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.SiteBrowser;
import org.activemirroring.tomcatconf.MirrorTomcat;

/**
 * What visitors do on a running network of sample-site mirrors, each step on another mirror than
 * the one before: register, log in, add items with images, read them, go on with a login made
 * elsewhere.
 */
final class VisitorFlows {
    private final List<MirrorTomcat> mirrors;

    VisitorFlows(List<MirrorTomcat> mirrors) {
        this.mirrors = mirrors;
    }

    /** A new browser with an account {@code name} registered (and so logged in) on {@code base}. */
    static SiteBrowser registered(String base, String name) throws IOException, InterruptedException {
        SiteBrowser b = browserAt(base);
        HttpResponse<String> r = b.post(base + "/register", Map.of("userName", name, "email", name + "@example.org",
                "password", name + "-password"));
        assertEquals(302, r.statusCode(), "registering " + name + " on " + base + ": " + r.body());
        assertTrue(b.get(base + "/").body().contains("Logged in as <b>" + name + "</b>"), name + " logged in on " + base);
        return b;
    }

    void run() throws Exception {
        String b1 = base(mirrors.get(0));
        String b2 = base(mirrors.get(1));
        String b3 = base(mirrors.get(2));
        SiteBrowser ana = registered(b1, "ana");
        SiteBrowser ben = registered(b2, "ben");

        // Ana logs in on mirror 3 with another browser, once her account arrived there.
        SiteBrowser anaOnThree = browserAt(b3);
        Await.until(SampleSiteMirrorsIT.REPLICATED, () -> anaOnThree.post(b3 + "/login", Map.of("userName", "ana",
                "password", "ana-password")).statusCode() == 302, () -> "ana cannot log in on mirror 3");

        // Items with real PNG and JPEG images, each added on another mirror, read on the two others.
        List<ItemLoad.Ack> items = List.of(
                add(ana, b1, "Loom weight", TestImages.png(1)),
                add(ben, b2, "Bronze brooch", TestImages.jpeg(2)),
                add(anaOnThree, b3, "Runestone rubbing", TestImages.png(3)),
                add(ben, b2, "Iron key", TestImages.png(4)));
        for (ItemLoad.Ack item : items) {
            for (MirrorTomcat m : mirrors) {
                ItemCheck.await(m, item, SampleSiteMirrorsIT.REPLICATED);
            }
        }

        // Ana's login was made on mirror 1 (at her registration); once its session row arrived on
        // mirror 2, she is logged in there too and comments on Ben's item there.
        Await.until(SampleSiteMirrorsIT.REPLICATED, () -> ana.get(b2 + "/").body().contains("Logged in as <b>ana</b>"),
                () -> "ana's session from mirror 1 does not work on mirror 2");
        long brooch = items.get(1).id();
        assertEquals(302, ana.post(b2 + "/items/" + brooch + "/comments", Map.of("body", "Lovely pin, from mirror 2."))
                .statusCode());
        Await.until(SampleSiteMirrorsIT.REPLICATED, () -> ana.get(b3 + "/items/" + brooch).body()
                .contains("Lovely pin, from mirror 2."), () -> "ana's comment is not on mirror 3");
        // Search finds an item on a mirror where it was not added.
        assertTrue(ben.get(b1 + "/search?q=runestone").body().contains("Runestone rubbing"));
    }

    private static ItemLoad.Ack add(SiteBrowser who, String base, String title, TestImages.Image image)
            throws IOException, InterruptedException {
        HttpResponse<String> r = who.postMultipart(base + "/new", Map.of("title", title, "description",
                title + ", added on " + base, "place", "Ribe", "period", "Viking Age"), "image", image.fileName(),
                image.bytes(), image.contentType());
        long id = SampleSite.createdItem(r).orElseThrow(() -> new AssertionError("adding '" + title + "' on " + base
                + ": HTTP " + r.statusCode() + " " + r.headers().map() + " " + r.body()));
        return new ItemLoad.Ack(id, title, image, base);
    }
}
