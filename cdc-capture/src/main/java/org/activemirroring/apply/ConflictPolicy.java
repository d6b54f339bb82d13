package org.activemirroring.apply;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.activemirroring.capture.EchoPolicy;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.HybridClock;
import org.activemirroring.change.RowChange;
import org.activemirroring.change.RowVersion;
import org.activemirroring.db.DbSession;
import org.activemirroring.db.RowJson;
import org.activemirroring.db.StoredVersion;
import org.activemirroring.db.VersionStore;
import org.activemirroring.versions.Conflict;

/**
 * The conflict rule, in one place (beside {@link EchoPolicy}, like MirrorMaker 2's policies):
 * whether a peer's row change takes effect here, and what goes to the conflict log.
 *
 * <p>A row change takes effect only if its ChangeSet's version (hybrid clock, origin) is newer
 * than the row's stored version, or than the table's truncate if that is newer; an older one goes
 * to the conflict log instead, as does a current row that a newer change replaces without having
 * seen it (a concurrent write). A row holding a local write that capture has not stamped yet is
 * newer than anything applied now (the clock has witnessed it): the incoming change loses at once.
 * Every mirror decides alike, so all end with the same winner.
 */
final class ConflictPolicy {
    private final VersionStore versions;
    private final HybridClock clock;
    private final String nodeId;
    private final DbSession session;

    ConflictPolicy(VersionStore versions, HybridClock clock, String nodeId, DbSession session) {
        this.versions = versions;
        this.clock = clock;
        this.nodeId = nodeId;
        this.session = session;
    }

    /**
     * Decides each row of {@code cs} under the conflict rule against the stored versions and row
     * states: the winning rows go to {@code winners} (with their key texts to
     * {@code winnerKeys}), what lost to {@code lost}.
     *
     * @param tracksCommitTimestamps whether {@code rowStates} tell unstamped local writes (else
     *                               the current row is read where a concurrent write is replaced)
     * @param replayed               the ChangeSet may already be in the rows a join copied: an
     *                               older change is then skipped without a conflict entry
     */
    void decide(Connection c, ChangeSet cs, List<RowChange> rows, String[] keyTexts,
                Map<String, Map<String, StoredVersion>> stored,
                Map<String, VersionStore.RowState> rowStates, boolean tracksCommitTimestamps,
                boolean replayed, List<Conflict> lost, List<RowChange> winners, List<String> winnerKeys)
            throws SQLException {
        RowVersion incoming = cs.version();
        Instant now = Instant.now();
        Map<String, Boolean> decided = new HashMap<>(); // table + key -> won, for keys repeated in the chunk
        for (int i = 0; i < rows.size(); i++) {
            RowChange row = rows.get(i);
            String id = row.table() + '\0' + keyTexts[i];
            Boolean won = decided.get(id);
            if (won == null) {
                StoredVersion sv = stored.get(row.table()).get(keyTexts[i]);
                // A truncate of the table newer than the row's version stands for it (TableTruncation).
                RowVersion current = versions.truncations().atLeast(c, row.table(),
                        sv == null ? RowVersion.NONE : sv.version());
                VersionStore.RowState state = rowStates.get(id);
                if (current.equals(incoming)) {
                    won = true; // an earlier chunk of this same ChangeSet wrote it
                } else if (state != null && state.uncapturedLocal()) {
                    // The row holds a local write capture has not stamped yet. Capture stamps it
                    // after this change (the clock has witnessed this one), so it is the newer
                    // write on every mirror: this change loses here at once rather than
                    // overwriting it (and leaving capture a race to repair).
                    won = false;
                    lost.add(new Conflict(0, now, Conflict.Kind.UPDATE, row.table(), row.key(), incoming,
                            row.op().code(), RowJson.imageJson(row.after()),
                            new RowVersion(clock.current(), nodeId), state.json(), cs.seq()));
                } else if (incoming.isNewerThan(current)) {
                    won = true;
                    boolean succession = row.prev() != null && row.prev().equals(current);
                    boolean bothDeletes = sv != null && sv.deleted() && row.op() == RowChange.Op.DELETE;
                    if (sv != null && !succession && !bothDeletes) {
                        String was;
                        boolean log;
                        if (tracksCommitTimestamps) {
                            was = state == null ? null : state.json();
                            log = true;
                        } else {
                            // Without commit timestamps a row holding an unstamped local write is
                            // not recognised here: capture repairs that race and logs what lost.
                            VersionStore.CurrentRow r = versions.currentRow(c, session.shape(c, row.table()), row.key());
                            was = r == null ? null : r.json();
                            log = holdsStoredWrite(sv, r);
                        }
                        if (log) {
                            // A concurrent write is replaced: keep what it wrote.
                            lost.add(new Conflict(0, now, Conflict.Kind.UPDATE, row.table(), row.key(), current,
                                    sv.deleted() ? "d" : "u", was, incoming,
                                    RowJson.imageJson(row.after()), 0));
                        }
                    }
                } else {
                    won = false;
                }
                decided.put(id, won);
                if (!won && !(state != null && state.uncapturedLocal()) && !replayed) {
                    String kept = state != null ? state.json() : null;
                    if (!tracksCommitTimestamps) {
                        VersionStore.CurrentRow r = versions.currentRow(c, session.shape(c, row.table()), row.key());
                        kept = r == null ? null : r.json();
                    }
                    lost.add(new Conflict(0, now, Conflict.Kind.UPDATE, row.table(), row.key(), incoming,
                            row.op().code(), RowJson.imageJson(row.after()),
                            sv == null ? RowVersion.NONE : sv.version(), kept, cs.seq()));
                }
            } else if (!won && !replayed) {
                // The same key again in this chunk after it lost: this write loses as well.
                StoredVersion sv = stored.get(row.table()).get(keyTexts[i]);
                VersionStore.RowState state = rowStates.get(id);
                lost.add(new Conflict(0, now, Conflict.Kind.UPDATE, row.table(), row.key(), incoming,
                        row.op().code(), RowJson.imageJson(row.after()),
                        sv == null ? RowVersion.NONE : sv.version(), state == null ? null : state.json(), cs.seq()));
            }
            if (won) {
                winners.add(row);
                winnerKeys.add(keyTexts[i]);
            }
        }
    }

