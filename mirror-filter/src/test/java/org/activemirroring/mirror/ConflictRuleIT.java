package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.activemirroring.change.RowVersion;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.MirrorSettings;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The conflict rule on three real mirrors: concurrent writes to one row end with the newer
 * (clock, origin) everywhere and the loser in the conflict log; a child never applies before its
 * parent; a local write that an applied change overtook before capture saw it wins and is
 * restored; two rows claiming one unique value keep the same one everywhere without stalling.
 *
 * <p>The mirrors start once for the class; each test works on its own keys. Concurrency is made,
 * not hoped for: applying (or capturing) is held on the writing mirrors while they write.
 */
class ConflictRuleIT {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final List<String> TABLES = List.of("account", "parent", "child");
    private static final String DDL = """
            CREATE TABLE account (id bigint PRIMARY KEY, name text NOT NULL UNIQUE, note text);
            CREATE TABLE parent (id bigint PRIMARY KEY, label text);
            CREATE TABLE child (id bigint PRIMARY KEY, parent_id bigint REFERENCES parent(id), label text);
            """;

    private static PostgresServers pgs;
    private static List<PgServer> servers;
    private static List<MirrorNode> nodes = List.of();
    private static Set<Thread> threadsBefore;
    private static MirrorNode a;
    private static MirrorNode b;
    private static MirrorNode c;
    private static PgServer pa;
    private static PgServer pb;
    private static PgServer pc;

    @BeforeAll
    static void startMirrors() throws Exception {
        pgs = PostgresServers.start("conflict", 3);
        servers = pgs.servers();
        for (PgServer s : servers) {
            try (Connection conn = s.connect(); Statement st = conn.createStatement()) {
                st.execute(DDL);
            }
        }
        threadsBefore = Set.copyOf(Thread.getAllStackTraces().keySet());
        List<Map<String, String>> configs = new ArrayList<>();
        for (Map<String, String> m : MirrorSettings.forServers("cr", servers)) {
            // No periodic catch-up: a mirror cut off from an origin then gets that origin's
            // envelopes only once healed (or when it notices a hole), which makes the causal test
            // deterministic. Start and view changes still run a catch-up round.
            configs.add(TestMirrors.with(m, "mirror.transport.catchup.interval.ms", "600000"));
        }
        nodes = TestMirrors.startAll(configs);
        a = nodes.get(0);
        b = nodes.get(1);
        c = nodes.get(2);
        pa = servers.get(0);
        pb = servers.get(1);
        pc = servers.get(2);
        ReplicationChecks.awaitMembers(nodes, 3, WAIT);
    }

    @AfterAll
    static void stopMirrors() {
        try {
            for (MirrorNode n : nodes) {
                n.holdApply(false);
                n.holdCapture(false);
            }
            TestMirrors.closeAll(nodes);
            if (threadsBefore != null) {
                Await.until(WAIT, () -> ThreeMirrorReplicationIT.threadsStartedSince(threadsBefore).isEmpty(),
                        () -> "threads left after all mirrors stopped: "
                                + ThreeMirrorReplicationIT.threadsStartedSince(threadsBefore));
            }
        } finally {
            if (pgs != null) {
                pgs.close();
            }
        }
    }

