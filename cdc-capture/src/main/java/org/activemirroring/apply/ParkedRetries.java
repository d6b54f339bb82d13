package org.activemirroring.apply;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.change.ChangeSetCodec;
import org.activemirroring.versions.Conflict;

/**
 * Brings parked changes ({@link ParkedChanges}) back: retries them, oldest first, when they may
 * go now (a schema change was applied, a few seconds passed, the operator asks), discards one on
 * the operator's request, and keeps what status shows of them. The applier parks; this class is
 * called under the applier's lock, with no group open.
 */
final class ParkedRetries {
    private static final Logger LOG = LoggerFactory.getLogger(ParkedRetries.class);

    /** What a retry needs from the applier. */
    interface Host {
        /** The applier's connection (opened if needed), its transaction empty. */
        Connection connection() throws SQLException;

        /** Applies a parked ChangeSet in the open transaction without recording its seq again. */
        void replay(Connection c, ChangeSet cs, List<Conflict> lost) throws SQLException;

        /** The transaction that applied a parked change committed, with {@code lost} conflicts logged. */
        void committed(int lost);

        /** Rolls back and forgets what the open transaction held. */
        void abandon(Connection c);

        /** As {@link #abandon} on the connection open now, if any (none is opened for it). */
        void abandonCurrent();

        /** A failure as the transport expects it (retriable or not, connection reset if broken). */
        ApplyException failure(String what, Exception e);
    }

    private final ParkedChanges parked;
    private final ChangeSetCodec codec;
    /** A schema change was applied since parked changes were last retried. */
    private volatile boolean schemaChanged;
    private long lastRetryNanos;
    private boolean tried;
    private volatile long parkedSinceStart;
    /** What status shows: as of the last park or retry pass. */
    private volatile ParkedChanges.Summary summary = ParkedChanges.Summary.NONE;

    ParkedRetries(ParkedChanges parked, ChangeSetCodec codec) {
        this.parked = parked;
        this.codec = codec;
    }

    /** A schema change was applied here: what waits for a table or column may go now. */
    void schemaChanged() {
        schemaChanged = true;
    }

    /** Whether an automatic retry is due: never tried, a schema change arrived, or {@code everyMillis} passed. */
    boolean due(long everyMillis) {
        return !tried || schemaChanged || System.nanoTime() - lastRetryNanos >= everyMillis * 1_000_000L;
    }

    long parkedSinceStart() {
        return parkedSinceStart;
    }

    ParkedChanges.Summary summary() {
        return summary;
    }

    /** Counts and logs a change just parked (its transaction committed or will with the group). */
    void noteParked(String origin, long seq, List<String> tables, ParkedChanges.Reason reason, String error) {
        parkedSinceStart++;
        summary = summary.plus(origin, seq, tables, reason, error);
        if (reason == ParkedChanges.Reason.BEHIND) {
            LOG.info("Parked {}#{} ({}): it {}", origin, seq, String.join(", ", tables), error);
        } else {
            LOG.warn("Parked {}#{} ({}), {}: {}. Changes of the same tables wait behind it, everything else goes on;"
                    + " {}", origin, seq, String.join(", ", tables), reason == ParkedChanges.Reason.SCHEMA
                    ? "waiting for a table or column this mirror does not have yet" : "it cannot be applied", error,
                    reason == ParkedChanges.Reason.SCHEMA ? "it is applied once the schema change arrives"
                            : "retry or discard it with POST /_mirror/parked/retry or /_mirror/parked/discard");
        }
    }

