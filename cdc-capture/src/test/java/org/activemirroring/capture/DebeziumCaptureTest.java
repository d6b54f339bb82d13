package org.activemirroring.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.RowChange;
import org.activemirroring.postgres.MirrorPostgresConnector;
import org.activemirroring.postgres.PostgresDialect;
import org.junit.jupiter.api.Test;

/** The connector settings capture relies on, and its start-failure explanations; no engine runs. */
class DebeziumCaptureTest {

    private static DebeziumCapture capture(Map<String, String> extra) {
        Map<String, String> raw = new java.util.HashMap<>(Map.of("mirror.db.url", "jdbc:postgresql://db:6000/site",
                "mirror.db.user", "mirror", "mirror.db.password", "pw", "mirror.node.slot", "1"));
        raw.putAll(extra);
        return new DebeziumCapture(Fixtures.config(raw), "web-1", Path.of("/data/am"), new InMemoryTransport("web-1"),
                new EchoPolicy(PostgresDialect.APPLY_ORIGIN), new PostgresDialect());
    }

    @Test
    void connectorSettings() {
        Properties p = capture(Map.of("mirror.db.schemas", "public,shop",
                "mirror.tables.exclude", "public.sessions,shop.cache")).properties();
        assertEquals(MirrorPostgresConnector.class.getName(), p.getProperty("connector.class"));
        assertEquals("db", p.getProperty("database.hostname"));
        assertEquals("6000", p.getProperty("database.port"));
        assertEquals("site", p.getProperty("database.dbname"));
        assertEquals("pgoutput", p.getProperty("plugin.name"));
        assertEquals("am_web_1", p.getProperty("slot.name"));
        assertEquals("activemirroring", p.getProperty("publication.name"));
        assertEquals("filtered", p.getProperty("publication.autocreate.mode"));
        // The mirror schema is read for its heartbeat table and its recorded schema changes only.
        assertEquals("public,shop,mirror", p.getProperty("schema.include.list"));
        assertEquals("public\\.sessions,shop\\.cache,mirror\\.(?!heartbeat$|ddl$).+", p.getProperty("table.exclude.list"));
        assertEquals("10000", p.getProperty("heartbeat.interval.ms"));
        assertTrue(p.getProperty("heartbeat.action.query").contains("mirror.heartbeat"));
        java.util.regex.Pattern excludeMirror = java.util.regex.Pattern.compile("mirror\\.(?!heartbeat$|ddl$).+");
        assertTrue(excludeMirror.matcher("mirror.row_version").matches());
        assertTrue(!excludeMirror.matcher("mirror.heartbeat").matches());
        assertTrue(!excludeMirror.matcher("mirror.ddl").matches());
        assertTrue(excludeMirror.matcher("mirror.ddl_x").matches());
        assertEquals("no_data", p.getProperty("snapshot.mode"));
        assertEquals("2", p.getProperty("poll.interval.ms"));
        assertEquals("true", p.getProperty("provide.transaction.metadata"));
        assertEquals("false", p.getProperty("tombstones.on.delete"));
        assertEquals("string", p.getProperty("decimal.handling.mode"));
        assertEquals("(?i).+\\.numeric", p.getProperty("datatype.propagate.source.type"));
        assertEquals("string", p.getProperty("interval.handling.mode"));
        assertEquals("adaptive_time_microseconds", p.getProperty("time.precision.mode"));
        assertEquals("false", p.getProperty("slot.drop.on.stop"));
        assertEquals("1000", p.getProperty("offset.flush.interval.ms"));
        assertEquals(RowChangeConverter.UNAVAILABLE, p.getProperty("unavailable.value.placeholder"));
        assertEquals(Path.of("/data/am/capture/offsets.dat").toString(), p.getProperty("offset.storage.file.filename"));
        assertEquals("am-web-1", p.getProperty("topic.prefix"));
        Properties noHeartbeat = capture(Map.of("mirror.capture.heartbeat.interval.ms", "0")).properties();
        assertEquals("mirror\\.(?!ddl$).+", noHeartbeat.getProperty("table.exclude.list"));
        assertEquals("public,mirror", noHeartbeat.getProperty("schema.include.list"));
        assertNull(noHeartbeat.getProperty("heartbeat.interval.ms"));
    }

    @Test
    void tablesIdentifiedByAUniqueIndexAreKeyedByItsColumns() {
        Map<String, java.util.List<String>> keys = new java.util.LinkedHashMap<>();
        keys.put("public.post_tag", java.util.List.of("post_id", "tag_id"));
        keys.put("shop.member", java.util.List.of("email"));
        assertEquals("public\\.post_tag:post_id,tag_id;shop\\.member:email", DebeziumCapture.messageKeyColumns(keys));
        assertNull(capture(Map.of()).properties().getProperty("message.key.columns"), "none before the preflight ran");
    }

    @Test
    void startFailuresSayWhatToDo() {
        DebeziumCapture c = capture(Map.of());
        String walLevel = c.explain("Connector configuration is not valid.", new IllegalStateException(
                "Postgres server wal_level property must be 'logical' but is: 'replica'"));
        assertTrue(walLevel.contains("jdbc:postgresql://db:6000/site") && walLevel.contains("user mirror"), walLevel);
        assertTrue(walLevel.contains("wal_level=logical") && walLevel.contains("restart"), walLevel);
        String wrapped = c.explain("x failed", new RuntimeException("x failed", new RuntimeException("x failed")));
        assertEquals(1, wrapped.split("x failed", -1).length - 1, "each message once: " + wrapped);
        assertFalse(c.isRunning());
    }

    private static ChangeSet tx(long txId, String... ids) {
        java.util.List<RowChange> rows = new java.util.ArrayList<>();
        for (String id : ids) {
            rows.add(new RowChange("public.t", RowChange.Op.UPDATE, Map.of("id", id), Map.of("id", id), null,
                    java.util.List.of(), null));
        }
        return new ChangeSet("n", 0, txId, 0, 0, rows);
    }

    /** Transactions stamped together never change the same row (see publishWithRetry for why). */
    @Test
    void stampSegmentsEndBeforeARowIsChangedAgain() {
        java.util.List<ChangeSet> batch = java.util.List.of(tx(1, "1", "2"), tx(2, "3"), tx(3, "2"), tx(4, "4"), tx(5, "4", "4"));
        assertEquals(2, DebeziumCapture.disjointSegmentEnd(batch, 0));
        assertEquals(4, DebeziumCapture.disjointSegmentEnd(batch, 2));
        assertEquals(5, DebeziumCapture.disjointSegmentEnd(batch, 4), "a row repeated within one transaction is fine");
        assertEquals(1, DebeziumCapture.disjointSegmentEnd(java.util.List.of(tx(1, "1")), 0));
    }
}
