package org.activemirroring.mirror.siteapi;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.activemirroring.site.LostWrite;
import org.activemirroring.versions.Conflict;
import org.activemirroring.versions.LostWriteLog;

/** The lost writes of this mirror's site as the conflict log in the site database holds them. */
final class ConflictLogSource implements LostWriteDelivery.Source {
    private final LostWriteLog log;

    ConflictLogSource(LostWriteLog log) {
        this.log = log;
    }

    @Override
    public List<LostWrite> unacknowledged(int limit) throws Exception {
        List<LostWrite> out = new ArrayList<>();
        for (Conflict k : log.unacknowledged(limit)) {
            out.add(lostWrite(k));
        }
        return out;
    }

    @Override
    public void acknowledge(long conflictId) throws Exception {
        log.acknowledge(conflictId);
    }

    /** The site's view of a conflict-log entry whose loser this mirror wrote. */
    static LostWrite lostWrite(Conflict k) {
        return new LostWrite(k.id(), k.detectedAt(), k.kind().name().toLowerCase(Locale.ROOT), k.table(), k.key(),
                "d".equals(k.loserOp()) ? null : k.loserRow(), k.winnerRow(), k.winner().origin());
    }
}
