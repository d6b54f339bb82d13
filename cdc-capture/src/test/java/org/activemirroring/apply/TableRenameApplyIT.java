package org.activemirroring.apply;

import static org.activemirroring.apply.TransportRetries.deliver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.activemirroring.capture.Fixtures;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.change.RowChange;
import org.activemirroring.postgres.DdlReplication;
import org.activemirroring.postgres.PostgresDialect;
import org.activemirroring.schema.MirroredTables;
import org.activemirroring.testsupport.PgServer;
import org.activemirroring.testsupport.PostgresServers;
import org.activemirroring.transport.Envelope;
import org.junit.jupiter.api.Test;

/**
 * The applier with a real PostgreSQL whose tables were renamed here: changes written elsewhere
 * under a table's old name land in the table under its name now, whether the site renamed it, the
 * applier replayed another mirror's rename, or the rename was made while the mirror was stopped;
 * the rows' versions follow the table, so an older write from elsewhere still loses; delivered
 * grouped with rows under the new name, the newest write wins; a truncate under the old name
 * empties the table; a table never had still parks.
 */
class TableRenameApplyIT {
    private static final MirroredTables PUBLIC = MirroredTables.configured(List.of("public"), List.of());

    private final ChangeSetCodec codec = new ChangeSetCodec();
    private final Map<String, Long> seqs = new HashMap<>();

    private Envelope envelope(String origin, long clock, RowChange... rows) {
        long seq = seqs.merge(origin, 1L, Long::sum);
        ChangeSet cs = new ChangeSet(origin, 0, 100 + seq, 1, 2, clock, Map.of(), List.of(rows));
        return new Envelope(Envelope.FORMAT_VERSION, origin, seq, new byte[Envelope.HASH_LENGTH],
                ChangeSet.PAYLOAD_TYPE, codec.encode(cs), new byte[0]);
    }

    private static RowChange write(String table, RowChange.Op op, String id, String v) {
        Map<String, String> after = new LinkedHashMap<>();
        after.put("id", id);
        after.put("v", v);
        return new RowChange(table, op, Map.of("id", id), after, null, List.of());
    }


    /** The tables that row versions are kept under, with how many rows each. */
    private static Map<String, Integer> versionTables(Connection c) throws SQLException {
        Map<String, Integer> out = new LinkedHashMap<>();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT tbl, count(*) FROM mirror.row_version GROUP BY tbl ORDER BY tbl")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getInt(2));
            }
        }
        return out;
    }

    @Test
    void rowsUnderAnOldTableNameLandInTheTableAsItIsNamedHere() throws Exception {
        try (PostgresServers pgs = PostgresServers.start("tablerename", 1)) {
            PgServer s = pgs.get(0);
            try (Connection c = s.connect()) {
                Fixtures.exec(c, "CREATE TABLE t (id bigint PRIMARY KEY, v text)");
                assertNull(Fixtures.installSchemaChanges(c));
                try (ChangeSetApplier applier = new ChangeSetApplier(Fixtures.config(s), new PostgresDialect())) {
                    deliver(applier, envelope("node-x", 1000, write("public.t", RowChange.Op.INSERT, "1", "x1")));
                    assertEquals(Map.of("public.t", 1), versionTables(c));

                    // This mirror's own migration: the row's version goes with the table.
                    Fixtures.exec(c, "ALTER TABLE t RENAME TO t2");
                    assertEquals(Map.of("public.t2", 1), versionTables(c));
                    deliver(applier, envelope("node-x", 2000, write("public.t", RowChange.Op.INSERT, "2", "x2")));
                    // Written elsewhere before row 1's version here, under the old name: it loses.
                    deliver(applier, envelope("node-y", 500, write("public.t", RowChange.Op.UPDATE, "1", "older")));
                    assertEquals(List.of("(1,x1)", "(2,x2)"), Fixtures.dump(c, "public.t2"));
                    assertEquals(1, applier.stats().conflicts(), "the older write went to the conflict log");

                    // Another mirror's rename, replayed here; then rows under the first name.
                    deliver(applier, envelope("node-x", 3000, Fixtures.alterTable("ALTER TABLE t2 RENAME TO t3"),
                            write("public.t3", RowChange.Op.INSERT, "3", "x3")));
                    deliver(applier, envelope("node-y", 3500, write("public.t", RowChange.Op.INSERT, "4", "y4")));
                    assertEquals(Map.of("public.t3", 4), versionTables(c));

                    // Grouped: one row written under the new and then the old name, the older write
                    // delivered last. Planned by names they look disjoint; the newer write still wins.
                    applier.groupDeliveries(true);
                    applier.deliver(envelope("node-x", 4100, write("public.t3", RowChange.Op.UPDATE, "4", "x4 newer")));
                    applier.deliver(envelope("node-y", 4000, write("public.t", RowChange.Op.UPDATE, "4", "y4 older")));
                    applier.deliver(envelope("node-x", 4200, write("public.t3", RowChange.Op.INSERT, "5", "x5")));
                    applier.flush();
                    applier.groupDeliveries(false);
                    assertEquals(List.of("(1,x1)", "(2,x2)", "(3,x3)", "(4,\"x4 newer\")", "(5,x5)"),
                            Fixtures.dump(c, "public.t3"));
                    assertEquals(List.of(), applier.parkedChanges(10));

                    // A table this mirror never had: parked, waiting for a schema change.
                    deliver(applier, envelope("node-x", 5000, write("public.never_here", RowChange.Op.INSERT, "1", "v")));
                    assertEquals(List.of("schema"),
                            applier.parkedChanges(10).stream().map(ParkedChanges.Parked::reason).toList());
                }

                // Renamed while the mirror was stopped (no trigger noted it): found at the next start.
                Fixtures.exec(c, "ALTER EVENT TRIGGER am_capture_ddl DISABLE", "ALTER TABLE t3 RENAME TO t4",
                        "ALTER EVENT TRIGGER am_capture_ddl ENABLE ALWAYS");
                assertEquals(Map.of("public.t3", 5), versionTables(c));
                assertNull(DdlReplication.install(c, PUBLIC, "am_test", 1, 4));
                assertEquals(Map.of("public.t4", 5), versionTables(c));
                try (ChangeSetApplier applier = new ChangeSetApplier(Fixtures.config(s), new PostgresDialect())) {
                    deliver(applier, envelope("node-y", 6000, write("public.t", RowChange.Op.UPDATE, "2", "y2"),
                            write("public.t2", RowChange.Op.INSERT, "6", "y6")));
                    List<String> rows = new ArrayList<>(Fixtures.dump(c, "public.t4"));
                    assertEquals(List.of("(1,x1)", "(2,y2)", "(3,x3)", "(4,\"x4 newer\")", "(5,x5)", "(6,y6)"), rows);
                    // A truncate under the first name empties the table as it is named now.
                    deliver(applier, envelope("node-x", 7000, RowChange.truncate("public.t")));
                    assertEquals(List.of(), Fixtures.dump(c, "public.t4"));
                    assertEquals(List.of(), applier.parkedChanges(10).stream()
                            .filter(p -> !p.tables().contains("public.never_here")).toList());
                }
            }
        }
    }
}
