package org.activemirroring.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import org.activemirroring.capture.Fixtures;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Schema copy for a joining mirror: the DDL {@link PostgresSchemaScript} reads from a donor
 * database, run on an empty one around a data load, gives tables the catalogs cannot tell apart
 * from the donor's (columns, types, sequences, constraints, indexes, replica identity). Tables it
 * cannot copy are refused up front, all in one message. Donor and targets are databases of one
 * server.
 */
class SchemaScriptIT {

    /** Every copied table, in the order a site would list them; two schemas, quoted names. */
    static final List<String> TABLES = List.of("public.customer", "public.customer_tag", "public.cache_entry",
            "shop.orders", "shop.Order Lines", "shop.events");

    static final String DONOR_SQL = """
            CREATE SCHEMA shop;
            CREATE TYPE shop.status AS ENUM ('new', 'paid', 'it''s "shipped"');
            CREATE DOMAIN shop.positive_qty AS integer DEFAULT 1 NOT NULL CONSTRAINT qty_positive CHECK (VALUE > 0);
            ALTER DOMAIN shop.positive_qty ADD CONSTRAINT qty_sane CHECK (VALUE < 1000000) NOT VALID;
            CREATE DOMAIN public.email AS varchar(200) COLLATE "C" CHECK (VALUE LIKE '%@%');
            CREATE EXTENSION citext;
            CREATE TYPE shop.address AS (street text COLLATE "C", legacy int, city varchar(40), kind shop.status,
              tags text[]);
            ALTER TYPE shop.address DROP ATTRIBUTE legacy;
            CREATE SEQUENCE shop.invoice_no AS integer INCREMENT BY 5 MINVALUE 100 MAXVALUE 999999 START WITH 105
              CACHE 10 CYCLE;

            CREATE TABLE public.customer (
              id serial PRIMARY KEY,
              legacy text,
              email public.email NOT NULL,
              name varchar(40) COLLATE "C" NOT NULL,
              tags text[] DEFAULT '{}',
              profile jsonb,
              avatar bytea,
              created timestamptz NOT NULL DEFAULT now(),
              nick citext,
              home shop.address,
              CONSTRAINT customer_email_key UNIQUE NULLS NOT DISTINCT (email) INCLUDE (name)
            );
            ALTER TABLE public.customer DROP COLUMN legacy;
            ALTER TABLE public.customer REPLICA IDENTITY FULL;
            CREATE INDEX customer_lower_name ON public.customer (lower(name));

            -- Identified only by a unique index over NOT NULL columns.
            CREATE TABLE public.customer_tag (
              customer_id int NOT NULL REFERENCES public.customer (id) ON DELETE CASCADE,
              tag text NOT NULL,
              weight smallint
            );
            CREATE UNIQUE INDEX customer_tag_pair ON public.customer_tag (customer_id, tag);
            ALTER TABLE public.customer_tag REPLICA IDENTITY USING INDEX customer_tag_pair;

            CREATE UNLOGGED TABLE public.cache_entry (k text PRIMARY KEY, v bytea);

            CREATE TABLE shop.orders (
              id bigserial PRIMARY KEY,
              customer_id int NOT NULL REFERENCES public.customer (id) ON DELETE CASCADE,
              invoice int DEFAULT nextval('shop.invoice_no'),
              status shop.status NOT NULL DEFAULT 'new',
              history shop.status[],
              ext_ref uuid,
              total numeric(12,3) CONSTRAINT orders_total_check CHECK (total >= 0),
              placed timestamptz DEFAULT now(),
              stops shop.address[]
            ) WITH (fillfactor = 80, autovacuum_enabled = false);
            CREATE INDEX orders_open ON shop.orders (customer_id) WHERE status <> 'paid';
            CREATE INDEX orders_ext_ref_text ON shop.orders (lower(ext_ref::text)) INCLUDE (total);

            CREATE TABLE shop."Order Lines" (
              "orderId" bigint NOT NULL REFERENCES shop.orders (id) ON DELETE CASCADE,
              "lineNo" int NOT NULL CHECK ("lineNo" > 0),
              qty shop.positive_qty,
              unit_price numeric(12,3) NOT NULL,
              amount numeric(14,3) GENERATED ALWAYS AS (qty * unit_price) STORED,
              PRIMARY KEY ("orderId", "lineNo")
            );
            CREATE INDEX "Order Lines_by price" ON shop."Order Lines" (unit_price DESC NULLS LAST);

            CREATE TABLE shop.events (
              id bigint GENERATED ALWAYS AS IDENTITY (INCREMENT BY 10 START WITH 1000) PRIMARY KEY,
              ticket int GENERATED BY DEFAULT AS IDENTITY (INCREMENT BY 3 MINVALUE 7 MAXVALUE 100000 CACHE 5),
              customer_id int,
              during tstzrange,
              CONSTRAINT events_no_overlap EXCLUDE USING gist (during WITH &&)
            );
            ALTER TABLE shop.events ADD CONSTRAINT events_customer_fk FOREIGN KEY (customer_id)
              REFERENCES public.customer (id) NOT VALID;
            ALTER TABLE shop.events ENABLE ROW LEVEL SECURITY;
            """;

