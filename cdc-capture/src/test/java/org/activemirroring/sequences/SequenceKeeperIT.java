package org.activemirroring.sequences;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.activemirroring.capture.Fixtures;
import org.activemirroring.postgres.PostgresSequences;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/** Which sequences the keeper manages, and how it treats resets, MAXVALUE and descending ones, on a real server. */
class SequenceKeeperIT {
    private static final int SLOT = 5;

    private static final String DDL = """
            CREATE TABLE a (id serial PRIMARY KEY, v text);
            CREATE TABLE skipped (id bigserial PRIMARY KEY);
            CREATE SEQUENCE down INCREMENT BY -1;
            CREATE TABLE d (id bigint PRIMARY KEY DEFAULT nextval('down'));
            CREATE SEQUENCE tiny MAXVALUE 40;
            CREATE TABLE t (id int PRIMARY KEY DEFAULT nextval('tiny'));
            CREATE SCHEMA shop;
            CREATE TABLE shop.x (id bigserial PRIMARY KEY);
            CREATE SEQUENCE unused;
            """;

    @Test
    void managesOnlyAscendingSequencesOfMirroredTablesAndRepairsResets() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("keeper", 1)) {
            PgServer s = pgs.get(0);
            try (Connection c = s.connect(); Statement st = c.createStatement()) {
                st.execute(DDL);
            }
            Map<String, String> raw = Fixtures.raw(s);
            raw.put("mirror.node.slot", Integer.toString(SLOT));
            raw.put("mirror.tables.exclude", "public.skipped");
            raw.put("mirror.sequences.check.interval.ms", "50");
            try (SequenceKeeper keeper = SequenceKeeper.start(Fixtures.config(raw), "keeper-1", new PostgresSequences());
                 Connection c = s.connect(); Statement st = c.createStatement()) {
                assertTrue(keeper.asserted());
                // a (serial) and tiny (DEFAULT nextval); not the excluded, other-schema, unused or descending ones.
                assertEquals(2, keeper.stats().managed(), keeper.stats().toString());
                assertTrue(keeper.stats().problem().contains("descending sequence public.down"), keeper.stats().problem());
                assertEquals(16, increment(st, "public", "a_id_seq"));
                assertEquals(16, increment(st, "public", "tiny"));
                assertEquals(1, increment(st, "public", "skipped_id_seq"));
                assertEquals(1, increment(st, "shop", "x_id_seq"));
                assertEquals(1, increment(st, "public", "unused"));
                assertEquals(-1, increment(st, "public", "down"));

                assertEquals(List.of(21L, 37L, 53L), insert(st, "a", 3));
                // A script restarts the sequence below the keys this mirror already used.
                st.execute("ALTER SEQUENCE a_id_seq RESTART WITH 1 INCREMENT BY 1");
                Await.until(Duration.ofSeconds(10), () -> increment(st, "public", "a_id_seq") == 16
                                && lastValue(st, "a_id_seq") != null && lastValue(st, "a_id_seq") > 53
                                && Math.floorMod(lastValue(st, "a_id_seq"), 16) == SLOT,
                        () -> "a_id_seq: increment " + safe(() -> increment(st, "public", "a_id_seq")) + ", last "
                                + safe(() -> lastValue(st, "a_id_seq")));
                assertEquals(List.of(85L), insert(st, "a", 1));

                // tiny: 21 and 37 fit below MAXVALUE 40, then none of slot 5 is left.
                assertEquals(List.of(21L, 37L), insert(st, "t", 2));
                st.execute("SELECT setval('tiny', 38)");
                Await.until(Duration.ofSeconds(10), () -> keeper.stats().problem() != null
                                && keeper.stats().problem().contains("public.tiny"),
                        () -> "stats " + keeper.stats());
                long corrections = keeper.stats().corrections();
                // Still checked, not retried every tick, and the rest keeps working.
                st.execute("ALTER SEQUENCE a_id_seq RESTART WITH 1");
                Await.until(Duration.ofSeconds(10), () -> keeper.stats().corrections() == corrections + 1,
                        () -> "stats " + keeper.stats());
                assertEquals(List.of(117L), insert(st, "a", 1));
            }
            // Stopping the keeper stops its thread.
            assertFalse(Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> t.isAlive() && t.getName().equals("am-sequences-keeper-1")), "keeper thread left");
        }
    }

    private static List<Long> insert(Statement st, String table, int rows) throws SQLException {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < rows; i++) {
            try (ResultSet rs = st.executeQuery("INSERT INTO " + table + " DEFAULT VALUES RETURNING id")) {
                rs.next();
                ids.add(rs.getLong(1));
            }
        }
        return ids;
    }

    private static long increment(Statement st, String schema, String sequence) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT increment_by FROM pg_sequences WHERE schemaname = '" + schema
                + "' AND sequencename = '" + sequence + "'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Long lastValue(Statement st, String sequence) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT last_value FROM pg_sequences WHERE schemaname = 'public'"
                + " AND sequencename = '" + sequence + "'")) {
            rs.next();
            long v = rs.getLong(1);
            return rs.wasNull() ? null : v;
        }
    }

    private interface SqlValue {
        Object get() throws SQLException;
    }

    private static String safe(SqlValue v) {
        try {
            return String.valueOf(v.get());
        } catch (SQLException e) {
            return e.toString();
        }
    }
}
