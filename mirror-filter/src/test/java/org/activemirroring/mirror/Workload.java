package org.activemirroring.mirror;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import org.activemirroring.testsupport.PgServer;

/**
 * Random inserts, updates and deletes by one writer on its own rows (ids {@code slot + stride*k}),
 * as the site application would make them: each call to {@link #runTransactions} commits that many
 * transactions, each changing at least one mirrored row. Counts what it committed.
 */
final class Workload {
    private final String owner;
    private final int slot;
    private final int stride;
    private final Random random;
    private final List<Long> customers = new ArrayList<>();
    private final List<Long> orders = new ArrayList<>();
    private final List<Long> documents = new ArrayList<>();
    private final AtomicLong committed = new AtomicLong();
    private long nextK;

    Workload(String owner, int slot, int stride, long seed) {
        this.owner = owner;
        this.slot = slot;
        this.stride = stride;
        this.random = new Random(seed);
    }

    /** Transactions this writer committed so far. */
    long committed() {
        return committed.get();
    }

    void runTransactions(PgServer server, int count) throws SQLException {
        try (Connection c = server.connect()) {
            c.setAutoCommit(false);
            for (int i = 0; i < count; i++) {
                int ops = 1 + random.nextInt(4);
                for (int op = 0; op < ops; op++) {
                    oneChange(c);
                }
                c.commit();
                committed.incrementAndGet();
            }
        }
    }

    /** One fence row per node and round: a transaction that marks "everything before me is captured". */
    void fence(PgServer server, int round) throws SQLException {
        try (Connection c = server.connect(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO fences (node, round) VALUES (?, ?) ON CONFLICT (node) DO UPDATE SET round = excluded.round")) {
            ps.setString(1, owner);
            ps.setInt(2, round);
            ps.executeUpdate();
            committed.incrementAndGet();
        }
    }

    private long nextId() {
        return slot + stride * (++nextK);
    }

    private void oneChange(Connection c) throws SQLException {
        int pick = random.nextInt(100);
        if (customers.isEmpty() || pick < 25) {
            insertCustomer(c);
        } else if (pick < 45) {
            updateCustomer(c);
        } else if (pick < 60) {
            insertOrder(c);
        } else if (pick < 65) {
            deleteCustomer(c);
        } else if (pick < 72 || documents.isEmpty()) {
            insertDocument(c);
        } else if (pick < 90) {
            retitleDocument(c);
        } else if (pick < 95) {
            rewriteDocument(c);
        } else {
            deleteDocument(c);
        }
    }

    private void insertCustomer(Connection c) throws SQLException {
        long id = nextId();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO customers (id, owner, name, balance, created, photo, profile)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?::jsonb)")) {
            ps.setLong(1, id);
            ps.setString(2, owner);
            ps.setString(3, "Kunde " + id + " \u00e4\u00f6\u00fc \u2603 '\"\\");
            ps.setBigDecimal(4, money(1_000_000));
            ps.setTimestamp(5, Timestamp.from(Instant.parse("2020-01-01T00:00:00Z").plusNanos(random.nextLong(1L << 50) * 1000)));
            byte[] photo = new byte[random.nextInt(64)];
            random.nextBytes(photo);
            ps.setBytes(6, random.nextInt(5) == 0 ? null : photo);
            ps.setString(7, "{\"tier\": " + random.nextInt(5) + ", \"tags\": [\"a\", \"b\u00df\"], \"x\": null}");
            ps.executeUpdate();
        }
        customers.add(id);
    }

    private void updateCustomer(Connection c) throws SQLException {
        long id = pick(customers);
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE customers SET balance = ?, profile = jsonb_set(coalesce(profile, '{}'), '{visits}', to_jsonb(?)) WHERE id = ?")) {
            ps.setBigDecimal(1, money(1_000_000));
            ps.setInt(2, random.nextInt(1000));
            ps.setLong(3, id);
            ps.executeUpdate();
        }
    }

    private void insertOrder(Connection c) throws SQLException {
        long id = nextId();
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO orders (id, customer_id, amount, placed, note) VALUES (?, ?, ?, now(), ?)")) {
            ps.setLong(1, id);
            ps.setLong(2, pick(customers));
            ps.setBigDecimal(3, money(10_000));
            ps.setString(4, random.nextBoolean() ? null : "note " + random.nextInt());
            ps.executeUpdate();
        }
        orders.add(id);
    }

    private void deleteCustomer(Connection c) throws SQLException {
        long id = customers.remove(random.nextInt(customers.size()));
        try (Statement s = c.createStatement()) {
            // ON DELETE CASCADE removes the customer's orders in the same transaction.
            s.executeUpdate("DELETE FROM customers WHERE id = " + id);
            orders.clear();
            try (var rs = s.executeQuery("SELECT id FROM orders WHERE id % " + stride + " = " + (slot % stride))) {
                while (rs.next()) {
                    orders.add(rs.getLong(1));
                }
            }
        }
    }

    private void insertDocument(Connection c) throws SQLException {
        long id = nextId();
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO documents (id, owner, title, body, version) VALUES (?, ?, ?, ?, 1)")) {
            ps.setLong(1, id);
            ps.setString(2, owner);
            ps.setString(3, "doc " + id);
            ps.setString(4, bigText(random.nextInt(3) == 0 ? 120_000 : 200));
            ps.executeUpdate();
        }
        documents.add(id);
    }

    /** Changes only the title: PostgreSQL does not resend the unchanged TOASTed body. */
    private void retitleDocument(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE documents SET title = ?, version = version + 1 WHERE id = ?")) {
            ps.setString(1, "title " + random.nextInt());
            ps.setLong(2, pick(documents));
            ps.executeUpdate();
        }
    }

    private void rewriteDocument(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE documents SET body = ?, version = version + 1 WHERE id = ?")) {
            ps.setString(1, bigText(90_000));
            ps.setLong(2, pick(documents));
            ps.executeUpdate();
        }
    }

    private void deleteDocument(Connection c) throws SQLException {
        long id = documents.remove(random.nextInt(documents.size()));
        try (Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM documents WHERE id = " + id);
        }
    }

    private long pick(List<Long> ids) {
        return ids.get(random.nextInt(ids.size()));
    }

    private BigDecimal money(int max) {
        return BigDecimal.valueOf(random.nextLong(max * 100L)).movePointLeft(2).setScale(2, RoundingMode.UNNECESSARY);
    }

    /** Random letters: incompressible enough that PostgreSQL stores large values out of line (TOAST). */
    private String bigText(int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append((char) ('a' + random.nextInt(26)));
        }
        return sb.toString();
    }
}
