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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.activemirroring.apply.ChangeSetApplier;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.change.RowChange;
import org.activemirroring.join.JoinSource;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.postgres.PostgresTextConverter;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.transport.Envelope;
import org.junit.jupiter.api.Test;

/**
 * Every column type capture claims to carry arrives exactly: rows written on server A, captured,
 * applied by the applier on server B, then compared column by column as PostgreSQL's own text of
 * each value (and, where the type has one, by its equality). Also: generated columns are not
 * carried but computed on each mirror; a join table identified only by a unique index over NOT
 * NULL columns replicates; tables or columns that cannot be mirrored are refused at start, all in
 * one message.
 */
public class TypeRoundTripIT {

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

    /**
     * The types capture takes as PostgreSQL's own text ({@link PostgresTextConverter}): bit
     * strings, text search, geometry, arrays of every kind, composites, extension types, domains
     * over bytea and over an array; a table keyed by a bit string; a full-text search table whose
     * generated columns every mirror computes itself. exotic_builtin has only built-in types a join
     * copies in COPY's binary format, exotic_user the site's and extensions' types and tsquery
     * (text: see {@link org.activemirroring.postgres.PostgresBulkCopy#columnTypes}).
     * citext and hstore come with the embedded PostgreSQL binaries: creating them must work.
     */
    public static final String EXOTIC_SQL = """
            CREATE EXTENSION citext;
            CREATE EXTENSION hstore;
            CREATE TYPE shade AS ENUM ('light', 'it''s "dark", {really}');
            CREATE TYPE pair AS (n int, label text, amount numeric, at timetz, tags text[], tone shade);
            CREATE DOMAIN blob AS bytea;
            CREATE DOMAIN num_list AS numeric[];
            CREATE TABLE exotic_builtin (
              id int PRIMARY KEY,
              c_tsv tsvector, c_bit bit(8), c_bit1 bit(1), c_varbit varbit, c_varbit5 varbit(5),
              c_point point, c_line line, c_lseg lseg, c_box box, c_path path, c_polygon polygon, c_circle circle,
              c_num_arr numeric[], c_num2_arr numeric(10,2)[], c_int2d int[], c_interval_arr interval[],
              c_money_arr money[], c_xml_arr xml[], c_jsonb_arr jsonb[], c_bytea_arr bytea[], c_bit_arr bit(3)[],
              c_varbit_arr varbit[], c_point_arr point[], c_tsv_arr tsvector[], c_time_arr time[], c_name_arr name[],
              c_float_arr float8[], c_lsn pg_lsn, c_multirange int4multirange, c_money money,
              c_jsonpath jsonpath,
              c_big_arr int[]
            );
            CREATE TABLE exotic_user (
              id int PRIMARY KEY,
              c_citext citext, c_hstore hstore, c_pair pair, c_pair_arr pair[], c_citext_arr citext[],
              c_hstore_arr hstore[], c_blob blob, c_num_list num_list, c_tsq tsquery, c_tsq_arr tsquery[],
              c_big_hstore hstore
            );
            CREATE TABLE bit_keyed (k varbit PRIMARY KEY, v int);
            CREATE TABLE article (
              id int PRIMARY KEY, title text, body text,
              search tsvector GENERATED ALWAYS AS (to_tsvector('english', coalesce(title, '') || ' ' || coalesce(body, ''))) STORED,
              words int GENERATED ALWAYS AS (array_length(regexp_split_to_array(coalesce(body, ''), '\\s+'), 1)) STORED
            );
            """;