    /**
     * Applies parked changes again, oldest first; one that touches a table of an earlier change
     * still parked stays behind it. Each goes in its own transaction and leaves the park when it
     * applied; one that fails again stays, with the new error.
     *
     * @param includeErrors every change that failed for good (the operator asks); otherwise those
     *                      only with backoff (the operator may have fixed the cause, e.g. added a
     *                      function a schema change needs), and every one waiting for a schema or
     *                      behind another
     * @param onlyId        with {@code includeErrors}, the one failed change to try (null: all)
     * @return how many were applied
     */
    int retry(Host host, boolean includeErrors, Long onlyId) throws ApplyException {
        schemaChanged = false;
        tried = true;
        lastRetryNanos = System.nanoTime();
        Connection c;
        List<ParkedChanges.Stored> list;
        try {
            c = host.connection();
            parked.markStale(); // read it again: one cheap query every few seconds
            list = parked.count(c) == 0 ? List.of() : parked.list(c);
            c.commit();
        } catch (SQLException e) {
            throw abandoned(host, "Cannot read mirror.parked", e);
        }
        if (list.isEmpty()) {
            summary = ParkedChanges.Summary.NONE;
            return 0;
        }
        Set<String> blockedTables = new HashSet<>();
        Set<String> blockedOrigins = new HashSet<>();
        List<ParkedChanges.Parked> left = new ArrayList<>();
        for (ParkedChanges.Stored s : list) {
            ParkedChanges.Parked e = s.entry();
            boolean blocked = blockedOrigins.contains(e.origin())
                    || e.tables().stream().anyMatch(blockedTables::contains);
            boolean error = ParkedChanges.Reason.ERROR.code().equals(e.reason());
            boolean mayTry = !error || (includeErrors ? onlyId == null || onlyId == e.id() : e.retryDue(Instant.now()));
            if (blocked || !mayTry) {
                block(e, blockedTables, blockedOrigins);
                left.add(e);
                continue;
            }
            List<Conflict> lost = new ArrayList<>();
            try {
                ChangeSet cs = codec.decode(s.payload(), e.origin(), e.seq());
                host.replay(c, cs, lost);
                parked.delete(c, e.id());
                c.commit();
                host.committed(lost.size());
                LOG.info("Applied parked {}#{} ({}) after {} attempt(s)", e.origin(), e.seq(),
                        String.join(", ", e.tables()), e.attempts());
            } catch (SQLException | RuntimeException ex) {
                host.abandon(c);
                if (ChangeSetApplier.isRetriable(ex)) {
                    throw host.failure("Cannot apply parked " + e.origin() + "#" + e.seq() + " now", ex);
                }
                try {
                    c = host.connection();
                    parked.retried(c, e.id(), ParkedChanges.reasonFor(ex), ex.getMessage(),
                            ParkedChanges.sqlStateOf(ex));
                    c.commit();
                } catch (SQLException ex2) {
                    throw abandoned(host, "Cannot record a failed retry in mirror.parked", ex2);
                }
                block(e, blockedTables, blockedOrigins);
                left.add(e);
            }
        }
        summary = ParkedChanges.Summary.of(left); // deletes marked the table index stale already
        return list.size() - left.size();
    }

    /**
     * Drops a parked change on the operator's request: this mirror will never have it (logged
     * at WARN with what it held). What waited behind it is tried again at once.
     *
     * @return false if no parked change has that id
     */
    boolean discard(Host host, long id) throws ApplyException {
        ParkedChanges.Parked gone = null;
        try {
            Connection c = host.connection();
            for (ParkedChanges.Parked p : ParkedChanges.entries(c, Integer.MAX_VALUE)) {
                if (p.id() == id) {
                    gone = p;
                }
            }
            boolean deleted = gone != null && parked.delete(c, id);
            c.commit();
            if (!deleted) {
                return false;
            }
        } catch (SQLException e) {
            throw abandoned(host, "Cannot discard parked change " + id, e);
        }
        LOG.warn("Discarded parked {}#{} ({} row change(s) of {}) on the operator's request; this mirror will not"
                + " have that change. Its last error: {}", gone.origin(), gone.seq(), gone.rows(),
                String.join(", ", gone.tables()), gone.error());
        retry(host, false, null);
        return true;
    }

    private static ApplyException abandoned(Host host, String what, SQLException e) {
        host.abandonCurrent();
        return host.failure(what, e);
    }

    private static void block(ParkedChanges.Parked e, Set<String> tables, Set<String> origins) {
        for (String t : e.tables()) {
            if (ParkedChanges.ALL_TABLES.equals(t)) {
                origins.add(e.origin());
            } else {
                tables.add(t);
            }
        }
    }
}
