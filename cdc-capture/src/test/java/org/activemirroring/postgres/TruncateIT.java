package org.activemirroring.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

import org.activemirroring.apply.ChangeSetApplier;
import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.capture.CaptureVersioner;
import org.activemirroring.capture.DebeziumCapture;
import org.activemirroring.capture.EchoPolicy;
import org.activemirroring.capture.Fixtures;
import org.activemirroring.capture.InMemoryTransport;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.change.HybridClock;
import org.activemirroring.change.RowChange;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.transport.Envelope;
import org.junit.jupiter.api.Test;

/**
 * TRUNCATE made with plain SQL on one of two real mirrors (capture, versioner and applier each,
 * ChangeSets carried by hand between them) reaches the other: several tables at once, CASCADE,
 * RESTART IDENTITY; a concurrent insert older than the truncate loses on both mirrors, a newer
 * one stays on both; the applied truncate is not captured again.
 */
class TruncateIT {

    private static final Duration WAIT = Duration.ofSeconds(60);

    /** One mirror: its database, capture, applier and what of its journal the other has received. */
    private static final class Node implements AutoCloseable {
        final String id;
        final PgServer db;
        final InMemoryTransport journal;
        final ChangeSetApplier applier;
        final DebeziumCapture capture;
        final Connection sql;
        int sent;

        Node(String id, PgServer db, HybridClock clock) throws Exception {
            this.id = id;
            this.db = db;
            PostgresDialect dialect = new PostgresDialect(); // capture and applier share it, as in MirrorNode
            CaptureConfig config = Fixtures.config(db);
            journal = new InMemoryTransport(id);
            applier = new ChangeSetApplier(config, dialect, id, clock);
            CaptureVersioner versioner = new CaptureVersioner(config, dialect, id, clock, applier::appliedNow);
            Path dir = Fixtures.dataDir("truncate-" + id);
            capture = new DebeziumCapture(config, id, dir, journal, EchoPolicy.forDialect(dialect), dialect, versioner);
            capture.start();
            sql = db.connect();
        }

        /** Delivers to {@code to} what this node published since the last call. */
        void sendTo(Node to) throws Exception {
            List<Envelope> all = journal.published();
            for (; sent < all.size(); sent++) {
                to.applier.deliver(all.get(sent));
            }
        }

        void awaitPublished(int count) {
            Await.until(WAIT, () -> journal.size() >= count, () -> id + " published " + journal.size() + " of "
                    + count + ", " + capture.stats());
        }

        List<String> rows(String sqlText) throws Exception {
            return Fixtures.rows(db, sqlText);
        }

        @Override
        public void close() throws Exception {
            capture.close();
            applier.close();
            sql.close();
        }
    }

    private static void awaitRows(Node n, String query, List<String> expected) {
        Callable<Boolean> ok = () -> n.rows(query).equals(expected);
        Await.until(WAIT, ok, () -> {
            try {
                return n.id + ": " + query + " gave " + n.rows(query) + ", expected " + expected;
            } catch (Exception e) {
                return e.toString();
            }
        });
    }

    private static final String PARENTS = "SELECT id::text FROM parent ORDER BY id";

