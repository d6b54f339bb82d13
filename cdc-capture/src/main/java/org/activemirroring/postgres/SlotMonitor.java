package org.activemirroring.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import org.activemirroring.capture.CaptureConfig;

/**
 * Reads how much write-ahead log this mirror's replication slot holds back on the database
 * server: WAL the server must keep until capture confirms it. It grows when capture is stopped or
 * behind; left alone it fills the database server's disk. Short-lived connections, thread-safe.
 */
public final class SlotMonitor {

    /**
     * @param slot          the slot's name
     * @param active        whether a capture connection is reading from it now
     * @param retainedBytes WAL between the slot's restart position and the server's current
     *                      position; -1 if the slot does not exist
     * @param warning       what to do, when retained bytes pass the configured threshold or the
     *                      slot is missing; null otherwise
     */
    public record SlotStatus(String slot, boolean active, long retainedBytes, String warning) {
    }

    private final CaptureConfig config;
    private final String slot;

    public SlotMonitor(CaptureConfig config, String nodeId) {
        this.config = config;
        this.slot = config.slotName(nodeId);
    }

    public SlotStatus status() throws SQLException {
        try (Connection c = config.connect(CaptureConfig.STATUS_TIMEOUTS);
             PreparedStatement ps = c.prepareStatement("SELECT active, "
                     + "pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots "
                     + "WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new SlotStatus(slot, false, -1, "replication slot " + slot + " does not exist: capture has"
                            + " not started, or the slot was dropped and changes made meanwhile were not captured");
                }
                long retained = rs.getLong(2);
                String warning = retained > config.slotWarnBytes()
                        ? "replication slot " + slot + " holds back " + retained + " bytes of WAL (more than "
                        + CaptureConfig.SLOT_WARN_BYTES.key() + "=" + config.slotWarnBytes() + "): capture is behind or"
                        + " stopped; if this mirror is gone for good, drop the slot (SELECT pg_drop_replication_slot('"
                        + slot + "')) before the database server's disk fills up"
                        : null;
                return new SlotStatus(slot, rs.getBoolean(1), retained, warning);
            }
        }
    }

    /**
     * Waits until capture has confirmed every change written to the database until now (the
     * slot's confirmed position reaches the server's current WAL position; capture's heartbeats
     * move it when the mirrored tables are quiet). False when {@code timeoutMs} passed first or
     * there is no slot.
     */
    public boolean awaitCaughtUp(long timeoutMs) throws SQLException, InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        try (Connection c = config.connect(CaptureConfig.STATUS_TIMEOUTS)) {
            String target;
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_current_wal_lsn()::text");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                target = rs.getString(1);
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT confirmed_flush_lsn >= ?::pg_lsn FROM pg_replication_slots "
                    + "WHERE slot_name = ?")) {
                ps.setString(1, target);
                ps.setString(2, slot);
                while (System.currentTimeMillis() < deadline) {
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            return false;
                        }
                        if (rs.getBoolean(1)) {
                            return true;
                        }
                    }
                    Thread.sleep(200);
                }
            }
        }
        return false;
    }
}
