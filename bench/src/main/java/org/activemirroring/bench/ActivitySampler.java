package org.activemirroring.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;

import org.activemirroring.testsupport.PgServer;

/**
 * Where a copy between two databases spends its time, seen from the databases: every
 * {@link #INTERVAL_MS} it reads {@code pg_stat_activity} on the source and on the target and
 * counts what their client sessions are doing (the source's {@code COPY ... TO STDOUT}, the
 * target's {@code COPY ... FROM STDIN}, index and constraint builds, anything else), with the
 * wait event. Used for both the join and {@code pg_dump | psql}, so both are profiled alike.
 * Samples cost one small catalog query per server; the sampling sessions leave themselves out.
 */
final class ActivitySampler implements AutoCloseable {
    static final long INTERVAL_MS = 100;

    private final PgServer source;
    private final PgServer target;
    private final Thread thread;
    /** What both sides did at once, per sample. */
    private final Map<String, Integer> phases = new TreeMap<>();
    /** Per side, each active statement (its start) and wait event. */
    private final Map<String, Integer> statements = new TreeMap<>();
    private volatile boolean stop;
    private volatile Exception failure;
    private int samples;

    private ActivitySampler(PgServer source, PgServer target) {
        this.source = source;
        this.target = target;
        this.thread = new Thread(this::loop, "bench-activity-sampler");
        this.thread.setDaemon(true);
    }

    static ActivitySampler start(PgServer source, PgServer target) {
        ActivitySampler s = new ActivitySampler(source, target);
        s.thread.start();
        return s;
    }

    private void loop() {
        String sql = "SELECT state, coalesce(wait_event_type || ':' || wait_event, 'CPU'), left(query, 200)"
                + " FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
                + " AND datname = current_database() AND state = 'active'";
        try (Connection src = source.connect(); Connection dst = target.connect();
             PreparedStatement ps = src.prepareStatement(sql); PreparedStatement pd = dst.prepareStatement(sql)) {
            long next = System.nanoTime();
            while (!stop) {
                List<String[]> a = read(ps);
                List<String[]> b = read(pd);
                record(a, b);
                next += INTERVAL_MS * 1_000_000L;
                LockSupport.parkNanos(Math.max(0, next - System.nanoTime()));
            }
        } catch (SQLException | RuntimeException e) {
            failure = e;
        }
    }

    private static List<String[]> read(PreparedStatement ps) throws SQLException {
        List<String[]> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new String[] {rs.getString(2), rs.getString(3)});
            }
        }
        return out;
    }

    private synchronized void record(List<String[]> src, List<String[]> dst) {
        samples++;
        boolean copyOut = false;
        for (String[] r : src) {
            String kind = kind(r[1]);
            copyOut |= kind.equals("COPY out");
            statements.merge("source " + kind + " [" + r[0] + "]", 1, Integer::sum);
        }
        String target = null;
        for (String[] r : dst) {
            String kind = kind(r[1]);
            statements.merge("target " + kind + " [" + r[0] + "]", 1, Integer::sum);
            if (target == null || kind.equals("COPY in")) {
                target = kind;
            }
        }
        String phase;
        if (target != null && !target.equals("COPY in")) {
            phase = "target " + target;
        } else if (target != null) {
            phase = copyOut ? "source COPY out + target COPY in" : "target COPY in only";
        } else {
            phase = copyOut ? "source COPY out only" : "neither database busy";
        }
        phases.merge(phase, 1, Integer::sum);
    }

    /** A statement's kind, from its text: copies, index and constraint builds by table, else its first words. */
    static String kind(String query) {
        String q = query.strip().replaceAll("\\s+", " ");
        String upper = q.toUpperCase(Locale.ROOT);
        if (upper.startsWith("COPY") && upper.contains("TO STDOUT")) {
            return "COPY out";
        }
        if (upper.startsWith("COPY") && upper.contains("FROM STDIN")) {
            return "COPY in";
        }
        if (upper.startsWith("CREATE") && upper.contains("INDEX")) {
            return "CREATE INDEX " + q.substring(upper.indexOf(" ON ") + 1, Math.min(q.length(), upper.indexOf(" ON ") + 40));
        }
        if (upper.startsWith("ALTER TABLE")) {
            if (upper.contains("VALIDATE CONSTRAINT")) {
                return "VALIDATE CONSTRAINT " + lastWord(q);
            }
            if (upper.contains("PRIMARY KEY")) {
                return "ADD PRIMARY KEY " + tableOf(q);
            }
            if (upper.contains("FOREIGN KEY")) {
                return "ADD FOREIGN KEY " + tableOf(q) + (upper.contains("NOT VALID") ? " NOT VALID" : "");
            }
            if (upper.contains("UNIQUE")) {
                return "ADD UNIQUE " + tableOf(q);
            }
            return "ALTER TABLE " + tableOf(q);
        }
        return q.length() > 50 ? q.substring(0, 50) + "..." : q;
    }

    private static String tableOf(String q) {
        String[] w = q.split(" ");
        int i = 2;
        if (w.length > 3 && w[2].equalsIgnoreCase("ONLY")) {
            i = 3;
        }
        return w.length > i ? w[i] : "?";
    }

    private static String lastWord(String q) {
        String[] w = q.split(" ");
        return w[w.length - 1].replace(";", "");
    }

    /** Stops sampling and returns the profile: seconds per phase and per statement kind. */
    Map<String, Object> finish() throws InterruptedException {
        stop = true;
        thread.join(5_000);
        if (failure != null) {
            throw new IllegalStateException("sampling pg_stat_activity failed: " + failure.getMessage(), failure);
        }
        synchronized (this) {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("samples", samples);
            out.put("interval_ms", INTERVAL_MS);
            out.put("phases_s", seconds(phases));
            out.put("statements_s", seconds(statements));
            return out;
        }
    }

    private static Map<String, Double> seconds(Map<String, Integer> counts) {
        Map<String, Double> out = new LinkedHashMap<>();
        counts.entrySet().stream().sorted((x, y) -> Integer.compare(y.getValue(), x.getValue()))
                .forEach(e -> out.put(e.getKey(), e.getValue() * INTERVAL_MS / 1000.0));
        return out;
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(5_000);
    }
}
