package org.activemirroring.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.transport.Envelope;
import org.junit.jupiter.api.Test;

/**
 * Every column type capture claims to carry arrives exactly: rows written on server A, captured,
 * applied by the applier on server B, then compared column by column as PostgreSQL's own text of
 * each value. Also: a join table identified only by a unique index over NOT NULL columns
 * replicates, and tables or columns that cannot be mirrored are refused at start, all in one
 * message.
 */
class TypeRoundTripIT {

    private final ChangeSetCodec codec = new ChangeSetCodec();

    static final String TYPES_SQL = """
            CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'it''s "so", {fine}');
            CREATE TABLE everything (
              id int PRIMARY KEY,
              c_smallint smallint, c_int integer, c_bigint bigint,
              c_numeric numeric, c_numeric_scaled numeric(40,20),
              c_real real, c_double double precision, c_bool boolean,
              c_text text, c_varchar varchar(20), c_char char(5),
              c_bytea bytea, c_date date, c_time time, c_timestamp timestamp, c_timestamptz timestamptz,
              c_interval interval, c_uuid uuid, c_json json, c_jsonb jsonb,
              c_int_arr int[], c_text_arr text[], c_uuid_arr uuid[],
              c_bigint_arr bigint[], c_float_arr double precision[], c_bool_arr boolean[], c_varchar_arr varchar(10)[],
              c_date_arr date[], c_tstz_arr timestamptz[], c_inet_arr inet[],
              c_enum mood, c_enum_arr mood[], c_inet inet, c_cidr cidr,
              c_big_text text, c_big_bytea bytea
            );
            """;

