package org.activemirroring.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import org.activemirroring.testsupport.PgServer;

/**
 * Tables the benchmarks write. {@code bench_lag} notifies a listener when a row becomes visible;
 * the trigger is ENABLE ALWAYS so that it also fires for rows written by a replication apply
 * (native apply workers and our applier both run with session_replication_role = replica).
 */
final class BenchSchema {
    static final String CHANNEL = "bench_seen";

    private BenchSchema() {
    }

    static void create(PgServer server) throws SQLException {
        try (Connection c = server.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE bench_lag (id bigint PRIMARY KEY, payload text NOT NULL, written timestamptz NOT NULL)");
            s.execute("CREATE TABLE bench_rows (id bigint PRIMARY KEY, batch int NOT NULL, amount numeric(12,2) NOT NULL,"
                    + " label text NOT NULL)");
            s.execute("CREATE FUNCTION bench_notify() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    + "PERFORM pg_notify('" + CHANNEL + "', NEW.id::text); RETURN NEW; END $$");
            s.execute("CREATE TRIGGER bench_seen AFTER INSERT ON bench_lag FOR EACH ROW EXECUTE FUNCTION bench_notify()");
            s.execute("ALTER TABLE bench_lag ENABLE ALWAYS TRIGGER bench_seen");
        }
    }

    static long count(PgServer server, String table) throws SQLException {
        try (Connection c = server.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