    /** Same row updated on A and B while neither applies the other: the newer (clock, origin) wins everywhere. */
    @Test
    void concurrentUpdatesOfOneRowEndWithTheNewerVersionEverywhereAndTheLoserLogged() throws Exception {
        exec(pa, "INSERT INTO account (id, name, note) VALUES (101, 'acct-101', 'v0')");
        awaitEverywhere("account 101 inserted", "SELECT note FROM account WHERE id = 101", "v0");
        Map<MirrorNode, Long> loggedBefore = loggedConflicts();

        writeConcurrently(() -> exec(pa, "UPDATE account SET note = 'from-" + a.nodeId() + "' WHERE id = 101"),
                () -> exec(pb, "UPDATE account SET note = 'from-" + b.nodeId() + "' WHERE id = 101"));
        awaitConverged();

        RowVersion winner = sameVersionEverywhere("public.account", "[\"101\"]");
        assertTrue(Set.of(a.nodeId(), b.nodeId()).contains(winner.origin()), "winner " + winner);
        String loserOrigin = winner.origin().equals(a.nodeId()) ? b.nodeId() : a.nodeId();
        for (PgServer s : servers) {
            assertEquals("from-" + winner.origin(), query(s, "SELECT note FROM account WHERE id = 101"),
                    s.name() + " holds the write of the newer version " + winner);
        }
        // Every mirror saw both writes and logged the older one, with both row images.
        for (int i = 0; i < 3; i++) {
            List<Map<String, String>> logged = conflicts(servers.get(i), "public.account", "101");
            assertEquals(1, logged.size(), nodes.get(i).nodeId() + " conflict log " + logged);
            Map<String, String> k = logged.get(0);
            assertEquals("update", k.get("kind"), k.toString());
            assertEquals(loserOrigin, k.get("loser_origin"), k.toString());
            assertEquals("from-" + loserOrigin, k.get("loser_note"), k.toString());
            assertEquals("from-" + winner.origin(), k.get("winner_note"), k.toString());
            assertEquals(winner, new RowVersion(Long.parseLong(k.get("winner_clock")), k.get("winner_origin")));
            RowVersion loser = new RowVersion(Long.parseLong(k.get("loser_clock")), k.get("loser_origin"));
            assertTrue(winner.isNewerThan(loser), "winner " + winner + " vs loser " + loser);
        }
        Map<MirrorNode, Long> loggedAfter = loggedConflicts();
        for (MirrorNode n : nodes) {
            assertEquals(loggedBefore.get(n) + 1, loggedAfter.get(n), n.nodeId() + " /status conflicts.logged");
        }
    }

    /** A deletes the row B updates concurrently: one outcome everywhere, the newer one, the other logged. */
    @Test
    void deleteAgainstConcurrentUpdateEndsTheSameEverywhere() throws Exception {
        exec(pa, "INSERT INTO account (id, name, note) VALUES (201, 'acct-201', 'v0')");
        awaitEverywhere("account 201 inserted", "SELECT note FROM account WHERE id = 201", "v0");

        writeConcurrently(() -> exec(pa, "DELETE FROM account WHERE id = 201"),
                () -> exec(pb, "UPDATE account SET note = 'from-b' WHERE id = 201"));
        awaitConverged();

        RowVersion winner = sameVersionEverywhere("public.account", "[\"201\"]");
        boolean deleteWon = winner.origin().equals(a.nodeId());
        assertTrue(deleteWon || winner.origin().equals(b.nodeId()), "winner " + winner);
        for (PgServer s : servers) {
            assertEquals(deleteWon ? null : "from-b", query(s, "SELECT note FROM account WHERE id = 201"),
                    s.name() + " after the newer version " + winner);
            assertEquals(deleteWon, Boolean.parseBoolean(query(s, "SELECT deleted::text FROM mirror.row_version"
                    + " WHERE tbl = 'public.account' AND pk = '[\"201\"]'")), s.name() + " tombstone");
        }
        boolean loserLogged = false;
        for (PgServer s : servers) {
            for (Map<String, String> k : conflicts(s, "public.account", "201")) {
                loserLogged = true;
                assertEquals(deleteWon ? b.nodeId() : a.nodeId(), k.get("loser_origin"), k.toString());
                assertEquals(deleteWon ? "u" : "d", k.get("loser_op"), k.toString());
                assertEquals(deleteWon ? "from-b" : null, k.get("loser_note"), k.toString());
                assertEquals(deleteWon ? null : "from-b", k.get("winner_note"), k.toString());
            }
        }
        assertTrue(loserLogged, "the losing " + (deleteWon ? "update" : "delete") + " is in no conflict log");
    }

