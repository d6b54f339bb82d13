package org.activemirroring.join;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import org.activemirroring.capture.Fixtures;
import org.activemirroring.postgres.PostgresBulkCopy;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.postgres.PostgresRowStash;
import org.activemirroring.postgres.PostgresSchemaCopy;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * The foreign keys a join leaves {@code NOT VALID} are validated one by one after the join
 * ({@link JoinSink#validateNext}): each validation commits together with forgetting it, a
 * violation leaves its constraint NOT VALID and is not tried again, and any other failure keeps
 * the record for the next start.
 */
class ForeignKeyValidationIT {

    @Test
    void validationsRunOnceEachAndAViolationLeavesItsConstraintNotValid() throws Exception {
        try (PostgresServers servers = PostgresServers.start("fkvalidate", 1)) {
            PgServer pg = servers.servers().get(0);
            try (Connection c = pg.connect(); Statement st = c.createStatement()) {
                st.execute("""
                        CREATE TABLE parent (id int PRIMARY KEY);
                        CREATE TABLE child_ok (id int PRIMARY KEY, pid int);
                        CREATE TABLE child_bad (id int PRIMARY KEY, pid int);
                        INSERT INTO parent SELECT g FROM generate_series(1, 100) g;
                        INSERT INTO child_ok SELECT g, 1 + g % 100 FROM generate_series(1, 1000) g;
                        INSERT INTO child_bad VALUES (1, 5), (2, 999);
                        ALTER TABLE child_ok ADD CONSTRAINT child_ok_fk FOREIGN KEY (pid) REFERENCES parent (id) NOT VALID;
                        ALTER TABLE child_bad ADD CONSTRAINT child_bad_fk FOREIGN KEY (pid) REFERENCES parent (id) NOT VALID;
                        """);
            }
            JoinSink sink = new JoinSink(Fixtures.config(pg), new PostgresDialect(),
                    new PostgresSchemaCopy(), new PostgresBulkCopy(), new PostgresRowStash(), "fk-1");
            sink.state(); // creates the bookkeeping
            record(pg, 7, "ALTER TABLE public.child_ok VALIDATE CONSTRAINT child_ok_fk");
            record(pg, 8, "ALTER TABLE public.child_bad VALIDATE CONSTRAINT child_bad_fk");
            assertEquals(2, sink.validationsLeft());

            List<Statement> seen = new ArrayList<>();
            int runs = 0;
            while (sink.validateNext(s -> {
                if (s != null) {
                    seen.add(s);
                }
            })) {
                runs++;
            }
            assertEquals(2, runs);
            assertEquals(2, seen.size(), "each running statement is handed out for cancelling");
            assertEquals(0, sink.validationsLeft());
            assertTrue(validated(pg, "child_ok_fk"));
            assertFalse(validated(pg, "child_bad_fk"), "a violation leaves the constraint NOT VALID");
            assertFalse(sink.validateNext(s -> { }), "nothing left");

            // A constraint or table dropped since: nothing to validate, the record goes.
            record(pg, 9, "ALTER TABLE public.child_ok VALIDATE CONSTRAINT no_such_constraint");
            record(pg, 10, "ALTER TABLE public.no_such_table VALIDATE CONSTRAINT child_ok_fk");
            assertTrue(sink.validateNext(s -> { }));
            assertTrue(sink.validateNext(s -> { }));
            assertEquals(0, sink.validationsLeft());

            // Any other failure keeps the record: it is tried again.
            try (Connection c = pg.connect(); Statement st = c.createStatement()) {
                st.execute("ALTER TABLE child_ok DROP CONSTRAINT child_ok_fk;"
                        + " ALTER TABLE child_ok ADD CONSTRAINT child_ok_fk FOREIGN KEY (pid) REFERENCES parent (id) NOT VALID");
            }
            record(pg, 11, "SET LOCAL statement_timeout = 1; SELECT pg_sleep(1); ALTER TABLE public.child_ok VALIDATE CONSTRAINT child_ok_fk");
            SQLException e = assertThrows(SQLException.class, () -> sink.validateNext(s -> { }));
            assertEquals("57014", e.getSQLState(), e.getMessage());
            assertEquals(1, sink.validationsLeft());
            assertFalse(validated(pg, "child_ok_fk"));
        }
    }

    private static void record(PgServer pg, int idx, String sql) throws SQLException {
        try (Connection c = pg.connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO mirror.join_validate (idx, stmt) VALUES (?, ?)")) {
            ps.setInt(1, idx);
            ps.setString(2, sql);
            ps.executeUpdate();
        }
    }

    private static boolean validated(PgServer pg, String constraint) throws SQLException {
        try (Connection c = pg.connect();
             PreparedStatement ps = c.prepareStatement("SELECT convalidated FROM pg_constraint WHERE conname = ?")) {
            ps.setString(1, constraint);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), constraint);
                return rs.getBoolean(1);
            }
        }
    }
}