    @Test
    void truncatesReachThePeerAndAreNotEchoed() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("truncate", 2)) {
            for (PgServer s : pgs.servers()) {
                Fixtures.createSchema(s);
                try (Connection c = s.connect()) {
                    Fixtures.exec(c, "CREATE TABLE counter (id bigserial PRIMARY KEY, v text)");
                }
            }
            HybridClock clock = new HybridClock(Clock.systemUTC());
            try (Node a = new Node("tr-a", pgs.get(0), clock); Node b = new Node("tr-b", pgs.get(1), clock)) {
                Fixtures.exec(a.sql, "INSERT INTO parent (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three')",
                        "INSERT INTO child (id, parent_id) VALUES (10, 1)",
                        "INSERT INTO tag (parent_id, tag) VALUES (1, 'x'), (2, 'y')",
                        "INSERT INTO counter (v) VALUES ('a'), ('b')");
                a.awaitPublished(4);
                a.sendTo(b);
                assertEquals(List.of("1", "2", "3"), b.rows(PARENTS));
                assertEquals(List.of("10"), b.rows("SELECT id::text FROM child"));

                // Two tables in one statement.
                Fixtures.exec(a.sql, "TRUNCATE tag, child");
                a.awaitPublished(5);
                a.sendTo(b);
                assertEquals(List.of(), b.rows("SELECT tag FROM tag"));
                assertEquals(List.of(), b.rows("SELECT id::text FROM child"));
                assertEquals(List.of("1", "2", "3"), b.rows(PARENTS));

                // CASCADE: the referencing table goes too, on the peer as on the origin.
                Fixtures.exec(a.sql, "INSERT INTO child (id, parent_id) VALUES (11, 2)");
                Fixtures.exec(a.sql, "TRUNCATE parent CASCADE");
                a.awaitPublished(7);
                a.sendTo(b);
                assertEquals(List.of(), b.rows(PARENTS));
                assertEquals(List.of(), b.rows("SELECT id::text FROM child"));

                // RESTART IDENTITY resets the origin's sequence only; rows still go everywhere.
                Fixtures.exec(a.sql, "TRUNCATE counter RESTART IDENTITY", "INSERT INTO counter (v) VALUES ('c')");
                a.awaitPublished(9);
                a.sendTo(b);
                assertEquals(List.of("1|c"), b.rows("SELECT id || '|' || v FROM counter"));

                // No echo: B's next capture is its own write, nothing of what it applied.
                Fixtures.exec(b.sql, "INSERT INTO parent (id, name) VALUES (100, 'from b')");
                b.awaitPublished(1);
                ChangeSet own = new ChangeSetCodec().decode(b.journal.published().get(0));
                assertEquals(1, own.rows().size(), own.toString());
                assertEquals(RowChange.Op.INSERT, own.rows().get(0).op());
                b.sendTo(a);
                assertEquals(List.of("100"), a.rows(PARENTS));
                Fixtures.exec(a.sql, "INSERT INTO parent (id, name) VALUES (101, 'marker')");
                a.awaitPublished(10);
                assertEquals(10, a.journal.size(), "A published its marker and nothing of what it applied");
                assertEquals(1, b.journal.size());
            }
        }
    }

    /**
     * Last writer wins against a truncate: an insert on B older than A's truncate loses on both
     * mirrors (on A it arrives after the truncate and is kept in the conflict log only), an insert
     * on B newer than it stays on both.
     */
    @Test
    void concurrentInsertsOlderThanTheTruncateLoseNewerOnesStay() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("truncate-lww", 2)) {
            for (PgServer s : pgs.servers()) {
                Fixtures.createSchema(s);
            }
            // One clock for both mirrors: versions follow the order the test makes the writes in.
            HybridClock clock = new HybridClock(Clock.systemUTC());
            try (Node a = new Node("lww-a", pgs.get(0), clock); Node b = new Node("lww-b", pgs.get(1), clock)) {
                Fixtures.exec(a.sql, "INSERT INTO parent (id, name) VALUES (1, 'one'), (2, 'two')");
                a.awaitPublished(1);
                a.sendTo(b);

                Fixtures.exec(b.sql, "INSERT INTO parent (id, name) VALUES (20, 'older than the truncate')");
                b.awaitPublished(1);
                Fixtures.exec(a.sql, "TRUNCATE parent CASCADE");
                a.awaitPublished(2);
                Fixtures.exec(b.sql, "INSERT INTO parent (id, name) VALUES (21, 'newer than the truncate')");
                b.awaitPublished(2);

                a.sendTo(b);
                b.sendTo(a);
                assertEquals(List.of("21"), a.rows(PARENTS));
                assertEquals(List.of("21"), b.rows(PARENTS));
                assertEquals(List.of("20"), a.rows("SELECT row_key ->> 'id' FROM mirror.conflict"
                        + " WHERE tbl = 'public.parent'"), "the late older insert is kept in A's conflict log");
                for (Node n : List.of(a, b)) {
                    assertEquals(List.of("[\"21\"]"), n.rows("SELECT pk FROM mirror.row_version"
                            + " WHERE tbl = 'public.parent'"), n.id + ": only the surviving row keeps a version");
                    assertEquals(List.of("public.child", "public.parent", "public.tag"),
                            n.rows("SELECT tbl FROM " + TableTruncation.TABLE + " ORDER BY tbl"), n.id);
                }
                // A repeated truncate delivery and later writes: nothing changes the outcome.
                Fixtures.exec(a.sql, "INSERT INTO parent (id, name) VALUES (22, 'after')");
                a.awaitPublished(3);
                a.sendTo(b);
                awaitRows(b, PARENTS, List.of("21", "22"));
                assertEquals(2, b.journal.size(), "B captured none of what it applied");
            }
        }
    }
}