    /** C gets B's child before A's parent (C is cut off from A): it waits for the parent. */
    @Test
    void childWaitsForItsParentOnAMirrorThatGetsItFirst() throws Exception {
        long waitsBefore = c.status().apply().waits();
        a.transport().isolateFrom(Set.of(c.nodeId()));
        c.transport().isolateFrom(Set.of(a.nodeId()));
        try {
            exec(pa, "INSERT INTO parent (id, label) VALUES (301, 'p')");
            Await.until(WAIT, () -> query(pb, "SELECT label FROM parent WHERE id = 301") != null,
                    () -> "parent 301 never reached " + b.nodeId());
            long bHead = b.ownJournalHead();
            exec(pb, "INSERT INTO child (id, parent_id, label) VALUES (301, 301, 'c')");
            Await.until(WAIT, () -> b.ownJournalHead() > bHead, () -> b.nodeId() + " never published the child");
            Await.until(WAIT, () -> c.status().apply().waits() > waitsBefore,
                    () -> c.nodeId() + " never had to wait; status " + c.status());
            // It got B's ChangeSet and holds it back: no orphan child, no parent yet.
            assertTrue(c.status().origins().get(b.nodeId()).received() > bHead, () -> "" + c.status().origins());
            assertEquals("0", query(pc, "SELECT count(*) FROM child WHERE id = 301"), "child applied before parent");
            assertEquals("0", query(pc, "SELECT count(*) FROM parent WHERE id = 301"), "C was not cut off from A");
        } finally {
            a.transport().heal();
            c.transport().heal();
        }
        // A later write of A: makes C notice the hole at once instead of at JGroups' next retransmit.
        exec(pa, "INSERT INTO parent (id, label) VALUES (302, 'nudge')");
        Await.until(WAIT, () -> query(pc, "SELECT parent_id FROM child WHERE id = 301") != null,
                () -> "child 301 never applied on " + c.nodeId() + "; status " + c.status());
        assertEquals("p", query(pc, "SELECT label FROM parent WHERE id = 301"));
        awaitEverywhere("nudge parent", "SELECT label FROM parent WHERE id = 302", "nudge");
        awaitConverged();
    }

    /**
     * A's write W to a versioned row is committed but not captured when B's R arrives: W will be
     * stamped after R, so the applier already lets R lose instead of overwriting W.
     */
    @Test
    void anAppliedChangeNeverOverwritesAnUncapturedLocalWriteOfAVersionedRow() throws Exception {
        exec(pa, "INSERT INTO account (id, name, note) VALUES (401, 'acct-401', 'v0')");
        awaitEverywhere("account 401 inserted", "SELECT note FROM account WHERE id = 401", "v0");
        long aHead = a.ownJournalHead();
        long repairsBefore = a.status().conflicts().raceRepairs();
        a.holdCapture(true);
        try {
            exec(pa, "UPDATE account SET note = 'W' WHERE id = 401");
            long bHead = b.ownJournalHead();
            exec(pb, "UPDATE account SET note = 'R' WHERE id = 401");
            Await.until(WAIT, () -> b.ownJournalHead() > bHead, () -> b.nodeId() + " never published R");
            Await.until(WAIT, () -> a.appliedVector().getOrDefault(b.nodeId(), 0L) > bHead,
                    () -> "R never applied on " + a.nodeId() + "; status " + a.status());
            assertEquals("W", query(pa, "SELECT note FROM account WHERE id = 401"), "R overwrote the uncaptured W");
            assertEquals(aHead, a.ownJournalHead(), "W was published although capture was held");
        } finally {
            a.holdCapture(false);
        }
        Await.until(WAIT, () -> a.ownJournalHead() > aHead, () -> a.nodeId() + " never published W");
        awaitConverged();

        for (PgServer s : servers) {
            assertEquals("W", query(s, "SELECT note FROM account WHERE id = 401"), s.name() + " final value");
        }
        assertEquals(a.nodeId(), sameVersionEverywhere("public.account", "[\"401\"]").origin());
        assertEquals(aHead + 1, a.ownJournalHead());
        assertEquals(repairsBefore, a.status().conflicts().raceRepairs(), "nothing to repair");
        List<Map<String, String>> onA = conflicts(pa, "public.account", "401");
        assertEquals(1, onA.size(), onA.toString());
        Map<String, String> lost = onA.get(0);
        assertEquals("update", lost.get("kind"), lost.toString());
        assertEquals(b.nodeId(), lost.get("loser_origin"), lost.toString());
        assertEquals("R", lost.get("loser_note"), lost.toString());
        assertEquals(a.nodeId(), lost.get("winner_origin"), lost.toString());
        assertEquals("W", lost.get("winner_note"), lost.toString());
    }

