package org.activemirroring.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.activemirroring.capture.Fixtures;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.change.HybridClock;
import org.activemirroring.change.RowChange;
import org.activemirroring.change.RowVersion;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.transport.Envelope;
import org.activemirroring.transport.NotYetDeliverableException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The conflict rule as the applier of mirror "a" enforces it on a real PostgreSQL, with
 * hand-made ChangeSets from mirrors "b" and "c" whose clocks and dependencies the test chooses.
 */
class ConditionalApplyIT {

    private static PostgresServers servers;
    private static PgServer server;
    private static Connection sql;
    private static ChangeSetApplier applier;
    private static final HybridClock CLOCK = new HybridClock(Clock.systemUTC());
    private final ChangeSetCodec codec = new ChangeSetCodec();
    private static final Map<String, Long> SEQ = new LinkedHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        servers = PostgresServers.start("conditional", 1);
        server = servers.get(0);
        Fixtures.createSchema(server);
        sql = server.connect();
        applier = new ChangeSetApplier(Fixtures.config(server), new PostgresDialect(), "a", CLOCK);
    }

    @AfterAll
    static void stop() throws Exception {
        if (applier != null) {
            applier.close();
        }
        if (sql != null) {
            sql.close();
        }
        if (servers != null) {
            servers.close();
        }
    }

    private Envelope envelope(String origin, long clock, Map<String, Long> deps, RowChange... rows) {
        long seq = SEQ.merge(origin, 1L, Long::sum);
        ChangeSet cs = new ChangeSet(origin, 0, 1000 + seq, 1, 2, clock, deps, List.of(rows));
        return new Envelope(Envelope.FORMAT_VERSION, origin, seq, new byte[Envelope.HASH_LENGTH],
                ChangeSet.PAYLOAD_TYPE, codec.encode(cs), new byte[0]);
    }

    private static RowChange upsert(RowChange.Op op, String id, String name, RowVersion prev) {
        Map<String, String> after = new LinkedHashMap<>();
        after.put("id", id);
        after.put("name", name);
        return new RowChange("public.parent", op, Map.of("id", id), after, null, List.of(), prev);
    }

    private static RowChange delete(String id, RowVersion prev) {
        return new RowChange("public.parent", RowChange.Op.DELETE, Map.of("id", id), null, null, List.of(), prev);
    }

    private static String name(String id) throws Exception {
        try (Statement s = sql.createStatement();
             ResultSet rs = s.executeQuery("SELECT name FROM parent WHERE id = " + id)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** Conflict log entries for a key: kind, loser origin, loser's name, winner origin. */
    private static List<String> conflicts(String id) throws Exception {
        List<String> out = new ArrayList<>();
        try (Statement s = sql.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT kind, loser_origin, loser_op, coalesce(loser_row->>'name', '-'), winner_origin FROM mirror.conflict"
                        + " WHERE tbl = 'public.parent' AND row_key->>'id' = '" + id + "' ORDER BY id")) {
            while (rs.next()) {
                out.add(rs.getString(1) + " " + rs.getString(2) + ":" + rs.getString(3) + ":" + rs.getString(4)
                        + " < " + rs.getString(5));
            }
        }
        return out;
    }

    @Test
    void anOlderChangeLosesAndIsLoggedANewerOneWinsAndLogsTheConcurrentRowItReplaces() throws Exception {
        applier.deliver(envelope("b", 100, Map.of(), upsert(RowChange.Op.INSERT, "10", "from-b", RowVersion.NONE)));
        assertEquals("from-b", name("10"));
        assertEquals(List.of(), conflicts("10"), "a first insert is no conflict");

        // c wrote concurrently with an older clock: it loses here, and is kept in the log.
        applier.deliver(envelope("c", 90, Map.of(), upsert(RowChange.Op.INSERT, "10", "from-c-old", RowVersion.NONE)));
        assertEquals("from-b", name("10"));
        assertEquals(List.of("update c:c:from-c-old < b"), conflicts("10"));

        // c again, newer, but without having seen b's version: it wins, b's row is logged.
        applier.deliver(envelope("c", 200, Map.of(),
                upsert(RowChange.Op.UPDATE, "10", "from-c-new", new RowVersion(90, "c"))));
        assertEquals("from-c-new", name("10"));
        assertEquals(List.of("update c:c:from-c-old < b", "update b:u:from-b < c"), conflicts("10"));

        // b, having seen c's version: a plain succession, nothing logged.
        applier.deliver(envelope("b", 300, Map.of(),
                upsert(RowChange.Op.UPDATE, "10", "b-after-c", new RowVersion(200, "c"))));
        assertEquals("b-after-c", name("10"));
        assertEquals(2, conflicts("10").size());
        assertTrue(CLOCK.current() >= 300, "the applier's clock witnessed the applied clocks");
    }

    @Test
    void equalClocksAreOrderedByOriginTheSameWayEverywhere() throws Exception {
        applier.deliver(envelope("c", 500, Map.of(), upsert(RowChange.Op.INSERT, "20", "c-wins", RowVersion.NONE)));
        applier.deliver(envelope("b", 500, Map.of(), upsert(RowChange.Op.INSERT, "20", "b-loses", RowVersion.NONE)));
        assertEquals("c-wins", name("20"));
        assertEquals(List.of("update b:c:b-loses < c"), conflicts("20"));
    }

    @Test
    void aTombstoneKeepsALateOlderUpdateFromResurrectingTheRowUntilPurged() throws Exception {
        applier.deliver(envelope("b", 1000, Map.of(), upsert(RowChange.Op.INSERT, "30", "x", RowVersion.NONE)));
        applier.deliver(envelope("b", 1100, Map.of(), delete("30", new RowVersion(1000, "b"))));
        assertEquals(null, name("30"));
        // c updated the row concurrently, before it saw the delete: older, so it must not come back.
        applier.deliver(envelope("c", 1050, Map.of(),
                upsert(RowChange.Op.UPDATE, "30", "zombie", new RowVersion(1000, "b"))));
        assertEquals(null, name("30"));
        assertEquals(List.of("update c:u:zombie < b"), conflicts("30"));

        long bSeq = SEQ.get("b");
        // Not every mirror is known to have applied the delete: c has not reported b#bSeq yet.
        applier.purgeTombstones(Set.of("a", "b", "c"));
        assertEquals(1, tombstones("30"));
        applier.deliver(envelope("c", 1200, Map.of("b", bSeq), upsert(RowChange.Op.INSERT, "31", "y", RowVersion.NONE)));
        assertTrue(applier.purgeTombstones(Set.of("a", "b", "c")) >= 1);
        assertEquals(0, tombstones("30"));
    }

    private static int tombstones(String id) throws Exception {
        try (Statement s = sql.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT count(*) FROM mirror.row_version WHERE deleted AND tbl = 'public.parent' AND pk = '[\"" + id + "\"]'")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void aChangeWaitsUntilWhatItsOriginHadAppliedIsAppliedHere() throws Exception {
        long next = SEQ.getOrDefault("b", 0L) + 1;
        // c's change depends on b#next, which has not arrived here yet.
        Envelope fromC = envelope("c", 2000, Map.of("b", next, "a", 99L),
                upsert(RowChange.Op.INSERT, "40", "child-of-b", RowVersion.NONE));
        assertThrows(NotYetDeliverableException.class, () -> applier.deliver(fromC));
        assertEquals(null, name("40"));
        long waits = applier.stats().waits();
        applier.deliver(envelope("b", 1900, Map.of(), upsert(RowChange.Op.INSERT, "41", "parent", RowVersion.NONE)));
        applier.deliver(fromC); // "a" is this mirror: its own writes are always here
        assertEquals("child-of-b", name("40"));
        assertTrue(waits >= 1);
    }

    @Test
    void twoRowsClaimingTheSameUniqueValueKeepTheOneWithTheSmallerIdentity() throws Exception {
        Fixtures.exec(sql, "CREATE UNIQUE INDEX IF NOT EXISTS parent_name_unique ON parent (name) WHERE id >= 50");
        try {
            applier.deliver(envelope("b", 3000, Map.of(), upsert(RowChange.Op.INSERT, "57", "alice", RowVersion.NONE)));
            // c's row 55 sorts first: it replaces b's 57, which is logged.
            applier.deliver(envelope("c", 3001, Map.of(), upsert(RowChange.Op.INSERT, "55", "alice", RowVersion.NONE),
                    upsert(RowChange.Op.INSERT, "56", "bob", RowVersion.NONE)));
            assertEquals("alice", name("55"));
            assertEquals(null, name("57"));
            assertEquals("bob", name("56"), "the rest of the ChangeSet applied");
            assertEquals(List.of("unique b:c:alice < c"), conflicts("57"));
            // b's row 58 sorts after 55: it loses and is logged; replication goes on.
            applier.deliver(envelope("b", 3002, Map.of(), upsert(RowChange.Op.INSERT, "58", "alice", RowVersion.NONE)));
            assertEquals(null, name("58"));
            assertEquals(List.of("unique b:c:alice < c"), conflicts("58"));
            assertEquals("alice", name("55"));
        } finally {
            Fixtures.exec(sql, "DROP INDEX parent_name_unique");
        }
    }
}
