package org.activemirroring.capture;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;

/** Small static helpers for the capture and apply ITs: the test schema, configs, table dumps. */
public final class Fixtures {
    private Fixtures() {
    }

    /** The mirrored tables of the ITs, parents before children. */
    public static final List<String> TABLES = List.of("public.parent", "public.child", "public.tag");

    static final String SCHEMA_SQL = """
            CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
            CREATE TABLE parent (
              id bigint PRIMARY KEY,
              name text NOT NULL,
              price numeric(12,3),
              created timestamptz,
              data bytea,
              doc jsonb,
              big text
            );
            CREATE TABLE child (
              id bigint PRIMARY KEY,
              parent_id bigint NOT NULL REFERENCES parent(id),
              note varchar(200),
              at timestamp(6),
              day date,
              tod time,
              flag boolean,
              f double precision,
              r real,
              u uuid,
              small smallint,
              feeling mood,
              dur interval,
              cash money,
              code char(3),
              addr inet,
              huge numeric
            );
            CREATE TABLE tag (
              parent_id bigint REFERENCES parent(id),
              tag text,
              PRIMARY KEY (parent_id, tag)
            );
            """;

    public static void createSchema(PgServer s) throws SQLException {
        try (Connection c = s.connect(); Statement st = c.createStatement()) {
            st.execute(SCHEMA_SQL);
        }
    }

    /** Raw settings for a capture/applier on {@code s}; slots are dropped at stop. */
    public static Map<String, String> raw(PgServer s) {
        Map<String, String> raw = new HashMap<>();
        raw.put("mirror.db.url", s.jdbcUrl());
        raw.put("mirror.db.user", s.user());
        raw.put("mirror.db.password", s.password());
        raw.put("mirror.node.slot", "1");
        raw.put("mirror.capture.slot.drop-on-stop", "true");
        raw.put("mirror.capture.offset.flush.interval.ms", "0");
        return raw;
    }

    public static CaptureConfig config(Map<String, String> raw) {
        List<String> problems = new ArrayList<>();
        CaptureConfig c = CaptureConfig.from(raw, problems);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(problems.toString());
        }
        return c;
    }

    public static CaptureConfig config(PgServer s) {
        return config(raw(s));
    }

    public static Path dataDir(String name) throws Exception {
        Path dir = PostgresServers.workDir().resolve("capture-" + name + "-" + System.nanoTime());
        Files.createDirectories(dir);
        return dir;
    }

    /** A random string PostgreSQL cannot compress much, so it is stored out of line (TOASTed). */
    public static String incompressible(int length, long seed) {
        Random r = new Random(seed);
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return sb.toString();
    }

    /** Every row of a table as PostgreSQL's row text, ordered, for comparing two databases. */
    public static List<String> dump(Connection c, String table) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT t::text FROM " + table + " t ORDER BY t::text")) {
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
        }
        return rows;
    }

    /** The first column of every row {@code sql} returns on {@code server}. */
    public static List<String> rows(PgServer server, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = server.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** Another mirror's recorded {@code ALTER TABLE} made under search path {@code public}, as the applier receives it. */
    public static org.activemirroring.change.RowChange alterTable(String statement) {
        return new org.activemirroring.change.RowChange(org.activemirroring.postgres.DdlReplication.TABLE,
                org.activemirroring.change.RowChange.Op.INSERT, Map.of("id", "1"),
                Map.of("tag", "ALTER TABLE", "search_path", "public", "statement", statement), null, List.of());
    }

    /**
     * Prepares a database as a mirror's start does for applying with schema changes of schema
     * {@code public}: the plugin's bookkeeping, a publication and the schema-change triggers.
     * Returns what {@code DdlReplication.install} says is missing, null when nothing.
     */
    public static String installSchemaChanges(Connection c) throws SQLException {
        new org.activemirroring.postgres.PostgresDialect().createBookkeeping(c);
        exec(c, "CREATE PUBLICATION am_test FOR TABLE mirror.heartbeat");
        return org.activemirroring.postgres.DdlReplication.install(c,
                org.activemirroring.schema.MirroredTables.configured(List.of("public"), List.of()), "am_test", 1, 4);
    }

    public static void exec(Connection c, String... sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }
}
