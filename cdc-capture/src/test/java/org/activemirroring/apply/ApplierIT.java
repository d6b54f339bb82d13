package org.activemirroring.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.capture.Fixtures;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.change.RowChange;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.transport.Envelope;
import org.junit.jupiter.api.Test;

/** The applier's failure handling on a real PostgreSQL: broken connections, tables without key, other payloads. */
class ApplierIT {

    private final ChangeSetCodec codec = new ChangeSetCodec();
    private long seq;

    private Envelope envelope(RowChange... rows) {
        seq++;
        ChangeSet cs = new ChangeSet("node-x", 0, 100 + seq, 1, 2, List.of(rows));
        return new Envelope(Envelope.FORMAT_VERSION, "node-x", seq, new byte[Envelope.HASH_LENGTH],
                ChangeSet.PAYLOAD_TYPE, codec.encode(cs), new byte[0]);
    }

    private static RowChange insert(String table, String id, String name) {
        Map<String, String> after = new LinkedHashMap<>();
        after.put("id", id);
        after.put("name", name);
        return new RowChange(table, RowChange.Op.INSERT, Map.of("id", id), after, null, List.of());
    }

    @Test
    void reconnectsAfterABrokenConnectionAndRefusesTablesWithoutKey() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("applier", 1)) {
            PgServer s = pgs.get(0);
            Fixtures.createSchema(s);
            try (Connection c = s.connect();
                 ChangeSetApplier applier = new ChangeSetApplier(Fixtures.config(s), new PostgresDialect())) {
                Fixtures.exec(c, "CREATE TABLE nokey (id bigint, name text)");

                applier.deliver(envelope(insert("public.parent", "1", "one")));
                assertEquals(1, applier.stats().applied());

                // Another payload type without a receiver here: not applied, but recorded, so the
                // origin's lag shows true.
                applier.deliver(new Envelope(Envelope.FORMAT_VERSION, "node-x", ++seq, new byte[Envelope.HASH_LENGTH],
                        "other/1", new byte[] {1}, new byte[0]));
                assertEquals(1, applier.stats().ignored());
                assertEquals(Map.of("node-x", 2L), applier.appliedVector());
                // With a receiver: it takes the envelope and makes it durable before the seq is recorded.
                List<String> calls = new java.util.ArrayList<>();
                applier.register(new org.activemirroring.transport.PayloadReceiver() {
                    @Override
                    public String payloadType() {
                        return "filechange/1";
                    }

                    @Override
                    public void receive(Envelope e) {
                        calls.add("receive " + e.seq());
                    }

                    @Override
                    public void prepareCommit() throws Exception {
                        calls.add("prepare, applied " + applier.appliedNow().get("node-x"));
                    }
                });
                Envelope file = new Envelope(Envelope.FORMAT_VERSION, "node-x", ++seq, new byte[Envelope.HASH_LENGTH],
                        "filechange/1", new byte[] {1}, new byte[0]);
                applier.deliver(file);
                applier.deliver(file); // again (a redelivery): a duplicate, not taken twice
                assertEquals(List.of("receive 3", "prepare, applied 2"), calls);
                assertEquals(Map.of("node-x", 3L), applier.appliedVector());

                // The database drops the applier's session (restart, failover): the attempt fails
                // as retriable, and the same envelope succeeds on the transport's retry.
                Fixtures.exec(c, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        + " WHERE pid <> pg_backend_pid() AND datname = current_database() AND backend_type = 'client backend'");
                Envelope second = envelope(insert("public.parent", "2", "two"));
                ApplyException broken = assertThrows(ApplyException.class, () -> applier.deliver(second));
                assertTrue(broken.isRetriable(), broken.getMessage());
                applier.deliver(second);
                assertEquals(2, applier.stats().applied());
                assertEquals(Map.of("node-x", 4L), applier.appliedVector());
                assertEquals(List.of("(1,one,,,,,)", "(2,two,,,,,)"), Fixtures.dump(c, "public.parent"));

                // A table without a primary key: permanent, so parked whole with an error that says
                // what to do, nothing half-applied, and the stream goes on after it.
                Envelope noKey = envelope(insert("public.parent", "3", "three"), insert("public.nokey", "1", "x"));
                applier.deliver(noKey);
                assertEquals(2, Fixtures.dump(c, "public.parent").size(), "the whole ChangeSet was rolled back");
                assertEquals(Map.of("node-x", 5L), applier.appliedVector());
                List<ParkedChanges.Parked> parked = applier.parkedChanges(10);
                assertEquals(1, parked.size(), parked.toString());
                assertEquals("error", parked.get(0).reason());
                assertEquals(List.of("public.nokey", "public.parent"), parked.get(0).tables());
                assertTrue(parked.get(0).error().contains("public.nokey")
                        && parked.get(0).error().contains("mirror.tables.exclude"), parked.get(0).error());
            }
        }
    }

    /**
     * Capture repairs a log-capture race only if the row still holds what the applier wrote, which
     * it tells by the row's {@code xmin} equal to the stored writer xid. The applier writes rows
     * inside a savepoint, whose subtransaction xid is not the top-level one.
     */
    @Test
    void storedWriterXidIsTheXminOfTheAppliedRow() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("applier-xid", 1)) {
            PgServer s = pgs.get(0);
            Fixtures.createSchema(s);
            try (Connection c = s.connect();
                 ChangeSetApplier applier = new ChangeSetApplier(Fixtures.config(s), new PostgresDialect())) {
                applier.deliver(envelope(insert("public.parent", "1", "one"), insert("public.parent", "2", "two")));
                try (var rs = c.createStatement().executeQuery("SELECT count(*), count(*) FILTER (WHERE"
                        + " t.xmin::text::bigint = v.writer_xid) FROM public.parent t JOIN mirror.row_version v"
                        + " ON v.tbl = 'public.parent' AND v.pk = '[\"' || t.id || '\"]'")) {
                    rs.next();
                    assertEquals(2, rs.getInt(1), "rows with a version");
                    assertEquals(2, rs.getInt(2), "rows whose xmin is the stored writer xid");
                }
            }
        }
    }

    @Test
    void aRowChangedTwiceInOneTransactionIsAppliedInOrder() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("applier-twice", 1)) {
            PgServer s = pgs.get(0);
            Fixtures.createSchema(s);
            try (Connection c = s.connect();
                 ChangeSetApplier applier = new ChangeSetApplier(Fixtures.config(s), new PostgresDialect())) {
                // Same statement shape three times, twice for key 1: batched upserts must not put
                // both changes of row 1 into one multi-row INSERT ... ON CONFLICT.
                applier.deliver(envelope(insert("public.parent", "1", "first"), insert("public.parent", "2", "two"),
                        insert("public.parent", "1", "second"), insert("public.parent", "3", "three")));
                assertEquals(List.of("(1,second,,,,,)", "(2,two,,,,,)", "(3,three,,,,,)"), Fixtures.dump(c, "public.parent"));
            }
        }
    }

    /**
     * Grouped delivery: a flush applies the group in one transaction, records the applied seq and
     * apply_count once per origin, and a group that fails leaves nothing behind (rows, applied
     * vector, the in-memory view) so that the transport can deliver it again.
     */
    @Test
    void aGroupIsAppliedAndRecordedAtFlushAndRolledBackWhole() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("applier-group", 1)) {
            PgServer s = pgs.get(0);
            Fixtures.createSchema(s);
            try (Connection c = s.connect();
                 ChangeSetApplier applier = new ChangeSetApplier(Fixtures.config(s), new PostgresDialect())) {
                Fixtures.exec(c, "CREATE TABLE nokey (id bigint, name text)");
                applier.groupDeliveries(true);
                Envelope first = envelope(insert("public.parent", "1", "one"));
                applier.deliver(first);
                applier.deliver(envelope(insert("public.parent", "2", "two"), insert("public.parent", "3", "three")));
                applier.deliver(envelope(insert("public.parent", "1", "uno"))); // row 1 again: a later run
                applier.deliver(envelope(insert("public.parent", "4", "four")));
                applier.deliver(first); // repeated within the group
                assertEquals(List.of(), Fixtures.dump(c, "public.parent"), "nothing before the flush");
                applier.flush();
                assertEquals(List.of("(1,uno,,,,,)", "(2,two,,,,,)", "(3,three,,,,,)", "(4,four,,,,,)"),
                        Fixtures.dump(c, "public.parent"));
                assertEquals(Map.of("node-x", 4L), applier.appliedVector());
                assertEquals(Map.of("node-x", 4L), applier.appliedNow());
                assertEquals(4, applyCount(c));
                assertEquals(4, applier.stats().applied());
                assertEquals(1, applier.stats().duplicates());

                // A group whose second ChangeSet cannot be applied: the flush fails, nothing of
                // the group stays, and delivered again one by one the first goes through.
                Envelope five = envelope(insert("public.parent", "5", "five"));
                Envelope six = envelope(insert("public.nokey", "1", "x"));
                applier.deliver(five);
                applier.deliver(six);
                assertThrows(ApplyException.class, applier::flush);
                assertEquals(4, Fixtures.dump(c, "public.parent").size());
                assertEquals(Map.of("node-x", 4L), applier.appliedNow());
                assertEquals(Map.of("node-x", 4L), applier.appliedVector());
                applier.deliver(five);
                applier.flush();
                assertEquals(Map.of("node-x", 5L), applier.appliedNow());
                assertEquals(5, applyCount(c));
                // Alone, it fails for good: parked, and its seq counts as applied.
                applier.deliver(six);
                applier.flush();
                assertEquals(Map.of("node-x", 6L), applier.appliedVector());
                assertEquals(1, applier.parkedChanges(10).size());
            }
        }
    }

    private static long applyCount(Connection c) throws Exception {
        try (var rs = c.createStatement().executeQuery("SELECT apply_count FROM mirror.applied WHERE origin = 'node-x'")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
