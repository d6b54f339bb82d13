package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import jakarta.servlet.ServletContext;

import org.activemirroring.mirror.siteapi.NodeSite;
import org.activemirroring.site.LostWrite;
import org.activemirroring.site.LostWriteListener;
import org.activemirroring.site.MirrorSite;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * The site API on two real mirrors: the same user name registered on both at once; the mirror whose
 * row lost is told of exactly that row through {@link MirrorSite#onLostWrite}, the other is told
 * nothing; the listener's re-created account replicates; after the losing mirror restarts, what
 * its listener acknowledged is not told again and what it threw on is. The site finds the API in
 * its servlet context, and reads a file another mirror wrote through it.
 */
class LostWriteIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theMirrorWhoseRowLostIsToldOfItAtLeastOnceAcrossARestart() throws Exception {
        List<AutoCloseable> toClose = new ArrayList<>();
        try (PostgresServers pgs = PostgresServers.start("lostw", 2)) {
            PgServer pa = pgs.get(0);
            PgServer pb = pgs.get(1);
            for (PgServer s : pgs.servers()) {
                exec(s, "CREATE TABLE account (id bigserial PRIMARY KEY, name text UNIQUE NOT NULL, note text)");
            }
            List<Map<String, String>> configs = new ArrayList<>(MirrorSettings.forServers("lostw", pgs.servers()));
            List<Path> folders = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Path folder = Path.of(configs.get(i).get("mirror.data.dir")).resolveSibling("uploads-" + (i + 1));
                Files.createDirectories(folder);
                folders.add(folder);
                configs.set(i, TestMirrors.with(TestMirrors.with(configs.get(i), "mirror.folders", "uploads"),
                        "mirror.folder.uploads.path", folder.toString()));
            }
            MirrorConfig configA = MirrorConfig.of(configs.get(0));
            MirrorConfig configB = MirrorConfig.of(configs.get(1));
            MirrorNode[] nodes = new MirrorNode[2];
            toClose.add(() -> TestMirrors.closeAll(java.util.Arrays.asList(nodes)));
            nodes[0] = MirrorNode.start(configA);
            nodes[1] = MirrorNode.start(configB);
            MirrorNode a = nodes[0];
            ReplicationChecks.awaitMembers(List.of(nodes[0], nodes[1]), 2, WAIT);

            // The sites: each finds its MirrorSite in its servlet context once the node runs.
            ServletContext ctxA = context();
            ServletContext ctxB = context();
            NodeSite siteA = NodeSite.start(configA, () -> nodes[0], ctxA);
            toClose.add(0, siteA);
            NodeSite siteB = NodeSite.start(configB, () -> nodes[1], ctxB);
            toClose.add(0, siteB);
            Await.until(WAIT, () -> MirrorSite.of(ctxA).isPresent() && MirrorSite.of(ctxB).isPresent(),
                    () -> "the site API never appeared in the servlet contexts");
            MirrorSite onA = MirrorSite.of(ctxA).orElseThrow();
            MirrorSite onB = MirrorSite.of(ctxB).orElseThrow();
            assertEquals(a.nodeId(), onA.mirrorId());
            assertEquals(configB.nodeId(), onB.mirrorId());

            List<LostWrite> toldA = new CopyOnWriteArrayList<>();
            onA.onLostWrite(toldA::add);
            // B's site keeps a lost account under a free name, and throws (database away, say) for 'bob'.
            List<LostWrite> toldB = new CopyOnWriteArrayList<>();
            List<LostWrite> bobAttempts = new CopyOnWriteArrayList<>();
            LostWriteListener keepUnderFreeName = w -> {
                JsonNode row = JSON.readTree(w.lostRow());
                if ("bob".equals(row.get("name").asText())) {
                    bobAttempts.add(w);
                    throw new SQLException("the site's database is away (test)");
                }
                toldB.add(w);
                exec(pb, "INSERT INTO account (name, note) VALUES ('" + row.get("name").asText() + "-2', '"
                        + row.get("note").asText() + "')");
            };
            onB.onLostWrite(keepUnderFreeName);

            // 1. 'alice' on both at once. Ids: A has slot 1, B slot 2, so A's key ["1"] sorts first and wins.
            registerConcurrently(nodes[0], nodes[1], () -> exec(pa, "INSERT INTO account (name, note) VALUES ('alice',"
                    + " 'from-a')"), () -> exec(pb, "INSERT INTO account (name, note) VALUES ('alice', 'from-b')"));
            String keptId = awaitOneRowEverywhere(pgs.servers(), "alice");
            assertEquals("from-a", query(pa, "SELECT note FROM account WHERE name = 'alice'"));
            Await.until(WAIT, () -> toldB.size() == 1, () -> "B's listener was never told: " + toldB);
            LostWrite lost = toldB.get(0);
            assertEquals("unique", lost.kind());
            assertEquals("public.account", lost.table());
            assertEquals(a.nodeId(), lost.winnerMirror());
            JsonNode lostRow = JSON.readTree(lost.lostRow());
            assertEquals("alice", lostRow.get("name").asText(), lost.lostRow());
            assertEquals("from-b", lostRow.get("note").asText(), lost.lostRow());
            String lostId = lostRow.get("id").asText();
            assertFalse(lostId.equals(keptId), "the lost row is not the kept one: " + lost);
            assertEquals(Map.of("id", lostId), lost.key());
            JsonNode kept = JSON.readTree(lost.keptRow());
            assertEquals(keptId, kept.get("id").asText(), lost.keptRow());
            assertEquals("from-a", kept.get("note").asText(), lost.keptRow());
            assertEquals(conflictId(pb, lostId), lost.conflictId());

            // The re-created account replicates to both mirrors; A logged the collision too, but its site lost nothing.
            Await.until(WAIT, () -> "from-b".equals(query(pa, "SELECT note FROM account WHERE name = 'alice-2'"))
                    && "from-b".equals(query(pb, "SELECT note FROM account WHERE name = 'alice-2'")),
                    () -> "the re-created account did not reach both mirrors");
            assertNotNull(conflictId(pa, lostId), "A's conflict log holds the collision as well");
            Await.until(WAIT, () -> acknowledged(pb, lost.conflictId()), () -> "B never acknowledged " + lost);
            assertEquals(List.of(), toldA, "the winning mirror's site lost nothing");
            assertEquals(1, toldB.size(), "told once: " + toldB);

            // 2. 'carol' on both, B's capture held: A's row arrives before B's capture stamped B's own
            // row (a real race, a few milliseconds wide). B removes its row and must still know it was its own.
            long aHead = a.ownJournalHead();
            nodes[1].holdCapture(true);
            try {
                exec(pb, "INSERT INTO account (name, note) VALUES ('carol', 'from-b')");
                exec(pa, "INSERT INTO account (name, note) VALUES ('carol', 'from-a')");
                Await.until(WAIT, () -> a.ownJournalHead() > aHead
                        && "from-a".equals(query(pb, "SELECT note FROM account WHERE name = 'carol'")),
                        () -> "A's carol did not replace B's unstamped one on B");
            } finally {
                nodes[1].holdCapture(false);
            }
            awaitOneRowEverywhere(pgs.servers(), "carol");
            Await.until(WAIT, () -> toldB.size() == 2, () -> "B's listener was not told of its carol: " + toldB);
            LostWrite carol = toldB.get(1);
            assertEquals("unique", carol.kind());
            assertEquals("carol", JSON.readTree(carol.lostRow()).get("name").asText(), carol.lostRow());
            assertEquals("from-b", JSON.readTree(carol.lostRow()).get("note").asText(), carol.lostRow());
            assertEquals(a.nodeId(), carol.winnerMirror());
            Await.until(WAIT, () -> "from-b".equals(query(pa, "SELECT note FROM account WHERE name = 'carol-2'")),
                    () -> "the re-created carol did not reach A");

            // 3. 'bob' on both at once (B's key sorts last again); B's listener throws on it.
            registerConcurrently(nodes[0], nodes[1],
                    () -> exec(pa, "INSERT INTO account (id, name, note) VALUES (1000001, 'bob', 'from-a')"),
                    () -> exec(pb, "INSERT INTO account (id, name, note) VALUES (1000002, 'bob', 'from-b')"));
            awaitOneRowEverywhere(pgs.servers(), "bob");
            Await.until(WAIT, () -> !bobAttempts.isEmpty(), () -> "B's listener was never told of bob");
            long bobConflict = bobAttempts.get(0).conflictId();
            assertFalse(acknowledged(pb, bobConflict), "a write the listener threw on is not acknowledged");

            // 4. B restarts: a new node and site, the site registers its listener again.
            siteB.close();
            toClose.remove(siteB);
            assertTrue(MirrorSite.of(ctxB).isEmpty(), "closing the site API removes it from the context");
            nodes[1].close();
            nodes[1] = null;
            nodes[1] = MirrorNode.start(configB);
            ReplicationChecks.awaitMembers(List.of(nodes[0], nodes[1]), 2, WAIT);
            NodeSite siteB2 = NodeSite.start(configB, () -> nodes[1], ctxB);
            toClose.add(0, siteB2);
            Await.until(WAIT, () -> MirrorSite.of(ctxB).isPresent(), () -> "the restarted site API never appeared");
            List<LostWrite> afterRestart = new CopyOnWriteArrayList<>();
            AutoCloseable registration = MirrorSite.of(ctxB).orElseThrow().onLostWrite(afterRestart::add);
            Await.until(WAIT, () -> acknowledged(pb, bobConflict), () -> "bob was not told again after the restart: "
                    + afterRestart);
            assertEquals(List.of(bobConflict), afterRestart.stream().map(LostWrite::conflictId).toList(),
                    "after the restart: only what was not acknowledged, once");
            assertEquals("from-b", JSON.readTree(afterRestart.get(0).lostRow()).get("note").asText());
            registration.close();
            assertEquals(List.of(), toldA, "the winning mirror's site lost nothing");

            // 4b. Another web application sharing B's node acknowledges on its own: it hears of every lost write.
            ServletContext ctxOther = context();
            NodeSite other = NodeSite.start(configB, () -> nodes[1], ctxOther, "app:/other");
            toClose.add(0, other);
            Await.until(WAIT, () -> MirrorSite.of(ctxOther).isPresent(), () -> "the other application's site API");
            List<LostWrite> toldOther = new CopyOnWriteArrayList<>();
            try (AutoCloseable r = MirrorSite.of(ctxOther).orElseThrow().onLostWrite(toldOther::add)) {
                Await.until(WAIT, () -> toldOther.size() >= 3, () -> "the other application heard " + toldOther);
                assertEquals(List.of("alice", "bob", "carol"), toldOther.stream().map(w -> {
                    try {
                        return JSON.readTree(w.lostRow()).get("name").asText();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                }).sorted().toList());
            }

            // 5. openFile through the context: a file written on A is read on B.
            Files.writeString(folders.get(0).resolve("hello.txt"), "written on A", StandardCharsets.UTF_8);
            MirrorSite siteOnB = MirrorSite.of(ctxB).orElseThrow();
            Path read = awaitFile(siteOnB, "hello.txt");
            assertEquals("written on A", Files.readString(read, StandardCharsets.UTF_8));
            assertThrows(IllegalArgumentException.class, () -> siteOnB.openFile("no-such-folder", "x.txt",
                    Duration.ofSeconds(1)));
            assertThrows(IllegalArgumentException.class, () -> siteOnB.openFile("uploads", "../outside.txt",
                    Duration.ofSeconds(1)));
            assertThrows(FileNotFoundException.class, () -> siteOnB.openFile("uploads", "never-written.txt",
                    Duration.ofMillis(500)));
        } finally {
            for (AutoCloseable c : toClose) {
                c.close();
            }
        }
        Await.until(Duration.ofSeconds(20), () -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("am-site-")), () -> "a site API thread is left running");
    }

    /** Reads a file through the site API, waiting for the scan on its origin to publish it. */
    private static Path awaitFile(MirrorSite site, String path) {
        Path[] out = new Path[1];
        Await.until(WAIT, () -> {
            try {
                out[0] = site.openFile("uploads", path, Duration.ofSeconds(2));
                return true;
            } catch (FileNotFoundException e) {
                return false; // not scanned on its origin yet
            }
        }, () -> path + " never became readable through the site API");
        return out[0];
    }

    private interface SqlAction {
        void run() throws SQLException;
    }

    /** Both inserts while neither mirror applies the other's changes, both published before either applies. */
    private static void registerConcurrently(MirrorNode a, MirrorNode b, SqlAction onA, SqlAction onB)
            throws SQLException {
        long aHead = a.ownJournalHead();
        long bHead = b.ownJournalHead();
        a.holdApply(true);
        b.holdApply(true);
        try {
            onA.run();
            onB.run();
            Await.until(WAIT, () -> a.ownJournalHead() > aHead && b.ownJournalHead() > bHead,
                    () -> "the concurrent registrations were not both published");
        } finally {
            a.holdApply(false);
            b.holdApply(false);
        }
    }

    /** Waits until every mirror holds one row with this name, the same one; returns its id. */
    private static String awaitOneRowEverywhere(List<PgServer> servers, String name) {
        String sql = "SELECT string_agg(id::text || ':' || note, ',') FROM account WHERE name = '" + name + "'";
        Await.until(WAIT, () -> {
            String first = query(servers.get(0), sql);
            return first != null && !first.contains(",") && first.equals(query(servers.get(1), sql));
        }, () -> name + " rows: " + servers.stream().map(s -> {
            try {
                return query(s, sql);
            } catch (SQLException e) {
                return e.toString();
            }
        }).toList());
        try {
            return query(servers.get(0), sql).split(":")[0];
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The id of the unique-key conflict-log entry for the row with this id, or null. */
    private static Long conflictId(PgServer s, String rowId) throws SQLException {
        String id = query(s, "SELECT id FROM mirror.conflict WHERE kind = 'unique' AND row_key->>'id' = '" + rowId + "'");
        return id == null ? null : Long.valueOf(id);
    }

    private static boolean acknowledged(PgServer s, long conflictId) throws SQLException {
        return query(s, "SELECT 1 FROM mirror.lost_write_ack WHERE conflict_id = " + conflictId) != null;
    }

    /** A servlet context that only keeps attributes: what the site API uses of it. */
    private static ServletContext context() {
        Map<String, Object> attributes = new ConcurrentHashMap<>();
        return (ServletContext) Proxy.newProxyInstance(LostWriteIT.class.getClassLoader(),
                new Class<?>[] {ServletContext.class}, (proxy, method, args) -> switch (method.getName()) {
                    case "getAttribute" -> attributes.get((String) args[0]);
                    case "setAttribute" -> attributes.put((String) args[0], args[1]);
                    case "removeAttribute" -> attributes.remove((String) args[0]);
                    case "toString" -> "test context " + attributes.keySet();
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private static void exec(PgServer s, String sql) throws SQLException {
        try (Connection conn = s.connect(); Statement st = conn.createStatement()) {
            st.executeUpdate(sql);
        }
    }

    /** The first column of the first row, or null if there is no row. */
    private static String query(PgServer s, String sql) throws SQLException {
        try (Connection conn = s.connect(); PreparedStatement ps = conn.prepareStatement(sql);
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

}