    /** Rows of {@link #EXOTIC_SQL}'s tables, for one transaction: edge values, empty values, NULLs. */
    public static final List<String> EXOTIC_ROWS = List.of("""
            INSERT INTO exotic_builtin VALUES (1,
              'a:1A fat:2B,4C cat:5D ''it''''s'':6 ''sp ace'':3', B'00010110', B'1',
              B'0010', B'00001', '(0.30000000000000004,-1e+300)', '{0.5,2,-3.25}', '[(0,0),(1,1e300)]', '(3,4),(1,2)',
              '[(0,0),(1,1),(2,0)]', '((0,0),(1,1),(1,0))', '<(1,1),0.5>',
              '{1.5,NaN,NULL,Infinity,-Infinity,-0.000,123456789012345678901234567890.12345}', '{1.25,NULL}',
              '{{1,2},{3,NULL}}', '{1 day,-00:00:01,"1 year 2 mons"}', '{$1.00,-$2.50}',
              ARRAY['<a/>'::xml, '<b x="1">t, {u}</b>'], ARRAY['{"a": [1, 2.50]}'::jsonb, NULL],
              ARRAY['\\x00ff'::bytea, NULL, ''::bytea], ARRAY[B'101', B'010', NULL], ARRAY[B'0010', B'', NULL],
              ARRAY[point '(1,2)', NULL], ARRAY['a:1 b'::tsvector, ''::tsvector], '{12:00:00,24:00:00}',
              '{abc,"with space"}', '{0.30000000000000004,-0,NaN}', '16/B374D848', '{[1,3),[5,7)}', 92233720368547758.07,
              '$."a b"[*] ? (@ > 1 && @ like_regex "^x" flag "i")', NULL)""", """
            INSERT INTO exotic_builtin VALUES (2, '', B'00000000', B'0', B'', B'0', '(NaN,Infinity)', '{1,0,0}',
              '[(-0,0),(0,-0)]', '(0,0),(0,0)', '((0,0))', '((0.1,0.2))', '<(0,0),0>', '{}', '{}', '[0:1]={7,8}', '{}',
              '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '0/0', '{}', -92233720368547758.08, '$', NULL)""",
            "INSERT INTO exotic_builtin (id) VALUES (3)",
            "INSERT INTO exotic_builtin (id, c_bit, c_point, c_money) VALUES (4, B'11111111', '(4,4)', 12345678.90)", """
            INSERT INTO exotic_user VALUES (1, 'MiXeD Case',
              'a=>1, "b c"=>NULL, "q\\"x"=>"y,z", "back\\\\slash"=>"\\\\\\\\", ""=>""',
              ROW(1, 'a, "b" (c) \\ back', 'NaN', '12:00:00+05:30', '{x,"y z"}', 'it''s "dark", {really}'),
              ARRAY[ROW(2, NULL, 1.5, NULL, NULL, NULL)::pair, NULL,
                    ROW(3, 'q"uote,comma', 0, '00:00:00-15:59', '{NULL}', 'light')::pair],
              ARRAY['Ab'::citext, 'cD', NULL], ARRAY['a=>1'::hstore, ''::hstore, NULL], '\\x00ff10', '{NaN,1,NULL}',
              'fat & (rat | !cat) <-> dog:*A', ARRAY['a & b'::tsquery, ''::tsquery, NULL], NULL)""",
            "INSERT INTO exotic_user VALUES (2, '', '', ROW(NULL, NULL, NULL, NULL, NULL, NULL), '{}', '{}', '{}',"
                    + " '\\x', '{}', '', '{}', NULL)",
            "INSERT INTO exotic_user (id) VALUES (3)",
            "INSERT INTO exotic_user VALUES (4, 'x', 'k=>v', ROW(0, '', 1.50, '24:00:00+00', '{}', NULL), NULL, NULL,"
                    + " NULL, NULL, NULL, '!a', NULL, NULL)",
            "INSERT INTO bit_keyed VALUES (B'0010', 1), (B'10', 2), (B'', 3), (B'00000', 4)",
            "INSERT INTO article (id, title, body) VALUES (1, 'Quick brown foxes', 'jumped over the lazy dogs'),"
                    + " (2, NULL, NULL)",
            // Stored out of line (TOASTed), so that an update leaving them alone does not send them.
            "UPDATE exotic_builtin SET c_big_arr = ARRAY(SELECT (g * 7919) % 1000003 FROM generate_series(1, 50000) g)"
                    + " WHERE id IN (1, 2)",
            "UPDATE exotic_user SET c_big_hstore = (SELECT hstore(array_agg(md5(g::text)), array_agg(md5((g + 1)::text)))"
                    + " FROM generate_series(1, 5000) g) WHERE id IN (1, 2)");

