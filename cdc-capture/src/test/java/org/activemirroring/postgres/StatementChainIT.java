package org.activemirroring.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.activemirroring.db.RowStatement;
import org.activemirroring.db.StatementChain;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.TransactionState;

/**
 * A {@link StatementChain} sends its statements in one round trip with their parameters at the
 * right places; ending it with a commit ends the transaction (so the driver's commit sends
 * nothing), and a failing statement stops the rest and leaves nothing committed.
 */
class StatementChainIT {

    private static PostgresServers servers;
    private static PgServer pg;

    @BeforeAll
    static void start() throws Exception {
        servers = PostgresServers.start("chain", 1);
        pg = servers.servers().get(0);
        try (Connection c = pg.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE item (id int PRIMARY KEY, label text, data bytea)");
        }
    }

    @AfterAll
    static void stop() {
        if (servers != null) {
            servers.close();
        }
    }

    @BeforeEach
    void empty() throws SQLException {
        try (Connection c = pg.connect(); Statement st = c.createStatement()) {
            st.execute("TRUNCATE item");
        }
    }

    @Test
    void statementsWithTheCommitEndTheTransactionInOneGo() throws SQLException {
        try (Connection c = pg.connect()) {
            c.setAutoCommit(false);
            new StatementChain()
                    .add("INSERT INTO item (id, label) VALUES (?::int, ?)", 2, (ps, first) -> {
                        ps.setString(first, "1");
                        ps.setString(first + 1, "one");
                    })
                    .add(new RowStatement("INSERT INTO item (id, label, data) VALUES (?::int, ?, ?)",
                            new Object[] {"2", "two", new byte[] {7, 0, 9}}, new boolean[] {false, false, true}))
                    .add("UPDATE item SET label = label || ? WHERE id = ?::int", 2, (ps, first) -> {
                        ps.setString(first, "!");
                        ps.setString(first + 1, "1");
                    })
                    .commit()
                    .execute(c);
            assertEquals(TransactionState.IDLE, ((BaseConnection) c).getTransactionState(),
                    "the chain's COMMIT ended the transaction");
            c.commit();
        }
        assertEquals("1:one!,2:two:070009", rows());
    }

    @Test
    void aFailingStatementStopsTheChainAndNothingCommits() throws SQLException {
        try (Connection c = pg.connect()) {
            c.setAutoCommit(false);
            StatementChain chain = new StatementChain()
                    .add("INSERT INTO item (id, label) VALUES (1, ?)", 1, (ps, first) -> ps.setString(first, "a"))
                    .add("INSERT INTO item (id, label) VALUES (1, ?)", 1, (ps, first) -> ps.setString(first, "b"))
                    .add("INSERT INTO item (id, label) VALUES (2, ?)", 1, (ps, first) -> ps.setString(first, "c"))
                    .commit();
            SQLException e = assertThrows(SQLException.class, () -> chain.execute(c));
            assertEquals("23505", e.getSQLState(), e.toString());
            assertEquals(TransactionState.FAILED, ((BaseConnection) c).getTransactionState());
            c.rollback();
        }
        assertEquals("", rows());
    }

    @Test
    void nothingCanFollowTheCommit() {
        StatementChain chain = new StatementChain().commit();
        assertThrows(IllegalStateException.class, () -> chain.add("SELECT 1", 0, (ps, first) -> { }));
    }

    private static String rows() throws SQLException {
        try (Connection c = pg.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT coalesce(string_agg(id || ':' || label"
                     + " || coalesce(':' || encode(data, 'hex'), ''), ',' ORDER BY id), '') FROM item")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