    /**
     * Whether the row as it is ({@code was}, null if absent) is what the stored version's write
     * left, rather than a later local write that capture has not stamped yet. The stored write
     * left the row's xmin: the applier's (sub)transaction ({@code writer_xid}), the local
     * transaction itself ({@code source_tx}) or capture's race repair ({@code writer_xid}).
     */
    static boolean holdsStoredWrite(StoredVersion sv, VersionStore.CurrentRow was) {
        if (was == null || sv.deleted()) {
            return (was == null) == sv.deleted();
        }
        long xmin = was.xmin();
        return xmin == sv.writerXid() || xmin == (sv.sourceTx() & 0xFFFF_FFFFL);
    }



    /**
     * Per origin, up to which of its sequence numbers every mirror in {@code mirrors} has applied
     * its changes: its tombstones up to there can go, since no mirror can still send a change
     * older than them. Origins not yet applied everywhere are absent.
     *
     * @param self      this mirror's id
     * @param appliedHere this mirror's applied vector
     * @param reported  per other mirror, the applied vector it reported with its newest ChangeSet
     */
    static Map<String, Long> tombstonesPurgeableUpTo(Set<String> origins, Collection<String> mirrors, String self,
                                               Map<String, Long> appliedHere,
                                               Map<String, Map<String, Long>> reported) {
        Map<String, Long> out = new TreeMap<>();
        for (String origin : origins) {
            long upTo = Long.MAX_VALUE;
            for (String m : mirrors) {
                long has;
                if (m.equals(origin)) {
                    continue; // the origin has its own changes
                } else if (m.equals(self)) {
                    has = appliedHere.getOrDefault(origin, 0L);
                } else {
                    Map<String, Long> r = reported.get(m);
                    has = r == null ? 0 : r.getOrDefault(origin, 0L);
                }
                upTo = Math.min(upTo, has);
            }
            if (upTo > 0 && upTo < Long.MAX_VALUE) {
                out.put(origin, upTo);
            }
        }
        return out;
    }
}
