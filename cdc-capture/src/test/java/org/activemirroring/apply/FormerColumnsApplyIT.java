package org.activemirroring.apply;

import static org.activemirroring.apply.TransportRetries.deliver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.sql.Connection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.capture.Fixtures;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.change.RowChange;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.transport.Envelope;
import org.junit.jupiter.api.Test;

/**
 * The applier with a real PostgreSQL whose site renamed and dropped columns: changes written
 * elsewhere under the old names are applied under the new ones (or without the dropped column),
 * delivered alone or grouped, and also right behind a rename in the same ChangeSet; a column the
 * table never had still parks its change.
 */
class FormerColumnsApplyIT {

    private final ChangeSetCodec codec = new ChangeSetCodec();
    private long seq;

    private Envelope envelope(RowChange... rows) {
        seq++;
        ChangeSet cs = new ChangeSet("node-x", 0, 100 + seq, 1, 2, seq * 1000, Map.of(), List.of(rows));
        return new Envelope(Envelope.FORMAT_VERSION, "node-x", seq, new byte[Envelope.HASH_LENGTH],
                ChangeSet.PAYLOAD_TYPE, codec.encode(cs), new byte[0]);
    }

    private static RowChange write(RowChange.Op op, String id, String... columnsAndValues) {
        Map<String, String> after = new LinkedHashMap<>();
        after.put("id", id);
        for (int i = 0; i < columnsAndValues.length; i += 2) {
            after.put(columnsAndValues[i], columnsAndValues[i + 1]);
        }
        return new RowChange("public.t", op, Map.of("id", id), after, null, List.of());
    }


    @Test
    void changesUnderOldColumnNamesAreAppliedAloneGroupedAndBehindARename() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("former", 1)) {
            PgServer s = pgs.get(0);
            try (Connection c = s.connect()) {
                Fixtures.exec(c, "CREATE TABLE t (id bigint PRIMARY KEY, v text, gone text, n int)");
                assertNull(Fixtures.installSchemaChanges(c));
                // This mirror's own migration.
                Fixtures.exec(c, "ALTER TABLE t RENAME COLUMN v TO w", "ALTER TABLE t DROP COLUMN gone");
                try (ChangeSetApplier applier = new ChangeSetApplier(Fixtures.config(s), new PostgresDialect())) {
                    deliver(applier, envelope(write(RowChange.Op.INSERT, "1", "v", "alone", "gone", "x", "n", "1")));
                    applier.groupDeliveries(true);
                    applier.deliver(envelope(write(RowChange.Op.INSERT, "2", "v", "grouped", "gone", "y", "n", "2")));
                    applier.deliver(envelope(write(RowChange.Op.INSERT, "3", "v", "grouped too", "n", "3")));
                    applier.deliver(envelope(write(RowChange.Op.UPDATE, "1", "v", "updated", "gone", "z")));
                    applier.flush();
                    applier.groupDeliveries(false);
                    // Another mirror's rename arrives with rows before and after it: both find the column.
                    deliver(applier, envelope(write(RowChange.Op.INSERT, "4", "w", "before the rename"),
                            Fixtures.alterTable("ALTER TABLE t RENAME COLUMN w TO x"), write(RowChange.Op.INSERT, "5", "x", "after")));
                    deliver(applier, envelope(write(RowChange.Op.UPDATE, "2", "v", "first name, two renames on")));
                    assertEquals(List.of("(1,updated,1)", "(2,\"first name, two renames on\",2)",
                            "(3,\"grouped too\",3)", "(4,\"before the rename\",)", "(5,after,)"),
                            Fixtures.dump(c, "public.t"));
                    assertEquals(List.of(), applier.parkedChanges(10));

                    // A column this mirror never had: parked, waiting for a schema change.
                    deliver(applier, envelope(write(RowChange.Op.INSERT, "6", "never_here", "v")));
                    assertEquals(List.of("schema"),
                            applier.parkedChanges(10).stream().map(ParkedChanges.Parked::reason).toList());
                    assertEquals(5, Fixtures.dump(c, "public.t").size());
                }
            }
        }
    }
}
