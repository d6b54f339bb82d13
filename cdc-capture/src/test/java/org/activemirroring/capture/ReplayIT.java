package org.activemirroring.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.testsupport.Await;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.junit.jupiter.api.Test;

/**
 * Debezium re-delivering transactions that were already published (at-least-once) publishes
 * nothing twice. A genuine replay is forced: the slot and the offsets file are copied before the
 * writes, and capture is restarted on the copies after the writes were published.
 */
class ReplayIT {

    @Test
    void replayedTransactionsAreRecognisedFromTheJournal() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("replay", 1)) {
            PgServer a = pgs.get(0);
            Fixtures.createSchema(a);
            InMemoryTransport transport = new InMemoryTransport("node-r");
            EchoPolicy echo = new EchoPolicy(PostgresDialect.APPLY_ORIGIN);
            Path dataDir = Fixtures.dataDir("replay");
            Path savedDir = Fixtures.dataDir("replay-saved");
            Map<String, String> keep = Fixtures.raw(a);
            keep.put("mirror.capture.slot", "am_replay");
            keep.put("mirror.capture.slot.drop-on-stop", "false");

            try (Connection c = a.connect()) {
                // 1. Capture one transaction, stop without dropping the slot.
                try (DebeziumCapture first = new DebeziumCapture(Fixtures.config(keep), "node-r", dataDir, transport, echo, new PostgresDialect())) {
                    first.start();
                    Fixtures.exec(c, "INSERT INTO parent (id, name) VALUES (1, 'before the copy')");
                    Await.until(Duration.ofSeconds(30), () -> transport.size() == 1, () -> "first published, " + first.stats());
                }
                // 2. Save slot and offsets as they are now.
                Fixtures.exec(c, "SELECT pg_copy_logical_replication_slot('am_replay', 'am_replay_copy')");
                Path offsets = dataDir.resolve("capture").resolve("offsets.dat");
                Files.createDirectories(savedDir.resolve("capture"));
                Files.copy(offsets, savedDir.resolve("capture").resolve("offsets.dat"));

                // 3. Capture three more transactions on the original slot.
                Map<String, String> second = Fixtures.raw(a);
                second.put("mirror.capture.slot", "am_replay");
                try (DebeziumCapture capture = new DebeziumCapture(Fixtures.config(second), "node-r", dataDir, transport, echo, new PostgresDialect())) {
                    capture.start();
                    Fixtures.exec(c, "INSERT INTO parent (id, name) VALUES (2, 'two')",
                            "UPDATE parent SET name = 'one' WHERE id = 1",
                            "DELETE FROM parent WHERE id = 2");
                    Await.until(Duration.ofSeconds(30), () -> transport.size() == 4, () -> "4 published, " + capture.stats());
                    assertEquals(0, capture.stats().replaysSkipped());
                }

                // 4. Restart on the copies: Debezium delivers the three again; none is published twice.
                Map<String, String> replay = Fixtures.raw(a);
                replay.put("mirror.capture.slot", "am_replay_copy");
                try (DebeziumCapture again = new DebeziumCapture(Fixtures.config(replay), "node-r", savedDir, transport, echo, new PostgresDialect())) {
                    again.start();
                    Fixtures.exec(c, "INSERT INTO parent (id, name) VALUES (5, 'after the restart')");
                    Await.until(Duration.ofSeconds(30), () -> transport.size() >= 5 && again.stats().replaysSkipped() >= 3,
                            () -> "5 published and 3 replays skipped, have " + transport.size() + ", " + again.stats());
                    assertEquals(3, again.stats().replaysSkipped(), "the three transactions were really replayed");
                    assertEquals(1, again.stats().published());
                    assertEquals(5, transport.size(), "nothing published twice");
                    List<Long> txIds = transport.published().stream()
                            .map(e -> new ChangeSetCodec().decode(e).sourceTxId()).toList();
                    assertEquals(5, txIds.stream().distinct().count(), "distinct transactions: " + txIds);
                }
                assertEquals(0, slotCount(c), "every slot dropped");
            }
        }
    }

    private static int slotCount(Connection c) throws Exception {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_replication_slots")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