    /**
     * Without commit timestamps the applier cannot tell that a row holds an unstamped local write
     * (A's W), so B's R overwrites it. Capture then sees W after R in the log, restores W (it is
     * newer) and logs R.
     */
    @Test
    void withoutCommitTimestampsALocalWriteOvertakenBeforeCaptureIsRestoredAndTheAppliedOneLogged()
            throws Exception {
        long aHead = a.ownJournalHead();
        long repairsBefore = a.status().conflicts().raceRepairs();
        a.holdCapture(true);
        a.useCommitTimestamps(false);
        try {
            exec(pa, "INSERT INTO account (id, name, note) VALUES (402, 'acct-402-a', 'W')");
            long bHead = b.ownJournalHead();
            exec(pb, "INSERT INTO account (id, name, note) VALUES (402, 'acct-402-b', 'R')");
            Await.until(WAIT, () -> b.ownJournalHead() > bHead, () -> b.nodeId() + " never published R");
            Await.until(WAIT, () -> "R".equals(query(pa, "SELECT note FROM account WHERE id = 402")),
                    () -> "R never applied over W on " + a.nodeId() + "; status " + a.status());
            assertEquals(aHead, a.ownJournalHead(), "W was published although capture was held");
        } finally {
            a.useCommitTimestamps(true);
            a.holdCapture(false);
        }
        Await.until(WAIT, () -> a.ownJournalHead() > aHead, () -> a.nodeId() + " never published W");
        awaitConverged();

        for (PgServer s : servers) {
            assertEquals("W", query(s, "SELECT note FROM account WHERE id = 402"), s.name() + " final value");
        }
        assertEquals(a.nodeId(), sameVersionEverywhere("public.account", "[\"402\"]").origin());
        assertEquals(aHead + 1, a.ownJournalHead(), "the repair was captured again (echo)");
        assertEquals(repairsBefore + 1, a.status().conflicts().raceRepairs());
        List<Map<String, String>> onA = conflicts(pa, "public.account", "402");
        assertEquals(1, onA.size(), onA.toString());
        Map<String, String> race = onA.get(0);
        assertEquals("race", race.get("kind"), race.toString());
        assertEquals(b.nodeId(), race.get("loser_origin"), race.toString());
        assertEquals("R", race.get("loser_note"), race.toString());
        assertEquals(a.nodeId(), race.get("winner_origin"), race.toString());
        assertEquals("W", race.get("winner_note"), race.toString());
        // The mirror whose write lost logs it as its own (what its site's lost-write listener reads):
        // W replaced R there.
        List<Map<String, String>> onB = conflicts(pb, "public.account", "402");
        assertTrue(onB.stream().anyMatch(k -> b.nodeId().equals(k.get("loser_origin")) && "R".equals(k.get("loser_note"))
                && "W".equals(k.get("winner_note"))), b.nodeId() + "'s conflict log: " + onB);
    }

