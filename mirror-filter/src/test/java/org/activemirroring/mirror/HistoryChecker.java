package org.activemirroring.mirror;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.activemirroring.testsupport.PgServer;

/**
 * The history of a register workload and the "nothing lost silently" check over it (DESIGN.md,
 * consistency contract points 1, 2 and 6), in the style of a Jepsen checker.
 *
 * <p>Each committed write records the value it overwrote, read under a row lock in the same
 * transaction. At the end, for every key with final value {@code f}, each written token must be
 * {@code f}, or have been overwritten in sequence by another committed write (it was its
 * observed previous value), or appear as a loser in some mirror's {@code mirror.conflict}.
 * Anything else was lost silently. Conversely each final value must be a token that was written
 * and not logged as a loser, and each overwritten value must have been written to that key.
 */
final class HistoryChecker {
    enum Op { UPDATE, INSERT, REINSERT, DELETE }

    /**
     * One committed write.
     *
     * @param token the value written to {@code v}; null for a delete
     * @param prev  the value overwritten (or deleted), read under the row lock; null if the row was absent
     */
    record Write(String mirror, String token, int key, Op op, String prev, long nanos) {
    }

    private final ConcurrentLinkedQueue<Write> writes = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Map.Entry<Integer, String>> indeterminate = new ConcurrentLinkedQueue<>();

    void committed(Write w) {
        writes.add(w);
    }

    /** A write whose commit failed: it may or may not have taken effect. */
    void indeterminate(int key, String token) {
        indeterminate.add(Map.entry(key, token));
    }

    List<Write> writes() {
        return List.copyOf(writes);
    }

    /** {@code v} of every loser row in a mirror's conflict log. */
    static Set<String> loserTokens(PgServer server) throws SQLException {
        Set<String> out = new HashSet<>();
        try (Connection c = server.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT loser_row->>'v' FROM mirror.conflict WHERE loser_row ? 'v'")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /**
     * Writes the history and every mirror's conflict log and row versions of {@code reg} to a file,
     * for the analysis of a failed check.
     */
    void dump(java.nio.file.Path file, List<String> mirrors, List<PgServer> servers) throws Exception {
        StringBuilder b = new StringBuilder("# history: mirror op key prev -> token (commit order per client)\n");
        for (Write w : writes()) {
            b.append(w.nanos()).append(' ').append(w.mirror()).append(' ').append(w.op()).append(" k=").append(w.key())
                    .append(' ').append(w.prev()).append(" -> ").append(w.token()).append('\n');
        }
        for (int i = 0; i < servers.size(); i++) {
            b.append("# conflicts on ").append(mirrors.get(i)).append(
                    ": id kind key loser(origin clock op v seq) winner(origin clock v)\n");
            try (Connection c = servers.get(i).connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id, kind, row_key::text, loser_origin, loser_clock, loser_op,"
                         + " loser_row->>'v', loser_seq, winner_origin, winner_clock, winner_row->>'v'"
                         + " FROM mirror.conflict ORDER BY id")) {
                while (rs.next()) {
                    for (int col = 1; col <= 11; col++) {
                        b.append(rs.getString(col)).append(col == 11 ? '\n' : ' ');
                    }
                }
            }
            b.append("# row versions on ").append(mirrors.get(i)).append('\n');
            try (Connection c = servers.get(i).connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT * FROM mirror.row_version ORDER BY tbl, pk")) {
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    for (int col = 1; col <= n; col++) {
                        b.append(rs.getString(col)).append(col == n ? '\n' : ' ');
                    }
                }
            }
        }
        java.nio.file.Files.createDirectories(file.getParent());
        java.nio.file.Files.writeString(file, b);
    }

    /** Conflict log entries per kind on one mirror. */
    static Map<String, Long> conflictKinds(PgServer server) throws SQLException {
        Map<String, Long> out = new TreeMap<>();
        try (Connection c = server.connect(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT kind, count(*) FROM mirror.conflict GROUP BY kind")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getLong(2));
            }
        }
        return out;
    }