    private static PostgresServers servers;
    private static PgServer donor;
    private static final List<String> CREATED = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        servers = PostgresServers.start("schema", 1);
        donor = servers.get(0);
        try (Connection c = donor.connect()) {
            Fixtures.exec(c, DONOR_SQL);
        }
    }

    @AfterAll
    static void stop() {
        if (servers == null) {
            return;
        }
        try (Connection c = donor.connect(); Statement st = c.createStatement()) {
            for (String db : CREATED) {
                st.execute("DROP DATABASE IF EXISTS " + PostgresDialect.quote(db) + " WITH (FORCE)");
            }
        } catch (SQLException e) {
            System.err.println("Could not drop the test databases " + CREATED + ": " + e);
        }
        servers.close();
    }

    @Test
    void copiedSchemaMatchesTheDonorAndBehavesLikeIt() throws Exception {
        PostgresSchemaScript script = readInSnapshot(donor, TABLES);
        assertFoundationsBeforeData(script);
        PgServer target = newDatabase("target");
        try (Connection t = target.connect()) {
            t.setAutoCommit(false);
            PostgresSchemaScript.run(t, script.beforeData());
            PostgresSchemaScript.run(t, script.beforeData()); // again: a retry after a partial run
            t.commit();
            t.setAutoCommit(true);
            assertEquals(List.of(), rows(t, """
                    SELECT conname FROM pg_constraint WHERE contype <> 'n' AND conrelid <> 0
                      AND connamespace IN ('public'::regnamespace, 'shop'::regnamespace)
                    UNION ALL SELECT indexrelid::regclass::text FROM pg_index JOIN pg_class c ON c.oid = indrelid
                      WHERE c.relnamespace IN ('public'::regnamespace, 'shop'::regnamespace)
                    """), "no constraint or index before the data");

            loadRows(t);

            t.setAutoCommit(false);
            PostgresSchemaScript.run(t, script.afterData());
            t.commit();
            t.setAutoCommit(true);
        }
        try (Connection d = donor.connect(); Connection t = target.connect()) {
            for (String query : CATALOG_QUERIES) {
                List<String> expected = rows(d, query);
                assertFalse(expected.isEmpty(), "the donor has something to compare: " + query);
                assertEquals(expected, rows(t, query), "target catalogs differ from the donor's for: " + query);
            }
            assertTrue(rows(d, CATALOG_QUERIES.get(2)).contains(
                    "shop.orders|orders_customer_id_fkey|f|FOREIGN KEY (customer_id) REFERENCES public.customer(id)"
                            + " ON DELETE CASCADE|t|f|f|-"), "the comparison sees foreign keys: " + rows(d, CATALOG_QUERIES.get(2)));
        }
    }

    /** Plain inserts between the phases: defaults, serials, identities and generated columns work before any key. */
    private static void loadRows(Connection t) throws SQLException {
        assertEquals(List.of("1|{}|t"), rows(t, "INSERT INTO public.customer (email, name) VALUES ('ann@example.org', 'Ann')"
                + " RETURNING id, tags, created IS NOT NULL"));
        assertEquals(List.of("1|105|new"), rows(t, "INSERT INTO shop.orders (customer_id, total, history)"
                + " VALUES (1, 12.5, '{new,\"it''s \\\"shipped\\\"\"}') RETURNING id, invoice, status"));
        assertEquals(List.of("2|110|paid"), rows(t, "INSERT INTO shop.orders (customer_id, status)"
                + " VALUES (1, 'paid') RETURNING id, invoice, status"));
        assertEquals(List.of("1|1|2.500|2.500"), rows(t, "INSERT INTO shop.\"Order Lines\" (\"orderId\", \"lineNo\","
                + " unit_price) VALUES (1, 1, 2.5) RETURNING \"lineNo\", qty, unit_price, amount"));
        assertEquals(List.of("1000|7", "1010|10"), rows(t, "INSERT INTO shop.events (customer_id)"
                + " VALUES (1), (1) RETURNING id, ticket"));
        assertEquals(List.of("1020|50"), rows(t, "INSERT INTO shop.events (ticket) VALUES (50) RETURNING id, ticket"));
        SQLException always = assertThrows(SQLException.class,
                () -> rows(t, "INSERT INTO shop.events (id) VALUES (5) RETURNING id"));
        assertEquals("428C9", always.getSQLState(), "GENERATED ALWAYS refuses a value: " + always.getMessage());
        assertThrows(SQLException.class, () -> rows(t, "INSERT INTO shop.\"Order Lines\" (\"orderId\", \"lineNo\","
                + " qty, unit_price) VALUES (1, 2, 0, 1) RETURNING 1"), "the domain's check holds before the keys");
        assertEquals(List.of("t|paid|{\"(Main,Town,new,{a})\"}"), rows(t, "WITH u AS (UPDATE public.customer"
                + " SET nick = 'ANN', home = ROW('Main', 'Town', 'paid', '{a}') WHERE id = 1 RETURNING nick, home),"
                + " o AS (UPDATE shop.orders SET stops = ARRAY[ROW('Main', 'Town', 'new', '{a}')::shop.address]"
                + " WHERE id = 1 RETURNING stops) SELECT u.nick OPERATOR(public.=) 'ann', (u.home).kind, o.stops FROM u, o"),
                "the extension's type and the composite types work");
        Fixtures.exec(t, "INSERT INTO public.customer_tag VALUES (1, 'vip', 3)",
                "INSERT INTO public.cache_entry VALUES ('k', '\\x00')");
    }

    /** The shape of the phases: no key before the data, foreign keys last and validated separately. */
    private static void assertFoundationsBeforeData(PostgresSchemaScript script) {
        List<String> before = script.beforeData();
        List<String> after = script.afterData();
        assertTrue(before.stream().noneMatch(s -> s.contains("PRIMARY KEY") || s.contains("REFERENCES")
                || s.contains("CREATE INDEX") || s.contains("UNIQUE")), "no key before the data: " + before);
        int validate = after.indexOf("ALTER TABLE shop.orders VALIDATE CONSTRAINT orders_customer_id_fkey");
        assertTrue(validate > 0 && after.get(validate - 1).startsWith(
                "ALTER TABLE shop.orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY")
                && after.get(validate - 1).endsWith(" NOT VALID"), "NOT VALID, then VALIDATE on its own: " + after);
        assertTrue(after.stream().noneMatch(s -> s.contains("VALIDATE CONSTRAINT events_customer_fk")),
                "a foreign key NOT VALID on the donor stays so: " + after);
        int lastIndex = 0;
        int firstForeignKey = Integer.MAX_VALUE;
        for (int i = 0; i < after.size(); i++) {
            if (after.get(i).startsWith("CREATE")) {
                lastIndex = i;
            } else if (after.get(i).contains("FOREIGN KEY")) {
                firstForeignKey = Math.min(firstForeignKey, i);
            }
        }
        assertTrue(lastIndex < firstForeignKey, "indexes before foreign keys: " + after);
        assertTrue(after.contains("CREATE INDEX IF NOT EXISTS \"Order Lines_by price\" ON shop.\"Order Lines\""
                + " USING btree (unit_price DESC NULLS LAST)"), "quoted names: " + after);
    }

    @Test
    void aFailedValidationCanBeCaughtAndTheRestStillRuns() throws Exception {
        PostgresSchemaScript script = readInSnapshot(donor, TABLES);
        PgServer target = newDatabase("orphans");
        try (Connection t = target.connect()) {
            PostgresSchemaScript.run(t, script.beforeData());
            Fixtures.exec(t, "INSERT INTO shop.\"Order Lines\" (\"orderId\", \"lineNo\", unit_price) VALUES (99, 1, 1)");
            t.setAutoCommit(false);
            List<String> failed = new ArrayList<>();
            for (String statement : script.afterData()) {
                Savepoint sp = t.setSavepoint();
                try {
                    PostgresSchemaScript.run(t, List.of(statement));
                } catch (SQLException e) {
                    assertEquals("23503", e.getSQLState(), e.getMessage());
                    t.rollback(sp);
                    failed.add(statement);
                }
            }
            t.commit();
            assertEquals(List.of("ALTER TABLE shop.\"Order Lines\" VALIDATE CONSTRAINT \"Order Lines_orderId_fkey\""),
                    failed);
            assertEquals(List.of("f"), rows(t, "SELECT convalidated FROM pg_constraint"
                    + " WHERE conname = 'Order Lines_orderId_fkey'"), "the key is there, not validated");
        }
    }

    @Test
    void tablesThatCannotBeCopiedAreRefusedTogetherAndNamed() throws Exception {
        PgServer other = newDatabase("unsupported");
        try (Connection c = other.connect()) {
            Fixtures.exec(c, """
                    CREATE TYPE address AS (street text, city text);
                    CREATE TYPE floatrange AS RANGE (subtype = float8);
                    CREATE TABLE fine (id int PRIMARY KEY);
                    CREATE TABLE with_composite (id int PRIMARY KEY, home address);
                    CREATE TABLE with_row_type (id int PRIMARY KEY, f fine);
                    CREATE TABLE with_range (id int PRIMARY KEY, span floatrange[]);
                    CREATE TABLE measurement (at date NOT NULL, v int) PARTITION BY RANGE (at);
                    CREATE TABLE measurement_2024 PARTITION OF measurement FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
                    CREATE TABLE base (id int);
                    CREATE TABLE derived (extra int) INHERITS (base);
                    CREATE VIEW fine_view AS SELECT id FROM fine;
                    """);
            String searchPath = rows(c, "SHOW search_path").get(0);
            c.setAutoCommit(false);
            SQLException e = assertThrows(SQLException.class, () -> PostgresSchemaScript.read(c, List.of("public.fine",
                    "public.with_composite", "public.with_row_type", "public.with_range", "public.measurement", "public.measurement_2024",
                    "public.derived", "public.fine_view", "public.missing", "nodot")));
            String m = e.getMessage();
            for (String expected : List.of(
                    "column public.with_row_type.f has type public.fine, the row type of table public.fine",
                    "column public.with_range.span has type public.floatrange, a range type",
                    "table public.measurement is partitioned, which schema copy does not support yet",
                    "table public.measurement_2024 is a partition of public.measurement",
                    "table public.derived inherits from public.base",
                    "table public.fine_view is not a plain table",
                    "table public.missing does not exist on the donor",
                    "'nodot' is not a schema.table name",
                    "Create these tables on the new mirror with the site's own migrations before it joins,"
                            + " or exclude them with mirror.tables.exclude")) {
                assertTrue(m.contains(expected), "message has '" + expected + "': " + m);
            }
            assertFalse(m.contains("public.fine "), m);
            assertFalse(m.contains("with_composite"), "a composite type is copied: " + m);
            assertEquals(List.of(searchPath), rows(c, "SHOW search_path"), "search_path restored, transaction usable");
            c.rollback();
        }
    }

    /** Reads the script as a joining mirror would: in a read-only snapshot transaction of the donor. */
    private static PostgresSchemaScript readInSnapshot(PgServer server, List<String> tables) throws SQLException {
        try (Connection d = server.connect()) {
            String searchPath = rows(d, "SHOW search_path").get(0);
            d.setAutoCommit(false);
            d.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            d.setReadOnly(true);
            PostgresSchemaScript script = PostgresSchemaScript.read(d, tables);
            assertEquals(List.of(searchPath), rows(d, "SHOW search_path"), "read() puts the search_path back");
            d.commit();
            return script;
        }
    }

    /**
     * Catalog views of both schemas, with names qualified (search_path is pg_catalog): the same
     * rows, in the same order, mean the same tables. Column order is attnum order without the
     * numbers, since the donor's dropped column leaves a gap.
     */
    static final List<String> CATALOG_QUERIES = List.of(
            """
            SELECT c.oid::regclass::text, c.relkind, c.relpersistence, c.relreplident, c.relrowsecurity,
                   c.relforcerowsecurity, c.reloptions
            FROM pg_class c WHERE c.relnamespace IN ('public'::regnamespace, 'shop'::regnamespace) ORDER BY 1
            """,
            """
            SELECT a.attrelid::regclass::text, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, a.attcollation::regcollation
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE c.relnamespace IN ('public'::regnamespace, 'shop'::regnamespace) AND c.relkind = 'r'
              AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY 1, a.attnum
            """,
            """
            SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid), convalidated, condeferrable,
                   condeferred, contypid::regtype
            FROM pg_constraint WHERE connamespace IN ('public'::regnamespace, 'shop'::regnamespace) ORDER BY 1, 2
            """,
            """
            SELECT pg_get_indexdef(i.indexrelid), i.indisprimary, i.indisunique, i.indisreplident, i.indisvalid
            FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
            WHERE c.relnamespace IN ('public'::regnamespace, 'shop'::regnamespace) ORDER BY 1
            """,
            """
            SELECT schemaname, sequencename, data_type, start_value, min_value, max_value, increment_by, cycle,
                   cache_size
            FROM pg_sequences WHERE schemaname IN ('public', 'shop') ORDER BY 1, 2
            """,
            """
            SELECT d.objid::regclass::text, d.refobjid::regclass::text, a.attname, d.deptype
            FROM pg_depend d JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
            JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
            WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
              AND s.relnamespace IN ('public'::regnamespace, 'shop'::regnamespace)
            ORDER BY 1
            """,
            """
            SELECT t.oid::regtype::text, t.typtype, format_type(t.typbasetype, t.typtypmod), t.typnotnull,
                   pg_get_expr(t.typdefaultbin, 0), t.typcollation::regcollation,
                   (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)
            FROM pg_type t WHERE t.typnamespace IN ('public'::regnamespace, 'shop'::regnamespace)
              AND (t.typtype IN ('e', 'd') OR (SELECT r.relkind FROM pg_class r WHERE r.oid = t.typrelid) = 'c')
            ORDER BY 1
            """,
            """
            SELECT t.oid::regtype::text, a.attname, format_type(a.atttypid, a.atttypmod), a.attcollation::regcollation
            FROM pg_type t JOIN pg_class r ON r.oid = t.typrelid AND r.relkind = 'c'
            JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE t.typnamespace IN ('public'::regnamespace, 'shop'::regnamespace) ORDER BY 1, a.attnum
            """,
            """
            SELECT extname, extnamespace::regnamespace FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1
            """);

    /** A fresh, empty database on the test server, dropped after the class. */
    private static PgServer newDatabase(String label) throws SQLException {
        String name = donor.database() + "_" + label;
        try (Connection c = donor.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE " + PostgresDialect.quote(name));
        }
        CREATED.add(name);
        return new PgServer(donor.name() + "-" + label, donor.host(), donor.port(), name, donor.user(), donor.password());
    }

    /** Each row as its columns' text joined by '|' (null as "-"), read with names schema-qualified. */
    private static List<String> rows(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement()) {
            String saved;
            try (ResultSet rs = st.executeQuery("SELECT current_setting('search_path'),"
                    + " set_config('search_path', 'pg_catalog', false)")) {
                rs.next();
                saved = rs.getString(1);
            }
            try (ResultSet rs = st.executeQuery(sql)) {
                ResultSetMetaData md = rs.getMetaData();
                while (rs.next()) {
                    List<String> cols = new ArrayList<>();
                    for (int i = 1; i <= md.getColumnCount(); i++) {
                        String v = rs.getString(i);
                        cols.add(v == null ? "-" : v);
                    }
                    out.add(String.join("|", cols));
                }
            } finally {
                try (ResultSet rs = st.executeQuery("SELECT set_config('search_path', " + literal(saved) + ", false)")) {
                    rs.next();
                }
            }
        }
        return out;
    }

    private static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }
}