    /**
     * A's delete W leaves no row, so B's R is applied over it before capture saw W; then a local
     * transaction L on A locks the row holding R while capture is about to repair the race. The
     * repair must wait for L and then see that L replaced R: restoring W over L's update would drop
     * L on A while every peer keeps it (and L's writer saw R, not W).
     */
    @Test
    void aRaceRepairNeverOverwritesALocalWriteThatLockedTheRowFirst() throws Exception {
        exec(pa, "INSERT INTO account (id, name, note) VALUES (403, 'acct-403', 'v0')");
        awaitEverywhere("account 403 inserted", "SELECT note FROM account WHERE id = 403", "v0");
        long aHead = a.ownJournalHead();
        long repairsBefore = a.status().conflicts().raceRepairs();
        try (Connection l = pa.connect()) {
            l.setAutoCommit(false);
            a.holdCapture(true);
            try {
                exec(pa, "DELETE FROM account WHERE id = 403");
                exec(pb, "UPDATE account SET note = 'R' WHERE id = 403");
                Await.until(WAIT, () -> "R".equals(query(pa, "SELECT note FROM account WHERE id = 403")),
                        () -> "R never applied over the deleted row on " + a.nodeId() + "; status " + a.status());
                try (Statement st = l.createStatement();
                     ResultSet rs = st.executeQuery("SELECT note FROM account WHERE id = 403 FOR UPDATE")) {
                    assertTrue(rs.next());
                    assertEquals("R", rs.getString(1), "L reads R");
                }
            } finally {
                a.holdCapture(false);
            }
            // Capture stamps W, finds R written after it and goes to repair: it must wait for L's lock.
            Await.until(WAIT, () -> "t".equals(query(pa, "SELECT count(*) > 0 FROM pg_stat_activity"
                            + " WHERE wait_event_type = 'Lock' AND query LIKE '%account%'")),
                    () -> "capture never waited for L's row lock; status " + a.status());
            try (Statement st = l.createStatement()) {
                st.executeUpdate("UPDATE account SET note = 'L' WHERE id = 403");
            }
            l.commit();
        }
        Await.until(WAIT, () -> a.ownJournalHead() >= aHead + 2, () -> a.nodeId() + " never published W and L");
        awaitConverged();

        for (PgServer s : servers) {
            assertEquals("L", query(s, "SELECT note FROM account WHERE id = 403"), s.name() + " final value");
        }
        assertEquals(a.nodeId(), sameVersionEverywhere("public.account", "[\"403\"]").origin());
        assertEquals(repairsBefore, a.status().conflicts().raceRepairs(), "L replaced R: nothing to restore");
        // R lost to W, and W (the delete) was replaced by L, whose writer never saw it: both logged.
        List<Map<String, String>> logged = new ArrayList<>();
        for (PgServer s : servers) {
            logged.addAll(conflicts(s, "public.account", "403"));
        }
        assertTrue(logged.stream().anyMatch(k -> b.nodeId().equals(k.get("loser_origin"))
                && "R".equals(k.get("loser_note"))), "R is logged as lost: " + logged);
        assertTrue(logged.stream().anyMatch(k -> a.nodeId().equals(k.get("loser_origin"))
                && "d".equals(k.get("loser_op"))), "W is logged as lost: " + logged);
    }

    /** Two rows claim name 'alice' on A and B at once: the same one is kept everywhere, the other logged. */
    @Test
    void uniqueKeyCollisionKeepsTheSameRowEverywhereWithoutStalling() throws Exception {
        writeConcurrently(() -> exec(pa, "INSERT INTO account (id, name, note) VALUES (501, 'alice', 'a')"),
                () -> exec(pb, "INSERT INTO account (id, name, note) VALUES (502, 'alice', 'b')"));
        awaitConverged();

        for (PgServer s : servers) {
            // Identities ["501"] and ["502"]: the first in text order is kept.
            assertEquals("501", query(s, "SELECT string_agg(id::text, ',') FROM account WHERE name = 'alice'"),
                    s.name() + " alice rows");
        }
        List<Map<String, String>> logged = new ArrayList<>();
        for (PgServer s : servers) {
            logged.addAll(conflicts(s, "public.account", "502"));
        }
        assertFalse(logged.isEmpty(), "row 502 lost the unique key but is in no conflict log");
        for (Map<String, String> k : logged) {
            assertEquals("unique", k.get("kind"), k.toString());
            assertEquals(b.nodeId(), k.get("loser_origin"), k.toString());
            assertEquals("b", k.get("loser_note"), k.toString());
            assertEquals("a", k.get("winner_note"), k.toString());
        }
        // Replication goes on: a later insert on each mirror arrives everywhere.
        for (int i = 0; i < 3; i++) {
            exec(servers.get(i), "INSERT INTO account (id, name, note) VALUES (" + (503 + i) + ", 'after-" + i
                    + "', 'x')");
        }
        Await.until(WAIT, () -> {
            for (PgServer s : servers) {
                if (!"3".equals(query(s, "SELECT count(*) FROM account WHERE id BETWEEN 503 AND 505"))) {
                    return false;
                }
            }
            return true;
        }, () -> "inserts after the unique conflict did not replicate; " + describe());
        awaitConverged();
    }

    // ---- fixtures ----

    private interface SqlAction {
        void run() throws SQLException;
    }

    /**
     * Runs one write on A and one on B while neither applies the other's changes, waits until both
     * are published (so each got its version before seeing the other's), then resumes applying.
     */
    private static void writeConcurrently(SqlAction onA, SqlAction onB) throws SQLException {
        long aHead = a.ownJournalHead();
        long bHead = b.ownJournalHead();
        a.holdApply(true);
        b.holdApply(true);
        try {
            onA.run();
            onB.run();
            Await.until(WAIT, () -> a.ownJournalHead() > aHead && b.ownJournalHead() > bHead,
                    () -> "the concurrent writes were not both published; " + describe());
        } finally {
            a.holdApply(false);
            b.holdApply(false);
        }
    }