    @Test
    void everyCarriedTypeArrivesExactlyIncludingEdgeValuesAndNulls() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("types", 2)) {
            PgServer a = pgs.get(0);
            PgServer b = pgs.get(1);
            exec(a, TYPES_SQL);
            exec(b, TYPES_SQL);
            InMemoryTransport ta = new InMemoryTransport("node-a");
            PostgresDialect dialect = new PostgresDialect();
            try (DebeziumCapture captureA = new DebeziumCapture(Fixtures.config(a), "node-a", Fixtures.dataDir("types-a"),
                    ta, EchoPolicy.forDialect(dialect));
                 ChangeSetApplier applierB = new ChangeSetApplier(Fixtures.config(b), dialect);
                 Connection ca = a.connect(); Connection cb = b.connect()) {
                captureA.start();

                ca.setAutoCommit(false);
                Fixtures.exec(ca, """
                        INSERT INTO everything VALUES (1, 7, 42, 1234567890123, 12345.678, 0.00000000000000000001,
                          0.1, 1e300, true, 'Zoë ☃ text', 'varchar', 'ab', '\\x00ff10', '2024-02-29', '12:34:56.789012',
                          '2024-05-01 10:15:30.123456', '2024-05-01 10:15:30.123456+02', '1 year 2 mons 3 days 04:05:06.789012',
                          'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a" : [1, 2],  "b":null}', '{"k": {"n": 1.50}}',
                          '{1,2,3}', '{one,two}', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}',
                          '{9223372036854775807,-9223372036854775808}', '{1.5,0.1}', '{t,f}', '{x,yz}',
                          '{2024-02-29,1970-01-01}', '{"2024-05-01 10:15:30.123456+02"}', '{10.0.0.1/8,::1}',
                          'happy', '{sad,ok}', '192.168.0.1/24', '10.0.0.0/8', NULL, NULL)""",
                        """
                        INSERT INTO everything VALUES (2, 32767, -2147483648, 9223372036854775807, 'NaN',
                          12345678901234567890.12345678901234567890, 'NaN', 'Infinity', false, '', 'quote '' " \\ x',
                          'a', '\\x', '0001-01-01', '24:00:00', '1970-01-01 00:00:00.000001', '1999-12-31 23:59:59.999999+14',
                          '-1 day -00:00:01', '00000000-0000-0000-0000-000000000000', '[]', '{}',
                          '{}', ARRAY['a,b', 'say "hi"', 'back\\slash', NULL, '', 'NULL', '{x}', ' pad '],
                          '{}', '{NULL}', '{NaN,Infinity,-Infinity,-0}', '{NULL,t}', '{"",NULL}', '{}', '{}', '{}',
                          'it''s "so", {fine}', ARRAY['it''s "so", {fine}', NULL, 'sad']::mood[], '::1', '2001:db8::/32',
                          NULL, NULL)""",
                        """
                        INSERT INTO everything VALUES (3, -32768, 2147483647, -9223372036854775808,
                          123456789012345678901234567890.123456789012345678901234567890, -0.5, '-Infinity', '-Infinity',
                          true, 'three', 'v', 'abcde', '\\x7f', '2038-01-19', '00:00:00', '2262-04-11 23:47:16.854775',
                          '1900-01-01 00:00:00+00', '0 seconds', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'null', '"s"',
                          '{-1}', '{"\\\\"}', '{}', '{}', '{3.4028234663852886e38}', '{}', '{}', '{}', '{}', '{}',
                          'ok', '{}', '0.0.0.0', '::/0', NULL, NULL)""",
                        "INSERT INTO everything (id) VALUES (4)");
                try (PreparedStatement ps = ca.prepareStatement(
                        "UPDATE everything SET c_big_text = ?, c_big_bytea = ? WHERE id IN (1, 3)")) {
                    ps.setString(1, Fixtures.incompressible(150_000, 3));
                    byte[] big = new byte[200_000];
                    new Random(4).nextBytes(big);
                    ps.setBytes(2, big);
                    ps.executeUpdate();
                }
                ca.commit();
                // An update that leaves the TOASTed columns alone, and one of every type to new values.
                Fixtures.exec(ca, "UPDATE everything SET c_text = 'renamed', c_int_arr = '{}', c_text_arr = '{NULL}'"
                        + " WHERE id = 1", "UPDATE everything SET c_double = '-Infinity', c_real = 'Infinity',"
                        + " c_numeric = '-Infinity', c_enum_arr = '{}', c_json = '{\"x\": \"\\\\u00e9\"}' WHERE id = 2");
                ca.commit();
                Fixtures.exec(ca, "DELETE FROM everything WHERE id = 3");
                ca.commit();
                ca.setAutoCommit(true);

                applyAll(ta, captureA, applierB, 3);
                assertSameColumns(ca, cb, "public.everything", 3);
            }
        }
    }

    @Test
    void joinTableWithOnlyAUniqueIndexReplicatesAndIsKeyedByIt() throws Exception {
        String schema = """
                CREATE TABLE post_tag (
                  post_id bigint NOT NULL,
                  tag_id bigint NOT NULL,
                  note text,
                  weight int NOT NULL
                );
                -- Candidates: the two-column index wins over the three-column one; a unique index
                -- over a nullable column, a partial and a deferrable one do not qualify.
                CREATE UNIQUE INDEX post_tag_wide ON post_tag (post_id, tag_id, weight);
                CREATE UNIQUE INDEX post_tag_pair ON post_tag (tag_id, post_id);
                CREATE UNIQUE INDEX a_post_tag_note ON post_tag (note);
                CREATE UNIQUE INDEX a_post_tag_partial ON post_tag (weight) WHERE weight > 100;
                ALTER TABLE post_tag ADD CONSTRAINT a_post_tag_deferred UNIQUE (weight) DEFERRABLE;
                """;
        try (PostgresServers pgs = PostgresServers.start("jointable", 2)) {
            PgServer a = pgs.get(0);
            PgServer b = pgs.get(1);
            exec(a, schema);
            exec(b, schema);
            InMemoryTransport ta = new InMemoryTransport("node-a");
            PostgresDialect dialect = new PostgresDialect();
            try (DebeziumCapture captureA = new DebeziumCapture(Fixtures.config(a), "node-a", Fixtures.dataDir("join-a"),
                    ta, EchoPolicy.forDialect(dialect));
                 ChangeSetApplier applierB = new ChangeSetApplier(Fixtures.config(b), dialect);
                 Connection ca = a.connect(); Connection cb = b.connect()) {
                captureA.start();
                assertEquals("post_tag_pair", replicaIdentityIndex(ca, "post_tag"),
                        "capture made the chosen unique index the replica identity");

                Fixtures.exec(ca, "INSERT INTO post_tag VALUES (1, 10, 'a', 1), (1, 11, NULL, 2), (2, 10, 'c', 3)");
                Fixtures.exec(ca, "UPDATE post_tag SET note = 'changed', weight = 7 WHERE post_id = 1 AND tag_id = 11");
                Fixtures.exec(ca, "DELETE FROM post_tag WHERE post_id = 2 AND tag_id = 10");

                List<ChangeSet> sets = applyAll(ta, captureA, applierB, 3);
                RowChange insert = sets.get(0).rows().get(0);
                assertEquals(List.of("tag_id", "post_id"), new ArrayList<>(insert.key().keySet()),
                        "key in index column order: " + insert.key());
                assertEquals("10", insert.key().get("tag_id"));
                RowChange delete = sets.get(2).rows().get(0);
                assertEquals(RowChange.Op.DELETE, delete.op());
                assertEquals(List.of("tag_id", "post_id"), new ArrayList<>(delete.key().keySet()));
                assertEquals("2", delete.key().get("post_id"));
                assertSameColumns(ca, cb, "public.post_tag", 2);
                assertEquals(List.of("(1,10,a,1)", "(1,11,changed,7)"), Fixtures.dump(cb, "public.post_tag"));
            }
        }
    }

    @Test
    void tablesWithoutIdentityAndColumnsThatCannotBeCarriedAreRefusedAtStartInOneMessage() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("refused", 1)) {
            PgServer a = pgs.get(0);
            exec(a, """
                    CREATE TABLE log_lines (line text, at timestamptz);
                    CREATE TABLE maybe_unique (code text UNIQUE);
                    CREATE TABLE meeting (id int PRIMARY KEY, starts timetz, flags bit(8), ok text);
                    CREATE TABLE grid (id int PRIMARY KEY, cells varbit[], amounts numeric(10,2)[], ok_amounts float8[]);
                    CREATE TABLE skipped (x timetz);
                    CREATE TABLE fine (a int NOT NULL, b int NOT NULL, UNIQUE (a, b));
                    """);
            java.util.Map<String, String> raw = new java.util.HashMap<>(Fixtures.raw(a));
            raw.put("mirror.tables.exclude", "public.skipped");
            try (DebeziumCapture capture = new DebeziumCapture(Fixtures.config(raw), "node-a", Fixtures.dataDir("refused"),
                    new InMemoryTransport("node-a"), new EchoPolicy(PostgresDialect.APPLY_ORIGIN))) {
                CaptureException e = assertThrows(CaptureException.class, capture::start);
                String m = e.getMessage();
                for (String expected : List.of("public.log_lines", "public.maybe_unique", "no primary key",
                        "public.meeting.starts has type time with time zone", "public.meeting.flags has type bit(8)",
                        "public.grid.cells has type bit varying[]", "public.grid.amounts has type numeric(10,2)[]",
                        "add a primary key",
                        "mirror.tables.exclude=public.log_lines,public.maybe_unique,public.grid,public.meeting")) {
                    assertTrue(m.contains(expected), "'" + expected + "' in: " + m);
                }
                for (String unexpected : List.of("skipped", "public.fine", "meeting.ok", "meeting.id", "ok_amounts")) {
                    assertTrue(!m.contains(unexpected), "'" + unexpected + "' not in: " + m);
                }
            }
            try (Connection c = a.connect(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT (SELECT count(*) FROM pg_publication)"
                         + " + (SELECT count(*) FROM pg_replication_slots)"
                         + " + (SELECT count(*) FROM pg_class WHERE relreplident = 'i')")) {
                rs.next();
                assertEquals(0, rs.getInt(1), "refusing changed nothing: no publication, slot or replica identity");
            }
        }
    }

    /** Waits for {@code expected} ChangeSets from A, applies them on B, returns them decoded. */
    private List<ChangeSet> applyAll(InMemoryTransport ta, DebeziumCapture capture, ChangeSetApplier applier,
                                     int expected) throws Exception {
        Await.until(Duration.ofSeconds(60), () -> ta.size() >= expected || !capture.isRunning(),
                () -> expected + " ChangeSets from A, have " + ta.size() + ", " + capture.stats());
        assertTrue(capture.isRunning(), () -> "capture stopped: " + capture.failure());
        List<Envelope> envelopes = ta.published();
        assertEquals(expected, envelopes.size());
        List<ChangeSet> sets = new ArrayList<>();
        for (Envelope e : envelopes) {
            applier.deliver(e);
            sets.add(codec.decode(e));
        }
        assertEquals(expected, applier.stats().applied(), () -> "applied, " + applier.stats());
        return sets;
    }

    /** Compares every column of every row as PostgreSQL's text of the value, naming column and values. */
    private static void assertSameColumns(Connection ca, Connection cb, String table, int expectedRows) throws Exception {
        List<String> columns = new ArrayList<>();
        try (PreparedStatement ps = ca.prepareStatement("SELECT attname FROM pg_attribute WHERE attrelid = ?::regclass"
                + " AND attnum > 0 AND NOT attisdropped ORDER BY attnum")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(rs.getString(1));
                }
            }
        }
        List<String> rowsA = Fixtures.dump(ca, table);
        assertEquals(expectedRows, rowsA.size(), "rows on A: " + rowsA);
        assertEquals(rowsA.size(), Fixtures.dump(cb, table).size(), "row count on B");
        String order = columns.get(0).equals("id") ? "id" : "t::text";
        for (String col : columns) {
            String sql = "SELECT " + PostgresDialect.quote(col) + "::text FROM " + table + " t ORDER BY " + order;
            List<String> va = column(ca, sql);
            List<String> vb = column(cb, sql);
            for (int i = 0; i < va.size(); i++) {
                String x = va.get(i);
                String y = vb.get(i);
                int row = i + 1;
                assertEquals(x, y, () -> "column " + col + " of " + table + ", row " + row + " by " + order
                        + ", differs: A has " + abbreviate(x) + ", B has " + abbreviate(y));
            }
        }
        assertEquals(rowsA, Fixtures.dump(cb, table), table + " on B equals A");
    }

    private static String abbreviate(String s) {
        return s == null ? "NULL" : s.length() > 200 ? s.substring(0, 200) + "... (" + s.length() + " chars)" : "'" + s + "'";
    }

    private static List<String> column(Connection c, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static String replicaIdentityIndex(Connection c, String table) throws Exception {
        try (PreparedStatement ps = c.prepareStatement("SELECT ci.relname FROM pg_index i JOIN pg_class ci"
                + " ON ci.oid = i.indexrelid WHERE i.indrelid = ?::regclass AND i.indisreplident")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static void exec(PgServer s, String sql) throws Exception {
        try (Connection c = s.connect(); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
