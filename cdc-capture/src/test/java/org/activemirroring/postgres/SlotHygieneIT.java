package org.activemirroring.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.time.Duration;
import java.util.Map;

import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.capture.DebeziumCapture;
import org.activemirroring.capture.EchoPolicy;
import org.activemirroring.capture.Fixtures;
import org.activemirroring.capture.InMemoryTransport;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * A quiet mirrored schema must not pin write-ahead log that other tables write: capture's
 * heartbeats let the replication slot follow, and the slot's retained WAL is reported.
 */
class SlotHygieneIT {

    private static final long MIB = 1024 * 1024;

    @Test
    void heartbeatsLetTheSlotFollowWalWrittenOutsideTheMirroredTables() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("slot-hygiene", 1)) {
            PgServer s = pgs.get(0);
            Fixtures.createSchema(s);
            Map<String, String> raw = Fixtures.raw(s);
            raw.put("mirror.capture.heartbeat.interval.ms", "200");
            raw.put("mirror.capture.slot.warn-bytes", Long.toString(8 * MIB));
            CaptureConfig config = Fixtures.config(raw);
            InMemoryTransport transport = new InMemoryTransport("node-h");
            SlotMonitor monitor = new SlotMonitor(config, "node-h");
            try (DebeziumCapture capture = new DebeziumCapture(config, "node-h", Fixtures.dataDir("slot-hygiene"),
                    transport, new EchoPolicy(PostgresDialect.APPLY_ORIGIN), new PostgresDialect());
                 Connection c = s.connect()) {
                capture.start();
                Await.until(Duration.ofSeconds(30), () -> monitor.status().active(),
                        () -> "capture should stream from its slot: " + safeStatus(monitor));
                SlotMonitor.SlotStatus before = monitor.status();
                assertNull(before.warning(), before.toString());

                // 32 MiB of WAL in a table that is not mirrored (another schema): the mirrored
                // tables stay quiet, so capture receives no change to confirm.
                Fixtures.exec(c, "CREATE SCHEMA other", "CREATE TABLE other.bulk (id int, pad text)",
                        "INSERT INTO other.bulk SELECT g, repeat(md5(g::text), 16) FROM generate_series(1, 50000) g");
                SlotMonitor.SlotStatus busy = monitor.status();
                assertTrue(busy.retainedBytes() > 8 * MIB, "the bulk insert wrote WAL the slot holds: " + busy);
                assertNotNull(busy.warning(), "past mirror.capture.slot.warn-bytes the status warns");
                assertTrue(busy.warning().contains("pg_drop_replication_slot"), busy.warning());

                // The slot's restart point moves at running-transactions records, which the server
                // writes every 15 s; asking for one on each check keeps the test short.
                Await.until(Duration.ofSeconds(40), () -> {
                    Fixtures.exec(c, "SELECT pg_log_standby_snapshot()");
                    return monitor.status().retainedBytes() < 2 * MIB;
                }, () -> "heartbeats should let the slot advance; now " + safeStatus(monitor));
                assertNull(monitor.status().warning());
                assertEquals(0, transport.size(), "nothing of the unmirrored table or the heartbeats was published");
            }
        }
    }

    private static String safeStatus(SlotMonitor m) {
        try {
            return m.status().toString();
        } catch (Exception e) {
            return e.toString();
        }
    }
}
