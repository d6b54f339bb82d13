package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * Three writable mirrors inserting through their own sequences at the same time never generate
 * the same key, also after a startup script reset one mirror's sequences.
 */
class SequenceInterleavingIT {
    private static final Duration CONVERGE = Duration.ofSeconds(90);
    private static final int ROWS = 200;
    private static final int MODULUS = 16;

    /** A bigserial, an identity column (GENERATED ALWAYS: peers must write the origin's value) and a sequence used through DEFAULT nextval(...). */
    private static final String DDL = """
            CREATE TABLE items (id bigserial PRIMARY KEY, writer text NOT NULL, n int NOT NULL);
            CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, writer text NOT NULL,
                                n int NOT NULL);
            CREATE SEQUENCE ticket_numbers;
            CREATE TABLE tickets (id bigint PRIMARY KEY DEFAULT nextval('ticket_numbers'), writer text NOT NULL,
                                  n int NOT NULL);
            """;
    private static final List<String> TABLES = List.of("items", "notes", "tickets");
    private static final List<String> SEQUENCES = List.of("items_id_seq", "notes_id_seq", "ticket_numbers");

    @Test
    void concurrentInsertsOnThreeMirrorsNeverCollideAlsoAfterAReset() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("seq", 3)) {
            List<PgServer> servers = pgs.servers();
            for (PgServer s : servers) {
                exec(s, DDL);
            }
            Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());
            List<Map<String, String>> settings = MirrorSettings.forServers("seq", servers);
            Map<String, Integer> slots = new HashMap<>();
            for (Map<String, String> m : settings) {
                slots.put(m.get("mirror.node.id"), Integer.valueOf(m.get("mirror.node.slot")));
            }
            List<MirrorNode> nodes = TestMirrors.startAll(settings);
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                // Aligned before the node reported anything: start() returned only after the first pass.
                for (int i = 0; i < 3; i++) {
                    assertEquals(3, nodes.get(i).status().sequences().managed(), nodes.get(i).nodeId());
                    assertAligned(servers.get(i), slots.get(nodes.get(i).nodeId()));
                }
                ReplicationChecks.awaitMembers(nodes, 3, Duration.ofSeconds(30));

                insertConcurrently(pool, nodes, servers, 0);
                awaitRows(servers, 3 * ROWS);
                assertNoCollision(nodes, servers, slots, 3 * ROWS);

                // A startup script on mirror 2 resets its sequences three common ways.
                PgServer reset = servers.get(1);
                MirrorNode resetNode = nodes.get(1);
                long correctionsBefore = resetNode.status().sequences().corrections();
                exec(reset, "ALTER SEQUENCE items_id_seq RESTART WITH 1");
                exec(reset, "ALTER SEQUENCE items_id_seq INCREMENT BY 1");
                exec(reset, "ALTER TABLE notes ALTER COLUMN id RESTART WITH 1");
                exec(reset, "ALTER TABLE notes ALTER COLUMN id SET INCREMENT BY 1");
                exec(reset, "SELECT setval('ticket_numbers', 1)");
                int slot = slots.get(resetNode.nodeId());
                Await.until(Duration.ofSeconds(30), () -> isAligned(reset, slot),
                        () -> "sequences of " + resetNode.nodeId() + " not re-aligned: " + describe(reset));
                assertTrue(resetNode.status().sequences().corrections() >= correctionsBefore + 3,
                        () -> "corrections: " + resetNode.status().sequences());
                // The last one repaired the setval: the next value moves above every stored key.
                String last = resetNode.status().sequences().lastCorrection();
                assertTrue(last.startsWith("public.ticket_numbers: next value 17 -> "), last);

                insertConcurrently(pool, nodes, servers, ROWS);
                awaitRows(servers, 6 * ROWS);
                assertNoCollision(nodes, servers, slots, 6 * ROWS);
            } finally {
                pool.shutdownNow();
                TestMirrors.closeAll(nodes);
            }
            Await.until(Duration.ofSeconds(30), () -> ThreeMirrorReplicationIT.threadsStartedSince(before).isEmpty(),
                    () -> "threads left after all mirrors stopped: " + ThreeMirrorReplicationIT.threadsStartedSince(before));
        }
    }

    /** Each mirror's writer inserts ROWS rows into every table, one transaction per row, all three at once. */
    private static void insertConcurrently(ExecutorService pool, List<MirrorNode> nodes, List<PgServer> servers,
                                           int firstN) throws Exception {
        List<Future<?>> running = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            PgServer s = servers.get(i);
            String writer = nodes.get(i).nodeId();
            running.add(pool.submit(() -> {
                try (Connection c = s.connect()) {
                    c.setAutoCommit(false);
                    for (int n = firstN; n < firstN + ROWS; n++) {
                        for (String table : TABLES) {
                            try (PreparedStatement ps = c.prepareStatement(
                                    "INSERT INTO " + table + " (writer, n) VALUES (?, ?)")) {
                                ps.setString(1, writer);
                                ps.setInt(2, n);
                                ps.executeUpdate();
                            }
                        }
                        c.commit();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : running) {
            f.get();
        }
    }

    private static void awaitRows(List<PgServer> servers, int expected) {
        Await.until(CONVERGE, () -> {
            for (PgServer s : servers) {
                for (String table : TABLES) {
                    if (SiteSchema.count(s, table) != expected) {
                        return false;
                    }
                }
            }
            return true;
        }, () -> "row counts, expected " + expected + " per table: " + counts(servers));
    }

    /**
     * Every mirror holds exactly {@code expected} distinct ids per table, each written by the mirror
     * whose slot it belongs to, the same rows everywhere; no apply failed.
     */
    private static void assertNoCollision(List<MirrorNode> nodes, List<PgServer> servers, Map<String, Integer> slots,
                                          int expected) throws SQLException {
        for (String table : TABLES) {
            String first = null;
            for (PgServer s : servers) {
                try (Connection c = s.connect(); Statement st = c.createStatement()) {
                    try (ResultSet rs = st.executeQuery("SELECT count(DISTINCT id), count(DISTINCT (writer, n)) FROM " + table)) {
                        rs.next();
                        assertEquals(expected, rs.getLong(1), s.name() + " distinct ids in " + table);
                        assertEquals(expected, rs.getLong(2), s.name() + " distinct rows in " + table);
                    }
                    try (ResultSet rs = st.executeQuery("SELECT id, writer FROM " + table)) {
                        while (rs.next()) {
                            int slot = slots.get(rs.getString(2));
                            assertEquals(slot, Math.floorMod(rs.getLong(1), MODULUS),
                                    table + " id " + rs.getLong(1) + " written by " + rs.getString(2));
                        }
                    }
                    try (ResultSet rs = st.executeQuery("SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM " + table + " t")) {
                        rs.next();
                        if (first == null) {
                            first = rs.getString(1);
                        } else {
                            assertEquals(first, rs.getString(1), s.name() + " holds other rows in " + table);
                        }
                    }
                }
            }
        }
        for (MirrorNode n : nodes) {
            NodeStatus st = n.status();
            assertEquals(0, st.apply().failures(), n.nodeId() + " apply failures");
            assertNull(st.problem(), n.nodeId() + " problem");
            assertNull(st.sequences().problem(), n.nodeId() + " sequence problem");
            assertTrue(st.ready(), n.nodeId() + " ready");
        }
    }

    private static void assertAligned(PgServer s, int slot) throws SQLException {
        assertTrue(isAligned(s, slot), () -> s.name() + " sequences: " + describe(s));
    }

    /** As pg_sequences shows them: increment 16, last value in the slot and above every stored key. */
    private static boolean isAligned(PgServer s, int slot) throws SQLException {
        try (Connection c = s.connect(); Statement st = c.createStatement()) {
            for (int i = 0; i < TABLES.size(); i++) {
                try (ResultSet rs = st.executeQuery("SELECT increment_by, last_value, (SELECT max(id) FROM " + TABLES.get(i)
                        + ") FROM pg_sequences WHERE schemaname = 'public' AND sequencename = '" + SEQUENCES.get(i) + "'")) {
                    if (!rs.next() || rs.getLong(1) != MODULUS) {
                        return false;
                    }
                    long last = rs.getLong(2);
                    if (rs.wasNull() || Math.floorMod(last, MODULUS) != slot) {
                        return false;
                    }
                    long max = rs.getLong(3);
                    if (!rs.wasNull() && last < max) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static String describe(PgServer s) {
        try (Connection c = s.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT sequencename, increment_by, last_value FROM pg_sequences ORDER BY 1")) {
            List<String> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1) + "{increment " + rs.getLong(2) + ", last " + rs.getString(3) + "}");
            }
            return out.toString();
        } catch (SQLException e) {
            return e.toString();
        }
    }

    private static String counts(List<PgServer> servers) {
        List<String> out = new ArrayList<>();
        for (PgServer s : servers) {
            for (String table : TABLES) {
                try {
                    out.add(s.name() + "." + table + "=" + SiteSchema.count(s, table));
                } catch (SQLException e) {
                    out.add(s.name() + "." + table + ": " + e);
                }
            }
        }
        return String.join(" ", out);
    }

    private static void exec(PgServer s, String sql) throws SQLException {
        try (Connection c = s.connect(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
