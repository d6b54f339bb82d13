package org.activemirroring.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

import org.activemirroring.change.RowVersion;
import org.activemirroring.db.StoredVersion;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.activemirroring.apply.RowWriter;
import org.activemirroring.db.StatementChain;
import org.activemirroring.db.VersionStore;

/**
 * Version writes on a real PostgreSQL: versions of rows read as having none go in with a plain
 * insert, the others with an upsert, in one chain; a version wrongly taken for absent fails the
 * transaction instead of being replaced unseen.
 */
class VersionWriteIT {
    private static final String TABLE = "public.items";
    private static PostgresServers servers;
    private static PgServer server;
    private final PostgresVersionStore store = new PostgresDialect().versions();

    @BeforeAll
    static void start() throws Exception {
        servers = PostgresServers.start("versionwrite", 1);
        server = servers.get(0);
        try (Connection c = server.connect()) {
            new PostgresDialect().createBookkeeping(c);
        }
    }

    @AfterAll
    static void stop() {
        if (servers != null) {
            servers.close();
        }
    }

    private static VersionStore.Write write(String key, long clock, boolean absent) {
        return new VersionStore.Write(key, new RowVersion(clock, "b"), false, null, 0, clock, 0, absent);
    }

    @Test
    void absentRowsAreInsertedAndStoredOnesReplacedInOneChain() throws Exception {
        try (Connection c = server.connect()) {
            c.setAutoCommit(false);
            StatementChain first = new StatementChain();
            store.addWrite(first, c, TABLE, List.of(write("{\"id\":\"1\"}", 10, true), write("{\"id\":\"2\"}", 11, true)),
                    null, 0);
            first.execute(c);
            c.commit();

            StatementChain second = new StatementChain();
            store.addWrite(second, c, TABLE, List.of(write("{\"id\":\"2\"}", 20, false), write("{\"id\":\"3\"}", 21, true)),
                    "b", 7);
            second.execute(c);
            c.commit();

            Map<String, StoredVersion> stored = store.read(c, TABLE, List.of("{\"id\":\"1\"}", "{\"id\":\"2\"}",
                    "{\"id\":\"3\"}"));
            c.commit();
            assertEquals(10, stored.get("{\"id\":\"1\"}").version().clock());
            assertEquals(20, stored.get("{\"id\":\"2\"}").version().clock(), "a stored version is replaced");
            assertEquals(21, stored.get("{\"id\":\"3\"}").version().clock());
            assertTrue(stored.values().stream().allMatch(v -> v.writerLsn() > 0 && v.writerXid() > 0),
                    "every write records its WAL position and transaction: " + stored);
        }
    }

    @Test
    void aVersionTakenForAbsentThatExistsFailsTheTransaction() throws Exception {
        try (Connection c = server.connect()) {
            c.setAutoCommit(false);
            StatementChain first = new StatementChain();
            store.addWrite(first, c, TABLE, List.of(write("{\"id\":\"9\"}", 30, true)), null, 0);
            first.execute(c);
            c.commit();

            StatementChain wrong = new StatementChain();
            store.addWrite(wrong, c, TABLE, List.of(write("{\"id\":\"9\"}", 31, true)), null, 0);
            SQLException e = assertThrows(SQLException.class, () -> wrong.execute(c));
            assertTrue(RowWriter.isUniqueViolation(e), e.toString());
            c.rollback();
            Map<String, StoredVersion> stored = store.read(c, TABLE, List.of("{\"id\":\"9\"}"));
            c.commit();
            assertEquals(30, stored.get("{\"id\":\"9\"}").version().clock(), "the stored version is left as it was");
            assertFalse(stored.get("{\"id\":\"9\"}").deleted());
        }
    }
}