    /**
     * Checks the history against the final rows (identical on all mirrors, checked before) and the
     * union of all mirrors' conflict-log losers.
     *
     * @return one line per violation; empty when the history is valid
     */
    List<String> check(Map<Integer, String> finals, int keys, Collection<String> losers) {
        List<Write> all = writes();
        Set<String> observed = new HashSet<>();
        Map<Integer, List<Write>> byKey = new TreeMap<>();
        for (Write w : all) {
            if (w.prev() != null) {
                observed.add(w.prev());
            }
            byKey.computeIfAbsent(w.key(), k -> new ArrayList<>()).add(w);
        }
        Set<String> loserSet = new HashSet<>(losers);
        List<String> problems = new ArrayList<>();
        for (Write w : all) {
            if (w.token() == null) {
                continue;
            }
            String f = finals.get(w.key());
            if (!w.token().equals(f) && !observed.contains(w.token()) && !loserSet.contains(w.token())) {
                problems.add("LOST " + w + ": not the final value (" + f + "), never overwritten in sequence, not in any"
                        + " conflict log; history of key " + w.key() + ": " + describe(byKey.get(w.key())));
            }
        }
        Map<Integer, Set<String>> possible = new HashMap<>();
        for (Write w : all) {
            if (w.token() != null) {
                possible.computeIfAbsent(w.key(), k -> new HashSet<>()).add(w.token());
            }
        }
        for (Map.Entry<Integer, String> e : indeterminate) {
            possible.computeIfAbsent(e.getKey(), k -> new HashSet<>()).add(e.getValue());
        }
        for (Write w : all) {
            if (w.prev() != null && !w.prev().equals(RegisterWorkload.initialToken(w.key()))
                    && !possible.getOrDefault(w.key(), Set.of()).contains(w.prev())) {
                problems.add("PHANTOM read " + w + ": it overwrote a value never written to key " + w.key());
            }
        }
        for (Map.Entry<Integer, String> f : finals.entrySet()) {
            if (loserSet.contains(f.getValue())) {
                problems.add("FALSE LOSER '" + f.getValue() + "': the final value of key " + f.getKey()
                        + " is also logged as a loser in a conflict log");
            }
            Set<String> p = possible.getOrDefault(f.getKey(), Set.of());
            if (!f.getValue().equals(RegisterWorkload.initialToken(f.getKey())) && !p.contains(f.getValue())) {
                problems.add("PHANTOM final value '" + f.getValue() + "' of key " + f.getKey()
                        + " was never written to that key");
            }
            if (f.getKey() < 0 || f.getKey() >= keys) {
                problems.add("PHANTOM key " + f.getKey());
            }
        }
        return problems;
    }

    /** Writes, keys written, and how many tokens ended as final values. */
    String summary(Map<Integer, String> finals) {
        List<Write> all = writes();
        Map<Op, Long> perOp = new TreeMap<>();
        Map<String, Long> perMirror = new TreeMap<>();
        for (Write w : all) {
            perOp.merge(w.op(), 1L, Long::sum);
            perMirror.merge(w.mirror(), 1L, Long::sum);
        }
        return all.size() + " committed writes " + perOp + " per mirror " + perMirror + ", " + indeterminate.size()
                + " indeterminate, " + finals.size() + " rows at the end";
    }

    private static String describe(List<Write> history) {
        StringBuilder b = new StringBuilder();
        List<Write> sorted = new ArrayList<>(history);
        sorted.sort((a, c) -> Long.compare(a.nanos(), c.nanos()));
        for (Write w : sorted) {
            b.append("\n    ").append(w.mirror()).append(' ').append(w.op()).append(' ').append(w.prev()).append(" -> ")
                    .append(w.token());
        }
        return b.toString();
    }
}
