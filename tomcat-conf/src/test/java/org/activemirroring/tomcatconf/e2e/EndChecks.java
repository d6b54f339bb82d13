package org.activemirroring.tomcatconf.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.activemirroring.testsupport.SiteSql;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.tomcatconf.MirrorTomcat;

/**
 * How a network of sample-site mirrors must end once writes stopped: the same tables with the
 * same rows everywhere, the same upload folder everywhere holding every image an item names, and
 * every acknowledged item whole on every mirror.
 */
final class EndChecks {
    /** Files the site writes aside before renaming them into place; never replicated. */
    private static final String SITE_TEMP_PREFIX = ".am-tmp-";

    private EndChecks() {
    }

    static void assertConverged(List<PgServer> dbs, List<MirrorTomcat> mirrors, List<ItemLoad.Ack> acked,
                                Duration timeout) throws Exception {
        List<String> tables = SiteSql.publicTables(dbs.get(0));
        assertTrue(tables.containsAll(List.of("public.account", "public.item", "public.item_comment",
                "public.user_session", "public.restored_account")), "the site's tables: " + tables);
        for (PgServer db : dbs) {
            assertEquals(tables, SiteSql.publicTables(db), "tables of " + db.name());
        }
        Await.until(timeout, () -> SiteSql.allEqual(dbs, tables),
                () -> "table digests differ:" + SiteSql.describe(dbs, tables));

        List<String> imagePaths = SiteSql.rows(dbs.get(0), "SELECT image_path FROM item WHERE image_path IS NOT NULL");
        Await.until(timeout, () -> foldersEqual(mirrors) && files(mirrors.get(0)).keySet().containsAll(imagePaths),
                () -> "upload folders differ: " + folderDifferences(mirrors, imagePaths));

        assertEquals(acked.size(), acked.stream().map(ItemLoad.Ack::id).distinct().count(), "item ids are unique");
        assertTrue(SiteSql.count(dbs.get(0), "SELECT count(*) FROM item") >= acked.size(), "items in the database");
        List<String> problems = mirrors.parallelStream().flatMap(m -> acked.stream().map(a -> {
            try {
                return ItemCheck.problem(m, a);
            } catch (IOException e) {
                return m.tomcat().name() + ", item " + a.id() + ": " + e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
        })).filter(p -> p != null).toList();
        assertTrue(problems.isEmpty(), problems.size() + " acknowledged item(s) not whole everywhere:\n"
                + problems.stream().limit(20).collect(Collectors.joining("\n")));
    }

    private static boolean foldersEqual(List<MirrorTomcat> mirrors) {
        Map<String, String> first = files(mirrors.get(0));
        return mirrors.stream().skip(1).allMatch(m -> files(m).equals(first));
    }

    /** Relative path to SHA-256 of every file in the mirror's upload folder (but the site's temp files). */
    static Map<String, String> files(MirrorTomcat m) {
        Path root = m.uploadDir();
        try (Stream<Path> walk = Files.walk(root)) {
            Map<String, String> out = new TreeMap<>();
            for (Path f : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                if (!f.getFileName().toString().startsWith(SITE_TEMP_PREFIX)) {
                    out.put(root.relativize(f).toString(), sha256(f));
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String folderDifferences(List<MirrorTomcat> mirrors, List<String> imagePaths) {
        Map<String, String> first = files(mirrors.get(0));
        List<String> out = new ArrayList<>();
        List<String> missing = imagePaths.stream().filter(p -> !first.containsKey(p)).limit(10).toList();
        if (!missing.isEmpty()) {
            out.add(mirrors.get(0).tomcat().name() + " lacks images items name: " + missing);
        }
        for (MirrorTomcat m : mirrors.subList(1, mirrors.size())) {
            Map<String, String> other = files(m);
            List<String> diff = new ArrayList<>();
            first.forEach((k, v) -> {
                if (!v.equals(other.get(k))) {
                    diff.add(k + (other.containsKey(k) ? " differs" : " missing"));
                }
            });
            other.keySet().stream().filter(k -> !first.containsKey(k)).forEach(k -> diff.add(k + " extra"));
            if (!diff.isEmpty()) {
                out.add(m.tomcat().name() + " vs " + mirrors.get(0).tomcat().name() + " (" + diff.size() + "): "
                        + diff.stream().limit(10).toList());
            }
        }
        return String.join("; ", out);
    }

    private static String sha256(Path f) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