    /** Every mirror applied every other's whole journal and all tables are identical. */
    private static void awaitConverged() {
        Await.until(WAIT, () -> {
            for (MirrorNode n : nodes) {
                Map<String, Long> applied = n.appliedVector();
                for (MirrorNode o : nodes) {
                    if (o != n && applied.getOrDefault(o.nodeId(), 0L) != o.ownJournalHead()) {
                        return false;
                    }
                }
            }
            Map<String, String> first = digest(pa);
            return first.equals(digest(pb)) && first.equals(digest(pc));
        }, ConflictRuleIT::describe);
    }

    private static void awaitEverywhere(String what, String sql, String expected) {
        Await.until(WAIT, () -> {
            for (PgServer s : servers) {
                if (!expected.equals(query(s, sql))) {
                    return false;
                }
            }
            return true;
        }, () -> what + ": not on every mirror; " + describe());
    }

    /** The stored (clock, origin) of one row, asserted equal on every mirror. */
    private static RowVersion sameVersionEverywhere(String table, String pk) throws SQLException {
        List<RowVersion> seen = new ArrayList<>();
        for (PgServer s : servers) {
            String v = query(s, "SELECT clock || ' ' || origin FROM mirror.row_version WHERE tbl = '" + table
                    + "' AND pk = '" + pk + "'");
            assertNotNull(v, s.name() + " has no version of " + table + " " + pk);
            String[] parts = v.split(" ", 2);
            seen.add(new RowVersion(Long.parseLong(parts[0]), parts[1]));
        }
        assertEquals(1, Set.copyOf(seen).size(), "versions of " + table + " " + pk + " per mirror: " + seen);
        assertNotEquals(RowVersion.NONE, seen.get(0));
        return seen.get(0);
    }

    /** A mirror's conflict-log entries for one row (by its id column), oldest first. */
    private static List<Map<String, String>> conflicts(PgServer s, String table, String id) throws SQLException {
        List<Map<String, String>> out = new ArrayList<>();
        try (Connection conn = s.connect(); PreparedStatement ps = conn.prepareStatement("SELECT kind, loser_clock,"
                + " loser_origin, loser_op, loser_row IS NOT NULL, loser_row->>'note', winner_clock, winner_origin,"
                + " winner_row IS NOT NULL, winner_row->>'note' FROM mirror.conflict WHERE tbl = ?"
                + " AND row_key->>'id' = ? ORDER BY id")) {
            ps.setString(1, table);
            ps.setString(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Map<String, String> k = new LinkedHashMap<>();
                    String[] names = {"kind", "loser_clock", "loser_origin", "loser_op", "loser_row", "loser_note",
                        "winner_clock", "winner_origin", "winner_row", "winner_note"};
                    for (int i = 0; i < names.length; i++) {
                        k.put(names[i], rs.getString(i + 1));
                    }
                    k.put("mirror", s.name());
                    out.add(k);
                }
            }
        }
        return out;
    }

    private static Map<MirrorNode, Long> loggedConflicts() {
        Map<MirrorNode, Long> out = new HashMap<>();
        for (MirrorNode n : nodes) {
            out.put(n, n.status().conflicts().logged());
        }
        return out;
    }

    private static Map<String, String> digest(PgServer s) throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String table : TABLES) {
            out.put(table, query(s, "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY id),"
                    + " '')) FROM " + table + " t"));
        }
        return out;
    }

    private static void exec(PgServer s, String sql) throws SQLException {
        try (Connection conn = s.connect(); Statement st = conn.createStatement()) {
            st.executeUpdate(sql);
        }
    }

    /** The first column of the first row, or null if there is no row. */
    private static String query(PgServer s, String sql) throws SQLException {
        try (Connection conn = s.connect(); Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static String describe() {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            MirrorNode n = nodes.get(i);
            String state;
            try {
                state = "applied=" + n.appliedVector() + " head=" + n.ownJournalHead() + " digest=" + digest(servers.get(i));
            } catch (Exception e) {
                state = e.toString();
            }
            parts.add(n.nodeId() + "{" + state + ", status=" + n.status() + "}");
        }
        return String.join("\n", parts);
    }
}
