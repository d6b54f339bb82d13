package org.activemirroring.mirror;

import java.util.List;
import java.util.Map;

import org.activemirroring.apply.ApplierStats;
import org.activemirroring.capture.CaptureStats;
import org.activemirroring.files.sync.FileSyncStatus;
import org.activemirroring.postgres.SlotMonitor;
import org.activemirroring.sequences.SequenceStats;
import org.activemirroring.transport.DeliveryStatus;

/**
 * What {@code /_mirror/status} shows: who this mirror is, who it sees, and how far it has applied
 * each other mirror's changes.
 *
 * @param nodeId     this mirror
 * @param ready      whether the filter lets traffic through
 * @param members    reachable mirrors, this one included, sorted
 * @param origins    per other mirror: what arrived and what is applied
 * @param originated ChangeSets this mirror captured and published since start
 * @param journalHead highest sequence number of this mirror's own journal
 * @param capture    capture counters: published, echoes dropped, replays skipped
 * @param apply      applier counters: applied, duplicates, failed attempts
 * @param delivery   whether other mirrors' changes reach the applier: {@code running}, how often
 *                   delivery restarted itself after an unexpected error ({@code restarts}), the last
 *                   such error ({@code lastError}, {@code lastErrorAt}; kept after it runs again, so a
 *                   flapping delivery shows), since when it is down ({@code downSince}, null while it
 *                   runs) and its next restart; null while the node starts
 * @param sequences  key allocation: sequences kept interleaved, corrections (each after a reset), the last one
 * @param conflicts  the conflict log: writes that lost under the conflict rule
 * @param slot       the replication slot: WAL it holds back on the database server, with a warning
 *                   past {@code mirror.capture.slot.warn-bytes}; null if the database could not be asked
 * @param validatingForeignKeys whether the foreign keys a join added {@code NOT VALID} are still
 *                   being validated (enforced on new writes meanwhile)
 * @param dataOrigin where this mirror's data came from (joined from which mirror, or why it started
 *                   from its own database), with a warning when that may leave it different from
 *                   the network; null while it starts
 * @param degraded   what this mirror serves without although it is ready: changes of another
 *                   mirror held back since when and why (it serves the site, but differs from
 *                   that mirror meanwhile); null when nothing is held
 * @param heldOut    tables of the mirrored schemas that cannot be mirrored (no key, or a column
 *                   type capture cannot carry), with why and what to do: they keep whatever each
 *                   mirror's site writes; empty when none
 * @param files      the replicated folders: files, versions wanted from other mirrors, transfer
 *                   counters and refused changes per reason; null while the node starts
 * @param problem    why the node is not ready, or null
 */
public record NodeStatus(String nodeId, boolean ready, List<String> members, Map<String, OriginStatus> origins,
                         long originated, long journalHead, CaptureStats capture, ApplierStats apply,
                         DeliveryStatus delivery, SequenceStats sequences, ConflictStatus conflicts,
                         SlotMonitor.SlotStatus slot, boolean validatingForeignKeys, MirrorNode.DataOrigin dataOrigin,
                         String degraded, Map<String, String> heldOut, FileSyncStatus files, String problem) {

    /** The status of a mirror whose node is not running yet; {@code problem} says why. */
    static NodeStatus starting(String nodeId, String problem) {
        return new NodeStatus(nodeId, false, List.of(), Map.of(), 0, 0, null, null, null, null, null, null, false, null,
                null, Map.of(), null, problem);
    }

    /**
     * @param logged      entries in this mirror's conflict log ({@code /_mirror/conflicts}); -1 if
     *                    the database could not be asked
     * @param sinceStart  writes the applier sent to the log since this node started
     * @param raceRepairs local writes restored after an applied change crossed them before capture
     */
    public record ConflictStatus(long logged, long sinceStart, long raceRepairs) {
    }

    /**
     * @param received highest sequence number of that origin held in this mirror's journal
     * @param applied  highest sequence number applied to this mirror's database
     * @param lag      received but not yet applied ChangeSets
     */
    public record OriginStatus(long received, long applied, long lag) {
    }
}
