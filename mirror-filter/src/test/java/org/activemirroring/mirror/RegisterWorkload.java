package org.activemirroring.mirror;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import org.activemirroring.testsupport.PgServer;

/**
 * A register workload for history checks: table {@code reg(k, v, w)} over a small key space so
 * that writers on different mirrors collide. Every write is a read-modify-write in one
 * transaction that records which value it overwrote; committed writes go to a {@link HistoryChecker}.
 */
final class RegisterWorkload {
    static final List<String> TABLES = List.of("reg", "reg_fence");

    private static final String DDL = """
            CREATE TABLE reg (
                k int PRIMARY KEY,
                v text NOT NULL,
                w text
            );
            CREATE TABLE reg_fence (
                node text PRIMARY KEY,
                round int NOT NULL
            );
            """;

    private RegisterWorkload() {
    }

    static void createSchema(PgServer server) throws SQLException {
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            s.execute(DDL);
        }
    }

    static String initialToken(int key) {
        return "init-" + key;
    }

    /** Inserts keys 0..keys-1 with their initial token (on one mirror; replication brings them to the others). */
    static void seed(PgServer server, int keys) throws SQLException {
        try (Connection c = server.connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO reg (k, v, w) VALUES (?, ?, 'init')")) {
            for (int k = 0; k < keys; k++) {
                ps.setInt(1, k);
                ps.setString(2, initialToken(k));
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** One fence row per node and round: a local transaction captured after everything before it. */
    static void fence(PgServer server, String node, int round) throws SQLException {
        try (Connection c = server.connect(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO reg_fence (node, round) VALUES (?, ?) ON CONFLICT (node) DO UPDATE SET round = excluded.round")) {
            ps.setString(1, node);
            ps.setInt(2, round);
            ps.executeUpdate();
        }
    }

    /** Nodes whose fence of {@code round} (or later) this server holds. */
    static long fencesAtLeast(PgServer server, int round) throws SQLException {
        try (Connection c = server.connect();
             PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM reg_fence WHERE round >= ?")) {
            ps.setInt(1, round);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** key -> v of every row (absent keys are missing). */
    static Map<Integer, String> finalValues(PgServer server) throws SQLException {
        Map<Integer, String> out = new LinkedHashMap<>();
        try (Connection c = server.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT k, v FROM reg ORDER BY k")) {
            while (rs.next()) {
                out.put(rs.getInt(1), rs.getString(2));
            }
        }
        return out;
    }

    /** Per table: row count and an md5 over every row's text form in key order. */
    static Map<String, String> digest(PgServer server) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            for (String table : TABLES) {
                String key = table.equals("reg") ? "k" : "node";
                try (ResultSet rs = s.executeQuery("SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY "
                        + key + "), '')) FROM " + table + " t")) {
                    rs.next();
                    out.put(table, rs.getLong(1) + ":" + rs.getString(2));
                }
            }
        }
        return out;
    }

    /** Asserts identical digests on all mirrors; on a difference, names the rows that differ. */
    static void assertSameRows(List<MirrorNode> nodes, List<PgServer> servers) throws SQLException {
        Map<String, String> first = digest(servers.get(0));
        for (int i = 1; i < servers.size(); i++) {
            if (!first.equals(digest(servers.get(i)))) {
                StringBuilder b = new StringBuilder("table digests differ: ");
                List<Map<Integer, String>> rows = new java.util.ArrayList<>();
                for (PgServer s : servers) {
                    rows.add(rowsWithVersions(s));
                }
                java.util.Set<Integer> keys = new java.util.TreeSet<>();
                rows.forEach(r -> keys.addAll(r.keySet()));
                for (int k : keys) {
                    java.util.Set<String> distinct = new java.util.HashSet<>();
                    rows.forEach(r -> distinct.add(String.valueOf(r.get(k))));
                    if (distinct.size() > 1) {
                        b.append("\n  k=").append(k);
                        for (int j = 0; j < servers.size(); j++) {
                            b.append("\n    ").append(nodes.get(j).nodeId()).append(": ").append(rows.get(j).get(k));
                        }
                    }
                }
                throw new AssertionError(b.toString());
            }
        }
    }

    /** key -> row and its stored version, for failure messages. */
    private static Map<Integer, String> rowsWithVersions(PgServer server) throws SQLException {
        Map<Integer, String> out = new LinkedHashMap<>();
        try (Connection c = server.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT r.k, r.v, r.w, rv.clock, rv.origin FROM reg r LEFT JOIN"
                     + " mirror.row_version rv ON rv.tbl LIKE '%reg' AND rv.pk = '[\"' || r.k || '\"]' ORDER BY r.k")) {
            while (rs.next()) {
                out.merge(rs.getInt(1), rs.getString(2) + "," + rs.getString(3) + " @" + rs.getLong(4) + "/"
                        + rs.getString(5), (x, y) -> x + " | " + y);
            }
        }
        return out;
    }

    /**
     * One client: random operations on random keys until {@code stopAtNanos} (System.nanoTime) or
     * until {@code stop} says so. Token format {@code <mirror>-t<client>-<n>}, unique per run.
     */
    static final class Client {
        private final PgServer server;
        private final String mirror;
        private final int client;
        private final int keys;
        private final Random random;
        private final HistoryChecker history;
        private final AtomicLong ops = new AtomicLong();
        private int next;

        Client(PgServer server, String mirror, int client, int keys, long seed, HistoryChecker history) {
            this.server = server;
            this.mirror = mirror;
            this.client = client;
            this.keys = keys;
            this.random = new Random(seed);
            this.history = history;
        }

        long ops() {
            return ops.get();
        }

        void run(java.util.function.BooleanSupplier keepGoing) throws SQLException {
            try (Connection c = server.connect()) {
                c.setAutoCommit(false);
                while (keepGoing.getAsBoolean() && !Thread.currentThread().isInterrupted()) {
                    int key = random.nextInt(keys);
                    int dice = random.nextInt(100);
                    HistoryChecker.Op op = dice < 80 ? HistoryChecker.Op.UPDATE
                            : dice < 90 ? HistoryChecker.Op.REINSERT : HistoryChecker.Op.DELETE;
                    String token = mirror + "-t" + client + "-" + (next++);
                    try {
                        HistoryChecker.Write w = once(c, key, op, token);
                        if (w != null) {
                            history.committed(w);
                        }
                    } catch (SQLException e) {
                        // A failed commit may still have committed: such a token may be a final value.
                        history.indeterminate(key, token);
                        try {
                            c.rollback();
                        } catch (SQLException ignored) {
                            // the next statement reports a broken connection
                        }
                    }
                    ops.incrementAndGet();
                    // Workload timing, not a wait for replication: spreads writes so apply keeps up.
                    LockSupport.parkNanos(5_000_000L + random.nextInt(40_000_000));
                }
            }
        }

        /** One read-modify-write transaction; null if nothing was written (e.g. a delete of an absent row). */
        private HistoryChecker.Write once(Connection c, int key, HistoryChecker.Op op, String token) throws SQLException {
            String prev = null;
            boolean present;
            try (PreparedStatement ps = c.prepareStatement("SELECT v FROM reg WHERE k = ? FOR UPDATE")) {
                ps.setInt(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    present = rs.next();
                    if (present) {
                        prev = rs.getString(1);
                    }
                }
            }
            HistoryChecker.Op done;
            if (!present) {
                // Absent row: any operation becomes an insert (a concurrent local insert wins the key).
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO reg (k, v, w) VALUES (?, ?, ?) ON CONFLICT (k) DO NOTHING")) {
                    ps.setInt(1, key);
                    ps.setString(2, token);
                    ps.setString(3, mirror);
                    if (ps.executeUpdate() == 0) {
                        c.rollback();
                        return null;
                    }
                }
                done = HistoryChecker.Op.INSERT;
            } else if (op == HistoryChecker.Op.UPDATE) {
                try (PreparedStatement ps = c.prepareStatement("UPDATE reg SET v = ?, w = ? WHERE k = ?")) {
                    ps.setString(1, token);
                    ps.setString(2, random.nextBoolean() ? mirror : null);
                    ps.setInt(3, key);
                    ps.executeUpdate();
                }
                done = op;
            } else {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM reg WHERE k = ?")) {
                    ps.setInt(1, key);
                    ps.executeUpdate();
                }
                if (op == HistoryChecker.Op.REINSERT) {
                    try (PreparedStatement ps = c.prepareStatement("INSERT INTO reg (k, v, w) VALUES (?, ?, ?)")) {
                        ps.setInt(1, key);
                        ps.setString(2, token);
                        ps.setString(3, mirror);
                        ps.executeUpdate();
                    }
                }
                done = op;
            }
            c.commit();
            return new HistoryChecker.Write(mirror, done == HistoryChecker.Op.DELETE ? null : token, key, done, prev,
                    System.nanoTime());
        }
    }
}
