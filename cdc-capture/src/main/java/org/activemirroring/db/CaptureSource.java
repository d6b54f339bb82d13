package org.activemirroring.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import org.activemirroring.capture.CaptureConfig;
import org.activemirroring.capture.CaptureException;

/**
 * What capture needs from a database (PostgreSQL's is
 * {@code org.activemirroring.postgres.PostgresCaptureSource}): the settings of its Debezium
 * connector, the check before capture starts, the bookkeeping and schema-change capture it relies
 * on, and taking a held-out table out of what the server sends. The Debezium engine, its records
 * and their assembly into ChangeSets stay in {@code org.activemirroring.capture}: Debezium is the
 * capture technology for every database, only its connector differs. Implementations are
 * stateless and thread-safe.
 */
public interface CaptureSource {

    /**
     * What capture needs to know about the database before it starts.
     *
     * @param fullIdentity        tables ({@code schema.table}) whose change events carry a real
     *                            before-image of every column
     * @param keyColumns          per table identified by a unique index instead of a primary key,
     *                            that index's columns in index order
     * @param heldOut             tables that cannot be mirrored, with why (see
     *                            {@link org.activemirroring.schema.MirroredTables#heldOut})
     * @param serverFiltersOrigins whether the server can leave out the applier's transactions
     *                            before they are decoded
     */
    record Preflight(Set<String> fullIdentity, Map<String, List<String>> keyColumns, Map<String, String> heldOut,
                     boolean serverFiltersOrigins) {
    }

    /**
     * Checks the database before the connector touches it (version, privileges, tables without a
     * usable key) and prepares what capture needs of the site's tables.
     *
     * @throws CaptureException saying what to do, when capture cannot run on this database
     */
    Preflight preflight(CaptureConfig config) throws CaptureException;

    /**
     * Creates the bookkeeping tables capture uses and installs schema-change capture.
     *
     * @return a warning to log (schema changes not captured, say), or null
     * @throws CaptureException saying which privilege is missing
     */
    String prepare(CaptureConfig config) throws CaptureException;

    /**
     * Records, on {@code nodeId}'s very first capture start only, that everything committed so far
     * counts as stamped (it was written before capture existed and will never be captured).
     */
    void markFirstStart(Connection c, String nodeId) throws SQLException;

    /**
     * Takes a held-out table out of what the server sends to capture, if it is in it, so that its
     * changes are no longer decoded.
     *
     * @param table {@code schema.table}
     * @return whether it was in and was taken out
     */
    boolean leavePublication(Connection c, CaptureConfig config, String table) throws SQLException;

    /**
     * Adds the connector's database-specific settings to {@code p}: connector class, where the
     * database is and as whom, replication slot or its equivalent, which tables are read (the
     * mirrored ones and those of the bookkeeping that travel with them), value converters, the
     * heartbeat's action and origin filtering.
     *
     * @param schemas        the schemas whose tables are mirrored
     * @param excludedTables {@code schema.table} of the tables of those schemas that are not read
     * @param filterOrigins  whether the server is to leave out the applier's transactions
     */
    void addConnectorProperties(Properties p, CaptureConfig config, String nodeId, List<String> schemas,
                                List<String> excludedTables, boolean filterOrigins);

    /** The bookkeeping table ({@code schema.table}) whose changes only carry capture's position forward. */
    String heartbeatTable();

    /**
     * The names of the fields of the connector's {@code source} block that capture reads.
     *
     * @param txId   the source transaction's id (an int64), by which events are grouped
     * @param lsn    the event's position in the database log (an int64), or null when the connector has none
     * @param origin the writer's replication origin (a string), or null when the connector reports none:
     *               then {@link org.activemirroring.capture.EchoPolicy} never sees an echo
     */
    record EventFields(String txId, String lsn, String origin) {
    }

    /** Where this database's connector puts what capture reads in an event. */
    EventFields eventFields();

    /**
     * What to do about a failed start whose reasons read {@code failure}, as one or more
     * sentences, or "" when there is no advice.
     */
    String startFailureHint(String failure);
}
