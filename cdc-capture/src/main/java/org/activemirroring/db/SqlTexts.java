package org.activemirroring.db;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * SQL texts the apply and capture paths send again and again, built once: a multi-statement is
 * joined once per distinct sequence of statements, a per-table query once per table shape. The
 * same String instance then also finds the driver's prepared statement at once (its hash is
 * cached, equality is identity). Building them afresh for every apply was about a third of a
 * receiver's allocations at 200 commits/s. Both caches are bounded: past their size they start
 * over, which only costs building again.
 */
public final class SqlTexts {
    static final int MAX_ENTRIES = 4096;
    private static final Map<List<String>, String> JOINED = new ConcurrentHashMap<>();

    private SqlTexts() {
    }

    /** The statements joined with {@code "; "}, the same instance for equal sequences. */
    public static String join(List<String> statements) {
        String sql = JOINED.get(statements);
        if (sql == null) {
            sql = String.join("; ", statements);
            putBounded(JOINED, List.copyOf(statements), sql);
        }
        return sql;
    }

    /** A cache of texts per key (e.g. per table shape), bounded like {@link #join}. */
    public static final class PerKey<K> {
        private final Map<K, String> texts = new ConcurrentHashMap<>();
        private final Function<K, String> build;

        public PerKey(Function<K, String> build) {
            this.build = build;
        }

        public String get(K key) {
            String sql = texts.get(key);
            if (sql == null) {
                sql = build.apply(key);
                putBounded(texts, key, sql);
            }
            return sql;
        }
    }

    private static <K> void putBounded(Map<K, String> map, K key, String value) {
        if (map.size() >= MAX_ENTRIES) {
            map.clear();
        }
        map.put(key, value);
    }
}
