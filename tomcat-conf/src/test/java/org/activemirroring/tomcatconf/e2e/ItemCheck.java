package org.activemirroring.tomcatconf.e2e;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;

import org.activemirroring.testsupport.Await;
import org.activemirroring.tomcatconf.MirrorTomcat;

/**
 * Whether one mirror has an item whole: its page answers 200 with its title and image, the image
 * is served with the uploaded bytes, and the file is in the mirror's own upload folder with those
 * bytes (not only readable through the mirror's on-demand read).
 */
final class ItemCheck {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private ItemCheck() {
    }

    /** Waits until {@link #problem} finds none on {@code m}. */
    static void await(MirrorTomcat m, ItemLoad.Ack item, Duration timeout) {
        String[] last = {""};
        Await.until(timeout, () -> {
            last[0] = problem(m, item);
            return last[0] == null;
        }, () -> last[0]);
    }

    /** What is missing or wrong of {@code item} on {@code m}, or null when it is all there. */
    static String problem(MirrorTomcat m, ItemLoad.Ack item) throws IOException, InterruptedException {
        String where = "item " + item.id() + " '" + item.title() + "' on " + m.tomcat().name() + ": ";
        String base = SampleSite.base(m);
        HttpResponse<String> page = HTTP.send(get(base + "/items/" + item.id()), HttpResponse.BodyHandlers.ofString());
        if (page.statusCode() != 200 || !page.body().contains(item.title())) {
            return where + "page HTTP " + page.statusCode();
        }
        Optional<String> path = SampleSite.imagePath(page.body());
        if (path.isEmpty()) {
            return where + "its page shows no image: " + page.body();
        }
        HttpResponse<byte[]> image = HTTP.send(get(base + "/images/" + path.get()), HttpResponse.BodyHandlers.ofByteArray());
        if (image.statusCode() != 200 || !Arrays.equals(item.image().bytes(), image.body())) {
            return where + "image " + path.get() + " HTTP " + image.statusCode() + ", " + image.body().length
                    + " bytes, uploaded " + item.image().bytes().length;
        }
        Path file = m.uploadDir().resolve(path.get());
        if (!Files.isRegularFile(file) || !Arrays.equals(item.image().bytes(), Files.readAllBytes(file))) {
            return where + "file " + file + (Files.isRegularFile(file) ? " differs" : " is missing");
        }
        return null;
    }

    private static HttpRequest get(String url) {
        return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).GET().build();
    }
}