    /** Columns whose type has an equality operator that tells values apart (not xml, not geometry). */
    public static final List<String> EXOTIC_EQUALITY_COLUMNS = List.of("c_tsv", "c_bit", "c_bit1", "c_varbit",
            "c_varbit5", "c_num_arr", "c_num2_arr", "c_int2d", "c_money_arr", "c_jsonb_arr", "c_bytea_arr", "c_bit_arr",
            "c_varbit_arr", "c_tsv_arr", "c_time_arr", "c_name_arr", "c_lsn", "c_multirange", "c_money", "c_big_arr",
            "c_citext", "c_hstore", "c_pair", "c_pair_arr", "c_citext_arr", "c_hstore_arr", "c_blob", "c_num_list",
            "c_tsq", "c_tsq_arr", "c_big_hstore");

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
                    ta, EchoPolicy.forDialect(dialect), dialect);
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
    void typesCarriedAsPostgresTextArriveExactlyAndGeneratedColumnsAreComputedOnEachMirror() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("texttypes", 2)) {
            PgServer a = pgs.get(0);
            PgServer b = pgs.get(1);
            exec(a, EXOTIC_SQL);
            exec(b, EXOTIC_SQL);
            InMemoryTransport ta = new InMemoryTransport("node-a");
            PostgresDialect dialect = new PostgresDialect();
            try (DebeziumCapture captureA = new DebeziumCapture(Fixtures.config(a), "node-a",
                    Fixtures.dataDir("texttypes-a"), ta, EchoPolicy.forDialect(dialect), dialect);
                 ChangeSetApplier applierB = new ChangeSetApplier(Fixtures.config(b), dialect);
                 Connection ca = a.connect(); Connection cb = b.connect()) {
                assertEquals(builtinOids(ca), new java.util.TreeSet<>(PostgresTextConverter.DEBEZIUM_TYPES),
                        "the converter leaves exactly these built-in types to Debezium");
                captureA.start();

                ca.setAutoCommit(false);
                Fixtures.exec(ca, EXOTIC_ROWS.toArray(String[]::new));
                ca.commit();
                // Leaves the TOASTed c_big_arr and c_big_hstore alone: PostgreSQL does not send them.
                Fixtures.exec(ca, "UPDATE exotic_builtin SET c_tsv = 'new:1', c_varbit = B'0' WHERE id = 1",
                        "UPDATE exotic_builtin SET c_num_arr = '{NaN}', c_path = '[(1,1)]', c_int2d = '{{{1}}}',"
                                + " c_bit = B'10000000' WHERE id = 2",
                        "UPDATE exotic_user SET c_citext = 'Other', c_pair = ROW(5, 'new', -1, '23:59:59.999999-12', NULL,"
                                + " 'light') WHERE id = 1",
                        "UPDATE exotic_user SET c_hstore = 'z=>\"\"', c_pair_arr = '{}' WHERE id = 2",
                        "UPDATE bit_keyed SET v = 10 WHERE k = B'0010'",
                        "UPDATE bit_keyed SET k = B'00001' WHERE k = B'00000'",
                        "UPDATE article SET body = 'sleeps all day long' WHERE id = 1");
                ca.commit();
                Fixtures.exec(ca, "DELETE FROM exotic_builtin WHERE id = 4", "DELETE FROM exotic_user WHERE id = 4",
                        "DELETE FROM bit_keyed WHERE k = B'10'");
                ca.commit();
                ca.setAutoCommit(true);

                List<ChangeSet> sets = applyAll(ta, captureA, applierB, 3);
                RowChange bigArrayRow = row(sets.get(1), "public.exotic_builtin", "1");
                assertEquals(List.of("c_big_arr"), bigArrayRow.unchanged(), "unchanged TOASTed array: " + bigArrayRow);
                assertEquals("'new':1", bigArrayRow.after().get("c_tsv"));
                assertEquals("0", bigArrayRow.after().get("c_varbit"));
                RowChange bigHstoreRow = row(sets.get(1), "public.exotic_user", "1");
                assertEquals(List.of("c_big_hstore"), bigHstoreRow.unchanged(), "unchanged TOASTed hstore");
                assertEquals("(5,new,-1,23:59:59.999999-12,,light)", bigHstoreRow.after().get("c_pair"),
                        "a composite as PostgreSQL's text, timetz field with its offset");
                assertEquals("{NaN}", row(sets.get(1), "public.exotic_builtin", "2").after().get("c_num_arr"));
                for (ChangeSet set : sets) {
                    for (RowChange r : set.rows()) {
                        if (r.table().equals("public.article") && r.after() != null) {
                            assertTrue(!r.after().containsKey("search") && !r.after().containsKey("words"),
                                    "generated columns are not carried: " + r);
                        }
                    }
                }

                assertSameColumns(ca, cb, "public.exotic_builtin", 3);
                assertSameColumns(ca, cb, "public.exotic_user", 3);
                assertSameColumns(ca, cb, "public.bit_keyed", 3);
                assertSameColumns(ca, cb, "public.article", 2);
                assertEqualValues(ca, cb, "public.exotic_builtin", EXOTIC_EQUALITY_COLUMNS);
                assertEqualValues(ca, cb, "public.exotic_user", EXOTIC_EQUALITY_COLUMNS);
                assertEquals(Set.of("(\"\",3)", "(00001,4)", "(0010,10)"),
                        new HashSet<>(Fixtures.dump(cb, "public.bit_keyed")), "bit string keys keep their leading zeros");
                assertEquals(List.of("true|4"), column(cb, "SELECT (search = to_tsvector('english',"
                        + " 'Quick brown foxes sleeps all day long'))::text || '|' || words FROM article WHERE id = 1"),
                        "the generated tsvector and count were computed on B");
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
                    ta, EchoPolicy.forDialect(dialect), dialect);
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

    /**
     * Tables that cannot be mirrored (no key; a column type capture cannot carry, at start or
     * added while capture runs) are held out, each with why and what to do; capture starts and
     * every other table replicates; the site still writes into them.
     */
    @Test
    void tablesWithoutIdentityAndColumnsThatCannotBeCarriedAreHeldOutAndTheRestReplicates() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("heldout", 1)) {
            PgServer a = pgs.get(0);
            exec(a, """
                    CREATE TABLE log_lines (line text, at timestamptz);
                    CREATE TABLE maybe_unique (code text UNIQUE);
                    CREATE TABLE meeting (id int PRIMARY KEY, starts timetz, flags bit(8), ok text);
                    CREATE TABLE grid (id int PRIMARY KEY, cells varbit[], amounts numeric(10,2)[], ok_amounts float8[],
                      slots timetz[], snap txid_snapshot, tbl regclass);
                    CREATE TABLE skipped (x timetz);
                    CREATE TABLE fine (a int NOT NULL, b int NOT NULL, UNIQUE (a, b));
                    CREATE TABLE later (id int PRIMARY KEY, note text);
                    """);
            java.util.Map<String, String> raw = new java.util.HashMap<>(Fixtures.raw(a));
            raw.put("mirror.tables.exclude", "public.skipped");
            InMemoryTransport transport = new InMemoryTransport("node-a");
            try (DebeziumCapture capture = new DebeziumCapture(Fixtures.config(raw), "node-a", Fixtures.dataDir("heldout"),
                    transport, new EchoPolicy(PostgresDialect.APPLY_ORIGIN), new PostgresDialect())) {
                capture.start();
                java.util.Map<String, String> held = capture.heldOut().snapshot();
                assertEquals(java.util.Set.of("public.log_lines", "public.maybe_unique", "public.meeting", "public.grid"),
                        held.keySet(), held.toString());
                String m = held.toString();
                for (String expected : List.of("no primary key",
                        "public.meeting.starts has type time with time zone (Debezium converts",
                        "public.grid.slots has type time with time zone[] (Debezium converts",
                        "public.grid.snap has type txid_snapshot (not carried exactly yet)",
                        "public.grid.tbl has type regclass (not carried exactly yet)",
                        "add a primary key")) {
                    assertTrue(m.contains(expected), "'" + expected + "' in: " + m);
                }
                for (String unexpected : List.of("skipped", "public.fine", "meeting.ok", "meeting.id", "ok_amounts",
                        "meeting.flags", "grid.cells", "grid.amounts")) {
                    assertTrue(!m.contains(unexpected), "'" + unexpected + "' not in: " + m);
                }
                assertEquals(List.of("public.fine", "public.later"), Fixtures.rows(a, "SELECT schemaname || '.' || tablename"
                        + " FROM pg_publication_tables WHERE schemaname = 'public' ORDER BY 1"), "what is published");

                // The site still writes into held-out tables; those rows stay local, the others go.
                exec(a, "INSERT INTO log_lines VALUES ('x', now()); UPDATE log_lines SET line = 'still writable';"
                        + " INSERT INTO meeting (id, starts) VALUES (1, '10:00+02'); INSERT INTO fine VALUES (1, 2)");
                Await.until(Duration.ofSeconds(20), () -> transport.published().size() == 1,
                        () -> "published: " + transport.published().size());
                assertEquals(List.of("public.fine"), codec.decode(transport.published().get(0)).rows().stream()
                        .map(RowChange::table).toList());

                // A column capture cannot carry, added while capture runs: that table alone is
                // held out at its first such row, the rest of the transaction and later ones go.
                exec(a, "ALTER TABLE later ADD COLUMN at timetz");
                exec(a, "BEGIN; INSERT INTO later (id, note, at) VALUES (1, 'x', '09:00+01'); INSERT INTO fine VALUES (3, 4);"
                        + " COMMIT");
                exec(a, "INSERT INTO fine VALUES (5, 6)");
                Await.until(Duration.ofSeconds(20), () -> transport.published().size() >= 3,
                        () -> "published: " + transport.published().size());
                for (org.activemirroring.transport.Envelope e : transport.published().subList(1, transport.published().size())) {
                    for (RowChange r : codec.decode(e).rows()) {
                        assertTrue(!r.table().equals("public.later"), "a held-out table's row was sent: " + r);
                    }
                }
                assertTrue(capture.heldOut().snapshot().get("public.later").contains("time with time zone"),
                        capture.heldOut().snapshot().toString());
                Await.until(Duration.ofSeconds(20), () -> Fixtures.rows(a, "SELECT tablename FROM pg_publication_tables"
                        + " WHERE tablename = 'later'").isEmpty(), () -> "later is still published");
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
    public static void assertSameColumns(Connection ca, Connection cb, String table, int expectedRows) throws Exception {
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

    /** The change of {@code table}'s row with key {@code id} in {@code set}. */
    private static RowChange row(ChangeSet set, String table, String id) {
        return set.rows().stream().filter(r -> r.table().equals(table) && id.equals(r.key().get("id"))).findFirst()
                .orElseThrow(() -> new AssertionError("no change of " + table + " id " + id + " in " + set.rows()));
    }

    /**
     * Each of {@code columns} that {@code table} has, in every row by id: the value on B equals, by
     * its type's own equality, the value A's text of it denotes (NULL where A has NULL).
     */
    public static void assertEqualValues(Connection ca, Connection cb, String table, List<String> columns)
            throws Exception {
        Map<String, String> types = new HashMap<>();
        try (PreparedStatement ps = ca.prepareStatement("SELECT attname, format_type(atttypid, atttypmod)"
                + " FROM pg_attribute WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    types.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        List<String> ids = column(ca, "SELECT id::text FROM " + table + " ORDER BY id");
        int checked = 0;
        for (String col : columns) {
            String type = types.get(col);
            if (type == null) {
                continue; // a column of the other table
            }
            String q = PostgresDialect.quote(col);
            List<String> texts = column(ca, "SELECT " + q + "::text FROM " + table + " ORDER BY id");
            try (PreparedStatement ps = cb.prepareStatement("SELECT " + q + " IS NOT DISTINCT FROM ?::" + type
                    + " FROM " + table + " WHERE id = ?::int")) {
                for (int i = 0; i < ids.size(); i++) {
                    ps.setString(1, texts.get(i));
                    ps.setString(2, ids.get(i));
                    try (ResultSet rs = ps.executeQuery()) {
                        assertTrue(rs.next() && rs.getBoolean(1), table + "." + col + " of id " + ids.get(i)
                                + " on B does not equal A's " + abbreviate(texts.get(i)));
                    }
                }
            }
            checked++;
        }
        assertTrue(checked > 0, "no column of " + columns + " in " + table);
    }

    /** The oids of the built-in types {@link PostgresTextConverter} leaves to Debezium, by name. */
    private static java.util.SortedSet<Integer> builtinOids(Connection c) throws Exception {
        java.util.SortedSet<Integer> out = new java.util.TreeSet<>();
        for (String oid : column(c, "SELECT oid::text FROM pg_type WHERE typnamespace = 'pg_catalog'::regnamespace"
                + " AND typname IN ('bool', 'bytea', 'char', 'name', 'int8', 'int2', 'int4', 'text', 'oid', 'json',"
                + " 'xml', 'cidr', 'float4', 'float8', 'macaddr8', 'money', 'macaddr', 'inet', 'bpchar', 'varchar',"
                + " 'date', 'time', 'timestamp', 'timestamptz', 'interval', 'timetz', 'numeric', 'uuid', 'tsvector',"
                + " 'jsonb', 'int4range', 'numrange', 'tsrange', 'tstzrange', 'daterange', 'int8range')")) {
            out.add(Integer.valueOf(oid));
        }
        assertEquals(36, out.size(), "every name found: " + out);
        return out;
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
