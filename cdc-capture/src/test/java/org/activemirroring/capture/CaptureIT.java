package org.activemirroring.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.change.RowChange;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/** Capture on a real PostgreSQL: one ChangeSet per transaction, rows in order, canonical values, TOAST. */
class CaptureIT {

    private final ChangeSetCodec codec = new ChangeSetCodec();

    @Test
    void capturesEachTransactionAsOneChangeSetWithCanonicalValues() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("capture", 1)) {
            PgServer a = pgs.get(0);
            Fixtures.createSchema(a);
            try (Connection c = a.connect()) {
                Fixtures.exec(c, "ALTER TABLE tag REPLICA IDENTITY FULL");
            }
            InMemoryTransport transport = new InMemoryTransport("node-a");
            String big = Fixtures.incompressible(100_000, 1);
            try (DebeziumCapture capture = new DebeziumCapture(Fixtures.config(a), "node-a",
                    Fixtures.dataDir("capture"), transport, new EchoPolicy(PostgresDialect.APPLY_ORIGIN), new PostgresDialect());
                 Connection c = a.connect()) {
                capture.start();
                assertTrue(capture.isRunning());

                c.setAutoCommit(false);
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO parent VALUES (1, 'Zoë ☃ \"q\"', 12345.678,"
                        + " '2024-05-01 10:15:30.123456+02', '\\x00ff10', '{\"a\": [1, 2]}', ?)")) {
                    ps.setString(1, big);
                    ps.executeUpdate();
                }
                Fixtures.exec(c,
                        "INSERT INTO child VALUES (10, 1, 'note', '2024-05-01 10:15:30.5', '2024-02-29', '23:59:59.999999',"
                                + " true, 1.5, 2.25, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 7)",
                        "INSERT INTO tag VALUES (1, 'x')");
                c.commit();
                Fixtures.exec(c, "UPDATE parent SET name = 'renamed' WHERE id = 1");
                c.commit();
                Fixtures.exec(c,
                        "INSERT INTO child (id, parent_id) VALUES (11, 1)",
                        "DELETE FROM tag WHERE parent_id = 1 AND tag = 'x'",
                        "UPDATE child SET f = 'NaN', r = '-Infinity' WHERE id = 10");
                c.commit();

                Await.until(Duration.ofSeconds(30), () -> transport.size() >= 3,
                        () -> "3 ChangeSets published, have " + transport.size() + ", stats " + capture.stats());
                List<ChangeSet> sets = transport.published().stream().map(codec::decode).toList();
                assertEquals(3, sets.size(), "one ChangeSet per transaction");

                ChangeSet cs1 = sets.get(0);
                assertEquals(List.of("public.parent", "public.child", "public.tag"),
                        cs1.rows().stream().map(RowChange::table).toList());
                RowChange parent = cs1.rows().get(0);
                assertEquals(RowChange.Op.INSERT, parent.op());
                assertEquals(Map.of("id", "1"), parent.key());
                Map<String, String> p = parent.after();
                assertEquals("Zoë ☃ \"q\"", p.get("name"));
                assertEquals("12345.678", p.get("price"));
                assertEquals("2024-05-01T08:15:30.123456Z", p.get("created"));
                assertEquals("AP8Q", p.get("data"));
                assertEquals("{\"a\": [1, 2]}", p.get("doc"));
                assertEquals(big, p.get("big"));
                Map<String, String> ch = cs1.rows().get(1).after();
                assertEquals("2024-05-01T10:15:30.500000", ch.get("at"));
                assertEquals("2024-02-29", ch.get("day"));
                assertEquals("23:59:59.999999", ch.get("tod"));
                assertEquals("true", ch.get("flag"));
                assertEquals("1.5", ch.get("f"));
                assertEquals("2.25", ch.get("r"));
                assertEquals("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", ch.get("u"));
                assertEquals("7", ch.get("small"));
                assertEquals("note", ch.get("note"));
                assertEquals(Map.of("parent_id", "1", "tag", "x"), cs1.rows().get(2).key());

                RowChange update = sets.get(1).rows().get(0);
                assertEquals(1, sets.get(1).rows().size());
                assertEquals(RowChange.Op.UPDATE, update.op());
                assertEquals("renamed", update.after().get("name"));
                assertEquals(List.of("big"), update.unchanged(), "the TOASTed column is listed as unchanged");
                assertFalse(update.after().containsKey("big"));
                assertFalse(new String(transport.published().get(1).payload(), java.nio.charset.StandardCharsets.UTF_8)
                        .contains(RowChangeConverter.UNAVAILABLE), "the placeholder never leaves capture");

                ChangeSet cs3 = sets.get(2);
                assertEquals(List.of(RowChange.Op.INSERT, RowChange.Op.DELETE, RowChange.Op.UPDATE),
                        cs3.rows().stream().map(RowChange::op).toList());
                assertTrue(cs3.rows().get(0).after().containsKey("note"));
                assertNull(cs3.rows().get(0).after().get("note"));
                assertNull(cs3.rows().get(1).after());
                assertEquals(Map.of("parent_id", "1", "tag", "x"), cs3.rows().get(1).before(),
                        "REPLICA IDENTITY FULL: a real before-image");
                assertNull(cs3.rows().get(2).before(), "default identity: no before-image, not one full of nulls");
                assertEquals("NaN", cs3.rows().get(2).after().get("f"));
                assertEquals("-Infinity", cs3.rows().get(2).after().get("r"));

                assertEquals(3, sets.stream().map(ChangeSet::sourceTxId).distinct().count());
                assertEquals(3, capture.stats().published());
                assertTrue(capture.stats().lastCommitTime() != null);

                // The transport fails for a while: capture retries the same transaction, never skips it.
                transport.failNextPublishes(3);
                Fixtures.exec(c, "INSERT INTO tag VALUES (1, 'after failures')");
                c.commit();
                Await.until(Duration.ofSeconds(30), () -> transport.size() >= 4,
                        () -> "published after transport failures, " + capture.stats());
                assertEquals(Map.of("parent_id", "1", "tag", "after failures"),
                        codec.decode(transport.published().get(3)).rows().get(0).key());
                assertEquals(4, capture.stats().published());
            }
        }
    }

    @Test
    void startFailsWithDebeziumsReasonWhenTheDatabaseRefuses() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("capture-bad", 1)) {
            PgServer a = pgs.get(0);
            Fixtures.createSchema(a);
            // A user that may read the catalog but not replicate: start() refuses, naming the user
            // and what it lacks (PrivilegeCheck, before Debezium would fail on it).
            try (Connection c = a.connect()) {
                Fixtures.exec(c, "CREATE ROLE plain_user LOGIN PASSWORD 'plain' NOREPLICATION");
            }
            Map<String, String> raw = new java.util.HashMap<>(Fixtures.raw(a));
            raw.put("mirror.db.user", "plain_user");
            raw.put("mirror.db.password", "plain");
            try (DebeziumCapture capture = new DebeziumCapture(Fixtures.config(raw), "node-bad",
                    Fixtures.dataDir("bad"), new InMemoryTransport("node-bad"), new EchoPolicy(PostgresDialect.APPLY_ORIGIN), new PostgresDialect())) {
                CaptureException e = org.junit.jupiter.api.Assertions.assertThrows(CaptureException.class, capture::start);
                assertTrue(e.getMessage().contains("plain_user") && e.getMessage().contains("REPLICATION"), e.getMessage());
            }
            // A table without a primary key in a publication would break the site's own updates:
            // capture holds it out (never published) and starts; the site keeps writing into it.
            try (Connection c = a.connect()) {
                Fixtures.exec(c, "CREATE TABLE log_lines (line text)", "CREATE TABLE shop_cache (k text)");
                Map<String, String> noKey = new java.util.HashMap<>(Fixtures.raw(a));
                noKey.put("mirror.tables.exclude", "public.shop_cache");
                try (DebeziumCapture capture = new DebeziumCapture(Fixtures.config(noKey), "node-nokey",
                        Fixtures.dataDir("nokey"), new InMemoryTransport("node-nokey"), new EchoPolicy(PostgresDialect.APPLY_ORIGIN), new PostgresDialect())) {
                    capture.start();
                    Map<String, String> held = capture.heldOut().snapshot();
                    assertEquals(java.util.Set.of("public.log_lines"), held.keySet(), held.toString());
                    assertTrue(held.get("public.log_lines").contains("primary key"), held.toString());
                    Fixtures.exec(c, "INSERT INTO log_lines VALUES ('x')", "UPDATE log_lines SET line = 'still writable'");
                    assertEquals(List.of(), Fixtures.rows(a, "SELECT tablename FROM pg_publication_tables"
                            + " WHERE tablename IN ('log_lines', 'shop_cache')"), "neither is published");
                }
            }
        }
    }
}
