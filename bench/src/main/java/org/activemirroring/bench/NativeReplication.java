package org.activemirroring.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;

/**
 * The reference: PostgreSQL's own logical replication (publication on one server, subscription on
 * the other) over the same tables, on the same machine, in the same run.
 */
final class NativeReplication {
    private NativeReplication() {
    }

    /** Publishes {@code tables} on {@code publisher} and subscribes {@code subscriber} to them. */
    static void connect(PgServer publisher, PgServer subscriber, String... tables) throws SQLException {
        try (Connection c = publisher.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE PUBLICATION bench_pub FOR TABLE " + String.join(", ", tables));
        }
        try (Connection c = subscriber.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE SUBSCRIPTION bench_sub CONNECTION 'host=" + publisher.host() + " port=" + publisher.port()
                    + " dbname=" + publisher.database() + " user=" + publisher.user()
                    + (publisher.password().isEmpty() ? "" : " password=" + publisher.password())
                    + "' PUBLICATION bench_pub WITH (copy_data = false)");
        }
        Await.until(Duration.ofSeconds(30), () -> {
            try (Connection c = subscriber.connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_subscription WHERE pid IS NOT NULL")) {
                rs.next();
                return rs.getInt(1) > 0;
            }
        }, () -> "the native subscription never started its apply worker");
    }

    /** Stops or restarts the subscription's apply worker; the publisher's slot keeps what it misses. */
    static void setEnabled(PgServer subscriber, boolean enabled) throws SQLException {
        try (Connection c = subscriber.connect(); Statement s = c.createStatement()) {
            s.execute("ALTER SUBSCRIPTION bench_sub " + (enabled ? "ENABLE" : "DISABLE"));
        }
        if (!enabled) {
            // DISABLE returns before the worker has gone; wait, so the rows it has applied are final.
            Await.until(Duration.ofSeconds(30), () -> {
                try (Connection c = subscriber.connect(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_subscription WHERE pid IS NOT NULL")) {
                    rs.next();
                    return rs.getInt(1) == 0;
                }
            }, () -> "the native subscription's apply worker did not stop");
        }
    }

    /** Drops the subscription (and with it the publisher's slot). */
    static void disconnect(PgServer subscriber) throws SQLException {
        try (Connection c = subscriber.connect(); Statement s = c.createStatement()) {
            s.execute("DROP SUBSCRIPTION IF EXISTS bench_sub");
        }
    }
}
