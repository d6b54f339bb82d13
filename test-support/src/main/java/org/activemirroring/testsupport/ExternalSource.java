package org.activemirroring.testsupport;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Servers that already run, from {@code AM_IT_PG=host:port:user:password,...}. The fixture makes a
 * fresh database on each and drops it (and any replication slot on it) at close.
 */
final class ExternalSource {
    private ExternalSource() {
    }

    static PostgresServers start(String label, int count) throws Exception {
        String spec = System.getenv("AM_IT_PG");
        if (spec == null || spec.isBlank()) {
            throw new IllegalStateException("AM_IT_PG is not set; give host:port:user:password of "
                    + count + " servers with wal_level=logical");
        }
        String[] entries = spec.split(",");
        if (entries.length < count) {
            throw new IllegalStateException("AM_IT_PG lists " + entries.length + " servers, the test needs " + count);
        }
        List<PgServer> servers = new ArrayList<>();
        List<AutoCloseable> cleanups = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String[] p = entries[i].trim().split(":", 4);
            if (p.length < 3) {
                throw new IllegalStateException("Invalid AM_IT_PG entry '" + entries[i]
                        + "': write host:port:user:password");
            }
            String host = p[0];
            int port = Integer.parseInt(p[1]);
            String user = p[2];
            String password = p.length > 3 ? p[3] : "";
            String maintenance = "jdbc:postgresql://" + host + ":" + port + "/postgres";
            String database = PostgresServers.uniqueDatabaseName(label);
            PostgresServers.createDatabase(maintenance, user, password, database);
            cleanups.add(() -> dropDatabase(maintenance, user, password, database));
            servers.add(new PgServer(label + "-" + (i + 1), host, port, database, user, password));
        }
        return PostgresServers.of(servers, cleanups);
    }

    private static void dropDatabase(String url, String user, String password, String database) throws Exception {
        try (Connection c = DriverManager.getConnection(url, user, password); Statement s = c.createStatement()) {
            s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '"
                    + database + "' AND NOT active");
            s.execute("DROP DATABASE IF EXISTS \"" + database + "\" WITH (FORCE)");
        }
    }
}
