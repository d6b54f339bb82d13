package org.activemirroring.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.activemirroring.apply.ApplyObserver;
import org.activemirroring.change.ChangeSet;
import org.activemirroring.transport.Envelope;
import org.activemirroring.transport.TransportObserver;

/**
 * Where the time goes between a commit on one mirror and the row being visible on another: the
 * ChangeSet carries its source commit and capture times; the origin's transport reports when it
 * journaled and sent it; the receiver's transport and applier report when it arrived and was
 * committed; the lag probe says when the row became visible. All in epoch microseconds, all in
 * this one process, so the clocks agree.
 */
final class StageBreakdown {
    static final String[] STAGES = {"commit->captured", "captured->journaled", "journaled->sent", "sent->received",
            "received->applied", "applied->visible"};

    private final String origin;
    private final String receiver;
    private final Map<Long, long[]> bySeq = new ConcurrentHashMap<>();
    private final Map<Long, Long> rowIdBySeq = new ConcurrentHashMap<>();

    StageBreakdown(String origin, String receiver) {
        this.origin = origin;
        this.receiver = receiver;
    }

    private long[] times(long seq) {
        // commit, captured, journaled, sent, received, applied
        return bySeq.computeIfAbsent(seq, s -> new long[6]);
    }

    /** Observer for the origin mirror's transport. */
    TransportObserver atOrigin() {
        return new TransportObserver() {
            @Override
            public void journaled(Envelope e, long micros) {
                times(e.seq())[2] = micros;
            }

            @Override
            public void sent(Envelope e, long micros) {
                times(e.seq())[3] = micros;
            }
        };
    }

    /** Observer for the receiving mirror's transport. */
    TransportObserver atReceiver() {
        return new TransportObserver() {
            @Override
            public void received(Envelope e, long micros) {
                if (e.origin().equals(origin)) {
                    long[] t = times(e.seq());
                    if (t[4] == 0) {
                        t[4] = micros;
                    }
                }
            }
        };
    }

    /** Observer for the receiving mirror's applier. */
    ApplyObserver applied() {
        return (ChangeSet cs, long micros) -> {
            if (!cs.origin().equals(origin) || cs.rows().size() != 1
                    || !cs.rows().get(0).table().endsWith("bench_lag")) {
                return;
            }
            long[] t = times(cs.seq());
            t[0] = cs.commitTimeMicros();
            t[1] = cs.captureTimeMicros();
            t[5] = micros;
            rowIdBySeq.put(cs.seq(), Long.parseLong(cs.rows().get(0).key().get("id")));
        };
    }

    /** Per stage p50/p99 over the rows of one probe run (rows outside it are ignored). */
    List<String> report(LagProbe.Result run) {
        List<long[]> deltas = new ArrayList<>();
        for (int s = 0; s < STAGES.length; s++) {
            deltas.add(new long[bySeq.size()]);
        }
        int n = 0;
        for (Map.Entry<Long, Long> row : rowIdBySeq.entrySet()) {
            long visible = run.seenAt(row.getValue());
            long[] t = bySeq.get(row.getKey());
            if (visible == 0 || t == null || anyZero(t)) {
                continue;
            }
            long[] all = {t[0], t[1], t[2], t[3], t[4], t[5], visible};
            for (int s = 0; s < STAGES.length; s++) {
                deltas.get(s)[n] = Math.max(0, all[s + 1] - all[s]) * 1_000L;
            }
            n++;
        }
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "  stage breakdown %s -> %s over %d ChangeSets (ms):", origin, receiver, n));
        for (int s = 0; s < STAGES.length; s++) {
            LatencyStats st = new LatencyStats(java.util.Arrays.copyOf(deltas.get(s), n));
            lines.add(String.format(Locale.ROOT, "    %-20s p50=%7.3f p90=%7.3f p99=%7.3f", STAGES[s],
                    st.percentileMs(50), st.percentileMs(90), st.percentileMs(99)));
        }
        return lines;
    }

    private static boolean anyZero(long[] t) {
        for (long v : t) {
            if (v == 0) {
                return true;
            }
        }
        return false;
    }
}
