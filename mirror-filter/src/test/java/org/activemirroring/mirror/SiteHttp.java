package org.activemirroring.mirror;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/** Small static helpers for the tests that run the filter in Tomcat: the filter, HTTP calls, config files, threads. */
final class SiteHttp {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private SiteHttp() {
    }

    static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(TIMEOUT).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** With HTTP Basic credentials. */
    static HttpResponse<String> get(String url, String user, String password) throws IOException, InterruptedException {
        String token = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Basic " + token)
                .timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(TIMEOUT)
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A POST with HTTP Basic credentials. */
    static HttpResponse<String> post(String url, String user, String password) throws IOException, InterruptedException {
        String token = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Basic " + token)
                .timeout(TIMEOUT).POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The body, or what went wrong fetching it (for failure messages, which cannot throw). */
    static String body(String url) {
        try {
            return get(url).body();
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e.toString();
        }
    }

    /** Writes {@code settings} as a properties file (backslashes escaped) and returns its path. */
    static Path writeProperties(Path file, Map<String, String> settings) throws IOException {
        Files.createDirectories(file.getParent());
        StringBuilder sb = new StringBuilder();
        settings.forEach((k, v) -> sb.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
        Files.writeString(file, sb.toString());
        return file;
    }

    /** Declares MirrorFilter on {@code ctx} for every path, as a site's web.xml does, reading {@code config}. */
    static void declareMirrorFilter(org.apache.catalina.Context ctx, Path config) {
        org.apache.tomcat.util.descriptor.web.FilterDef def = new org.apache.tomcat.util.descriptor.web.FilterDef();
        def.setFilterName("mirror");
        def.setFilterClass(MirrorFilter.class.getName());
        def.addInitParameter(MirrorFilter.CONFIG_FILE_PARAM, config.toString());
        ctx.addFilterDef(def);
        org.apache.tomcat.util.descriptor.web.FilterMap map = new org.apache.tomcat.util.descriptor.web.FilterMap();
        map.setFilterName("mirror");
        map.addURLPattern("/*");
        ctx.addFilterMap(map);
    }

    /** Names of live threads starting with {@code prefix}. */
    static List<String> liveThreads(String prefix) {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith(prefix)).toList();
    }
}
