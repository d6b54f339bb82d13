package org.activemirroring.testsupport;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * One running PostgreSQL server with logical decoding on, and a database of its own for the test.
 *
 * @param name     a label for logs ("pg-a")
 * @param host     always a loopback or test host
 * @param port     the server's port
 * @param database the test's database on that server
 * @param user     a user allowed to replicate (superuser in embedded and Docker modes)
 * @param password may be empty
 */
public record PgServer(String name, String host, int port, String database, String user, String password) {

    public String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    /** The same server and database, as another role. */
    public PgServer as(String otherUser, String otherPassword) {
        return new PgServer(name, host, port, database, otherUser, otherPassword);
    }

    /** A new connection to the test database; the caller closes it. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), user, password);
    }
}
