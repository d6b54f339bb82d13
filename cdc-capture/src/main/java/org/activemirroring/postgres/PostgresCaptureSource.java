package org.activemirroring.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.capture.CaptureException;
import org.activemirroring.db.CaptureSource;
import org.activemirroring.db.DatabaseAddress;
import org.activemirroring.schema.MirroredTables;

/**
 * PostgreSQL as a {@link CaptureSource}: Debezium's PostgreSQL connector (as
 * {@link MirrorPostgresConnector}) on a pgoutput slot and a filtered publication, values as
 * PostgreSQL's text where Debezium's form would lose something ({@link PostgresTextConverter}),
 * the preflight of {@link CapturePreflight}, schema changes by event trigger
 * ({@link DdlReplication}). Stateless.
 */
public final class PostgresCaptureSource implements CaptureSource {

    private static final EventFields FIELDS = new EventFields("txId", "lsn", "origin");

    @Override
    public Preflight preflight(CaptureConfig config) throws CaptureException {
        CapturePreflight.Result r = CapturePreflight.check(config);
        return new Preflight(r.fullIdentity(), r.keyColumns(), r.heldOut(), r.serverCanFilterOrigins());
    }

    @Override
    public String prepare(CaptureConfig config) throws CaptureException {
        try (Connection c = config.connect()) {
            new PostgresDialect().createBookkeeping(c);
            return DdlReplication.install(c, MirroredTables.configured(config), config.publication(),
                    config.nodeSlot() == null ? -1 : config.nodeSlot(), config.maxMirrors());
        } catch (SQLException e) {
            throw new CaptureException("Cannot create the mirror schema's tables in " + config.dbUrl() + " as user "
                    + config.dbUser() + ": " + e.getMessage() + "; mirror.db.user needs CREATE on the database and"
                    + " ownership of schema mirror: a superuser can run the block"
                    + " org.activemirroring.postgres.MirrorRoleSql prints", e);
        }
    }

    @Override
    public void markFirstStart(Connection c, String nodeId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO mirror.capture_progress (node,"
                + " stamped_commit_us) VALUES (?, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)"
                + " ON CONFLICT (node) DO NOTHING")) {
            ps.setString(1, nodeId);
            ps.executeUpdate();
        }
    }

    /** Leaving the publication also means PostgreSQL never refuses the site's updates of a table without a key. */
    @Override
    public boolean leavePublication(Connection c, CaptureConfig config, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_publication_tables WHERE pubname = ?"
                + " AND schemaname || '.' || tablename = ?")) {
            ps.setString(1, config.publication());
            ps.setString(2, table);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return false;
                }
            }
        }
        int dot = table.indexOf('.');
        try (Statement st = c.createStatement()) {
            DdlReplication.markInternal(st); // each mirror holds its tables out itself
            st.execute("ALTER PUBLICATION " + PostgresDialect.quote(config.publication()) + " DROP TABLE "
                    + PostgresDialect.quote(table.substring(0, dot)) + "." + PostgresDialect.quote(table.substring(dot + 1)));
        }
        return true;
    }

    @Override
    public void addConnectorProperties(Properties p, CaptureConfig config, String nodeId, List<String> schemas,
                                       List<String> excludedTables, boolean filterOrigins) {
        DatabaseAddress db = config.address();
        p.setProperty("connector.class", MirrorPostgresConnector.class.getName());
        p.setProperty("database.hostname", db.host());
        p.setProperty("database.port", Integer.toString(db.port()));
        p.setProperty("database.dbname", db.database());
        p.setProperty("database.user", config.dbUser());
        p.setProperty("database.password", config.dbPassword());
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", config.slotName(nodeId));
        p.setProperty("publication.name", config.publication());
        p.setProperty("publication.autocreate.mode", "filtered");
        List<String> included = new ArrayList<>(schemas.stream().map(PostgresCaptureSource::regex).toList());
        List<String> excluded = new ArrayList<>(excludedTables.stream().map(PostgresCaptureSource::regex).toList());
        // Of the mirror schema, the recorded schema changes are published (they travel with the
        // rows around them, see DdlReplication) and the heartbeat table when heartbeats are on:
        // its rows are the changes that carry capture's position forward while the mirrored
        // tables are quiet (TransactionAssembler drops them). Every other table stays out.
        included.add(regex(PostgresDialect.BOOKKEEPING_SCHEMA));
        excluded.add(regex(PostgresDialect.BOOKKEEPING_SCHEMA + ".") + "(?!"
                + (config.heartbeatIntervalMs() > 0 ? "heartbeat$|" : "") + "ddl$).+");
        p.setProperty("schema.include.list", String.join(",", included));
        p.setProperty("table.exclude.list", String.join(",", excluded));
        // PostgreSQL's own text for every type whose Debezium form would lose something (arrays,
        // bit strings, geometry, composites, extension types, ...): see PostgresTextConverter.
        // Types Debezium does not know reach it as text only with include.unknown.datatypes;
        // without, Debezium leaves such columns out of the event or sends NULL.
        p.setProperty("converters", "pgtext");
        p.setProperty("pgtext.type", PostgresTextConverter.class.getName());
        p.setProperty("include.unknown.datatypes", "true");
        p.setProperty("slot.drop.on.stop", Boolean.toString(config.slotDropOnStop()));
        if (config.heartbeatIntervalMs() > 0) {
            // A quiet mirrored schema must not pin WAL that other tables (or other databases of the
            // server) write: the action query writes a little WAL in this database at each
            // heartbeat, so that there always is a newer position to confirm. The table is in the
            // mirror schema; its rows are read only to move the position.
            p.setProperty("heartbeat.action.query", "INSERT INTO mirror.heartbeat (node, beat_at) VALUES ('"
                    + nodeId.replace("'", "''") + "', now()) ON CONFLICT (node) DO UPDATE SET beat_at = now()");
        }
        if (filterOrigins) {
            // pgoutput (PostgreSQL 16+) then leaves out the applier's transactions before decoding: a
            // receiving mirror no longer decodes every applied row only to drop it. EchoPolicy stays
            // the rule for servers and settings without the filter.
            p.setProperty("slot.stream.params", "origin=none");
        }
    }

    @Override
    public String heartbeatTable() {
        return PostgresDialect.HEARTBEAT_TABLE;
    }

    /** Debezium's PostgreSQL source block: {@code txId}, {@code lsn}, {@code origin} (set by pgoutput). */
    @Override
    public EventFields eventFields() {
        return FIELDS;
    }

    @Override
    public String startFailureHint(String text) {
        if (text.contains("wal_level")) {
            return " Set wal_level=logical in postgresql.conf (or ALTER SYSTEM SET wal_level = logical) and restart"
                    + " PostgreSQL.";
        } else if (text.contains("replication slots") || text.contains("max_replication_slots")) {
            return " Raise max_replication_slots and max_wal_senders in postgresql.conf and restart PostgreSQL.";
        } else if (text.contains("permission denied") || text.contains("must be superuser")
                || text.contains("REPLICATION")) {
            return " Give mirror.db.user the REPLICATION attribute (ALTER ROLE ... REPLICATION) and ownership of"
                    + " the publication's tables: a superuser can run the block org.activemirroring.postgres.MirrorRoleSql"
                    + " prints.";
        }
        return "";
    }

    /** Debezium's include/exclude lists are regular expressions; names are matched literally. */
    private static String regex(String name) {
        return name.replace(".", "\\.");
    }
}
