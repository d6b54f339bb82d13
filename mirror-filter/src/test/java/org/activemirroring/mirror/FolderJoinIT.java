package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.activemirroring.files.FolderScanner;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * A site's uploads on real mirrors (embedded PostgreSQL, JGroups): a file written and then its row
 * inserted, as a site does, reaches every mirror; a new mirror with an empty database and an empty
 * folder joins while uploads go on and ends with every file that a row of its database names, and
 * every folder equal.
 */
class FolderJoinIT {
    private static final Duration CONVERGE = Duration.ofSeconds(120);

    @Test
    void aJoiningMirrorGetsTheFilesItsCopiedRowsName() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("fjoin", 3)) {
            List<PgServer> servers = pgs.servers();
            for (int i = 0; i < 2; i++) {
                exec(servers.get(i), "CREATE TABLE uploads (id bigint PRIMARY KEY, path text NOT NULL)");
            }
            List<Map<String, String>> configs = MirrorSettings.forServers("fjoin", servers);
            List<Path> folders = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Path folder = Path.of(configs.get(i).get("mirror.data.dir")).resolveSibling("uploads-" + (i + 1));
                Files.createDirectories(folder);
                folders.add(folder);
                configs.set(i, TestMirrors.with(TestMirrors.with(configs.get(i), "mirror.folders", "uploads"),
                        "mirror.folder.uploads.path", folder.toString()));
            }
            List<MirrorNode> nodes = new ArrayList<>(TestMirrors.startAll(configs.subList(0, 2)));
            ExecutorService pool = Executors.newSingleThreadExecutor();
            NodeLauncher launcher = new NodeLauncher(MirrorConfig.of(configs.get(2)), MirrorNode::start);
            try {
                upload(servers.get(0), folders.get(0), 1, 40);
                Future<?> writing = pool.submit(() -> {
                    upload(servers.get(0), folders.get(0), 41, 160);
                    return null;
                });
                launcher.launch();
                Await.until(CONVERGE, () -> launcher.node() != null && launcher.node().isReady(),
                        () -> launcher.phase() + " / " + launcher.lastFailure());
                MirrorNode joined = launcher.node();
                nodes.add(joined);
                writing.get();
                upload(servers.get(1), folders.get(1), 161, 170); // the second mirror's site uploads too

                Await.until(CONVERGE, () -> rows(servers.get(2)).size() == 170 && sameFolders(folders)
                                && nodes.stream().allMatch(n -> n.status().files().settled()),
                        () -> "rows " + rows(servers.get(2)).size() + ", files " + filesOf(folders) + ", status "
                                + joined.status().files());
                for (Map.Entry<Long, String> row : rows(servers.get(2)).entrySet()) {
                    Path file = joined.openFile("uploads", row.getValue(), Duration.ZERO);
                    assertTrue(Files.isRegularFile(file), "row " + row.getKey() + " names " + row.getValue());
                }
                assertEquals(170, digest(folders.get(2)).size());
                for (MirrorNode n : nodes) {
                    assertNotNull(n.status().files());
                    assertTrue(n.status().ready(), n.nodeId() + ": " + n.status().problem());
                    assertEquals(Map.of(), n.status().files().refused(), n.nodeId() + " refused nothing");
                }
            } finally {
                pool.shutdownNow();
                launcher.close();
                TestMirrors.closeAll(nodes.subList(0, 2));
            }
        }
    }

    /** As a site does: the file first, then the row that names it. */
    private static void upload(PgServer server, Path folder, int from, int to) throws Exception {
        Random random = new Random(from);
        try (Connection c = server.connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO uploads (id, path) VALUES (?, ?)")) {
            for (int i = from; i <= to; i++) {
                String path = "items/" + (i % 7) + "/" + i + ".jpg";
                byte[] content = new byte[5_000 + random.nextInt(40_000)];
                random.nextBytes(content);
                Files.createDirectories(folder.resolve(path).getParent());
                Files.write(folder.resolve(path), content);
                ps.setLong(1, i);
                ps.setString(2, path);
                ps.executeUpdate();
            }
        }
    }

    private static Map<Long, String> rows(PgServer server) {
        Map<Long, String> out = new TreeMap<>();
        try (Connection c = server.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, path FROM uploads")) {
            while (rs.next()) {
                out.put(rs.getLong(1), rs.getString(2));
            }
        } catch (SQLException e) {
            return Map.of(); // no table yet (joining)
        }
        return out;
    }

    private static boolean sameFolders(List<Path> folders) throws IOException {
        Map<String, String> first = digest(folders.get(0));
        for (Path f : folders) {
            if (!digest(f).equals(first)) {
                return false;
            }
        }
        return true;
    }

    private static String filesOf(List<Path> folders) {
        StringBuilder sb = new StringBuilder();
        for (Path f : folders) {
            try {
                sb.append(digest(f).size()).append(' ');
            } catch (IOException e) {
                sb.append(e).append(' ');
            }
        }
        return sb.toString();
    }

    private static Map<String, String> digest(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p) && !p.getFileName().toString().startsWith(".am-tmp-")) {
                    out.put(root.relativize(p).toString(), FolderScanner.sha256(p));
                }
            }
        }
        return out;
    }

    private static void exec(PgServer server, String sql) throws SQLException {
        try (Connection c = server.connect(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
