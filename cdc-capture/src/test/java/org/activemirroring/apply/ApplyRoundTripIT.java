package org.activemirroring.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.capture.DebeziumCapture;
import org.activemirroring.capture.EchoPolicy;
import org.activemirroring.capture.Fixtures;
import org.activemirroring.capture.InMemoryTransport;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.transport.Envelope;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ChangeSets captured on server A, applied by the applier on server B: B ends up identical to A,
 * re-delivery changes nothing, and B's own capture, running all along, publishes none of the
 * applier's writes (echo suppression by replication origin) but does publish B's local writes.
 */
class ApplyRoundTripIT {

    private final ChangeSetCodec codec = new ChangeSetCodec();

    /**
     * Both layers of echo suppression: with the server-side origin filter (PostgreSQL 16+) the
     * applier's transactions never reach capture; without it, capture sees them and EchoPolicy
     * drops them.
     */
    @ParameterizedTest(name = "origin filter on the server: {0}")
    @ValueSource(booleans = {true, false})
    void appliedChangeSetsMakeTheCopyIdenticalOnceAndAreNotEchoed(boolean serverFilter) throws Exception {
        try (PostgresServers pgs = PostgresServers.start("apply", 2)) {
            PgServer a = pgs.get(0);
            PgServer b = pgs.get(1);
            Fixtures.createSchema(a);
            Fixtures.createSchema(b);
            InMemoryTransport ta = new InMemoryTransport("node-a");
            InMemoryTransport tb = new InMemoryTransport("node-b");
            PostgresDialect dialect = new PostgresDialect();
            EchoPolicy echo = EchoPolicy.forDialect(dialect);
            try (DebeziumCapture captureA = new DebeziumCapture(Fixtures.config(a), "node-a", Fixtures.dataDir("a"), ta, echo, dialect);
                 DebeziumCapture captureB = new DebeziumCapture(configB(b, serverFilter), "node-b", Fixtures.dataDir("b"), tb, echo, dialect);
                 ChangeSetApplier applierB = new ChangeSetApplier(Fixtures.config(b), dialect);
                 Connection ca = a.connect(); Connection cb = b.connect()) {
                captureA.start();
                captureB.start();

                writeOnA(ca);
                int expected = 5;
                Await.until(Duration.ofSeconds(30), () -> ta.size() >= expected,
                        () -> expected + " ChangeSets from A, have " + ta.size() + ", " + captureA.stats());
                List<Envelope> envelopes = ta.published();
                assertEquals(expected, envelopes.size());

                assertEquals(Map.of(), applierB.appliedVector());
                for (Envelope e : envelopes) {
                    applierB.deliver(e);
                }
                assertEquals(expected, applierB.stats().applied());
                for (String table : Fixtures.TABLES) {
                    assertEquals(Fixtures.dump(ca, table), Fixtures.dump(cb, table), table + " on B equals A");
                }
                assertEquals(Map.of("node-a", (long) expected), applierB.appliedVector());

                // Re-delivery (transport retransmission, restart): no effect, counted as duplicates.
                for (Envelope e : envelopes) {
                    applierB.deliver(e);
                }
                assertEquals(expected, applierB.stats().duplicates());
                assertEquals(expected, applierB.stats().applied());
                assertEquals(expected, applyCount(cb, "node-a"), "apply_count unchanged by duplicates");
                for (String table : Fixtures.TABLES) {
                    assertEquals(Fixtures.dump(ca, table), Fixtures.dump(cb, table), table + " unchanged by duplicates");
                }

                // Echo: B's capture saw the applier's transactions and published none of them. A
                // local write on B afterwards comes after them in commit order, so once it is
                // published, the applied ones have been seen.
                Fixtures.exec(cb, "INSERT INTO parent (id, name) VALUES (300, 'local on B')");
                Await.until(Duration.ofSeconds(30), () -> tb.size() >= 1,
                        () -> "B's local write published, " + captureB.stats());
                long echoesSeen = serverFilter ? 0 : expected;
                Await.until(Duration.ofSeconds(5), () -> captureB.stats().echoesDropped() == echoesSeen,
                        () -> echoesSeen + " applied transactions seen as echoes, " + captureB.stats());
                assertEquals(1, tb.size(), "only B's local write was published: " + tb.published());
                ChangeSet local = codec.decode(tb.published().get(0));
                assertEquals(1, local.rows().size());
                assertEquals(Map.of("id", "300"), local.rows().get(0).key());
                assertEquals(0, captureA.stats().echoesDropped());
            }
        }
    }

    private static CaptureConfig configB(PgServer b, boolean serverFilter) {
        Map<String, String> raw = new HashMap<>(Fixtures.raw(b));
        raw.put(CaptureConfig.ORIGIN_FILTER.key(), Boolean.toString(serverFilter));
        return Fixtures.config(raw);
    }

    private static void writeOnA(Connection c) throws Exception {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO parent VALUES (1, 'first', 10.5,"
                + " '2024-05-01 10:15:30.123456+02', '\\x00ff10', '{\"k\": \"v\"}', ?)")) {
            ps.setString(1, Fixtures.incompressible(100_000, 2));
            ps.executeUpdate();
        }
        Fixtures.exec(c,
                "INSERT INTO parent (id, name, data) VALUES (2, 'second ✓', '\\x')",
                "INSERT INTO child VALUES (10, 1, 'n', '2024-05-01 10:15:30.5', '2024-02-29', '12:00:00',"
                        + " true, 1e300, 2.5, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', -3)",
                "INSERT INTO child (id, parent_id, f) VALUES (11, 2, 'Infinity')",
                "INSERT INTO child (id, parent_id, feeling, dur, cash, code, addr, huge) VALUES (12, 2, 'happy',"
                        + " '1 year 2 months 3 days 04:05:06.78', 12.34, 'ab', '10.0.0.1/8',"
                        + " 'NaN'), (13, 2, 'sad', '-1 day -00:00:01', -0.5, 'xyz', '::1',"
                        + " 123456789012345678901234567890.123456789)",
                "INSERT INTO tag VALUES (1, 'x'), (1, 'y'), (2, 'x')");
        c.commit();
        Fixtures.exec(c, "UPDATE parent SET name = 'first, renamed' WHERE id = 1");
        c.commit();
        Fixtures.exec(c, "DELETE FROM tag WHERE parent_id = 1 AND tag = 'y'", "UPDATE child SET note = NULL, r = 0.1 WHERE id = 10");
        c.commit();
        Fixtures.exec(c, "DELETE FROM child WHERE id = 11", "UPDATE parent SET price = -0.001, doc = '[1, \"two\", null]' WHERE id = 2");
        c.commit();
        Fixtures.exec(c, "INSERT INTO parent (id, name) VALUES (3, 'third')", "DELETE FROM parent WHERE id = 3");
        c.commit();
        c.setAutoCommit(true);
    }

    private static long applyCount(Connection c, String origin) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("SELECT apply_count FROM mirror.applied WHERE origin = ?")) {
            ps.setString(1, origin);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
